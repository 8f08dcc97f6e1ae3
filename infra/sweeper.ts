import { lambda, logLevel } from "./config";
import { databaseUrl } from "./database";
import { webhookQueue } from "./outbound-webhooks";
import { scheduling } from "./scheduler";
import { sending } from "./sender";

/**
 * Every 5 minutes, repair what a crash can leave behind: claims whose queue message never
 * arrived, emails of unknown fate (settled by evidence; it may send a probe to SES's mailbox
 * simulator, hence `sending`), active campaigns without a schedule, finished campaigns still active,
 * and outbound webhook deliveries nobody is attempting (hence `WebhookQueue`).
 */
export const sweeper = new sst.aws.CronV2("Sweeper", {
  function: {
    ...lambda,
    handler: "packages/functions/src/sweeper.handler",
    timeout: "2 minutes",
    link: [databaseUrl, scheduling, sending, webhookQueue],
    environment: { LOG_LEVEL: logLevel },
  },
  schedule: "rate(5 minutes)",
});
