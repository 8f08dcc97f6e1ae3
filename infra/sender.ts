import { apiUrl } from "./api";
import { lambda, logLevel, settings } from "./config";
import { databaseUrl } from "./database";
import { configurationSets, sesIdentities } from "./email";
import { webhookQueue } from "./outbound-webhooks";
import { SENDER_TIMEOUT, sendQueue } from "./queue";
import { scheduling } from "./scheduler";

/**
 * What the sender needs to compose and send (`Resource.Sending`): the public URL (unsubscribe
 * links) and the configuration set of each tracking combination. Linking it grants sending
 * through SES with any identity of the account and these configuration sets.
 */
export const sending = new sst.Linkable("Sending", {
  properties: {
    publicUrl: apiUrl,
    configurationSets: {
      none: configurationSets.none.configurationSetName,
      opens: configurationSets.opens.configurationSetName,
      clicks: configurationSets.clicks.configurationSetName,
      full: configurationSets.full.configurationSetName,
    },
  },
  include: [
    sst.aws.permission({
      actions: ["ses:SendEmail", "ses:SendRawEmail"],
      resources: [
        sesIdentities,
        configurationSets.none.arn,
        configurationSets.opens.arn,
        configurationSets.clicks.arn,
        configurationSets.full.arn,
      ],
    }),
    // The sweeper reads whether SES has paused the account's sending (and the sender, when SES
    // refuses a send as paused): GetAccount has no resource to scope it to.
    sst.aws.permission({ actions: ["ses:GetAccount"], resources: ["*"] }),
  ],
});

/**
 * The sender: SQS → Lambda in batches of 10 with partial batch responses (only the failed
 * records come back). `maximumConcurrency` caps the senders running at once, and so the rate
 * asked of SES: raise SENDER_MAX_CONCURRENCY with the account's sending rate.
 */
export const senderSubscriber = sendQueue.subscribe(
  {
    ...lambda,
    handler: "packages/functions/src/sender.handler",
    timeout: SENDER_TIMEOUT,
    memory: "1024 MB",
    link: [databaseUrl, scheduling, sending, webhookQueue],
    environment: { LOG_LEVEL: logLevel },
  },
  {
    batch: { size: 10, partialResponses: true },
    transform: {
      eventSourceMapping: { scalingConfig: { maximumConcurrency: settings.senderConcurrency } },
    },
  },
);

export const sender = senderSubscriber.nodes.function;
