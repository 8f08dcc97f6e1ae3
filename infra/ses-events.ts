import { lambda, logLevel } from "./config";
import { databaseUrl } from "./database";
import { sesEvents } from "./events";
import { webhookQueue } from "./outbound-webhooks";
import { scheduling } from "./scheduler";

/**
 * SES events: the `SesEvents` topic → an SQS queue → a consumer in batches (docs/decisions.md,
 * "SES events through a queue"). Batches are what make ingestion cheap: a batch's deliveries,
 * opens and clicks cost one database round trip and one commit (tracking/ses-queue.ts). The
 * queue also keeps events through a database outage for its retention (4 days) where SNS's HTTPS
 * retries give up within the hour, and the queue's policy admits this topic alone, so no SNS
 * signature needs checking per event.
 */

/** The consumer's timeout; the queue's visibility timeout is at least 6 times it plus the batching window. */
export const SES_EVENTS_TIMEOUT = "30 seconds";
const SES_EVENT_RETRIES = 5;

const caller = aws.getCallerIdentityOutput({});

export const sesEventsDlq = new sst.aws.Queue("SesEventsDlq", {
  // Kept 14 days (the SQS maximum) for investigation and redrive.
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

export const sesEventsQueue = new sst.aws.Queue("SesEventsQueue", {
  visibilityTimeout: "4 minutes",
  dlq: { queue: sesEventsDlq.arn, retry: SES_EVENT_RETRIES },
  transform: { queue: { messageRetentionSeconds: 4 * 24 * 3600 } },
});

/** Only the SesEvents topic (of this account) may send to the queue. */
export const sesEventsQueuePolicy = new aws.sqs.QueuePolicy("SesEventsQueuePolicy", {
  queueUrl: sesEventsQueue.url,
  policy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowSesEventsTopic",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: sesEventsQueue.arn,
        Condition: { ArnEquals: { "aws:SourceArn": sesEvents.arn }, StringEquals: { "aws:SourceAccount": caller.accountId } },
      },
    ],
  }),
});

/** Raw delivery: the message body is SES's event record itself (no SNS envelope to unwrap). */
export const sesEventsSubscription = new aws.sns.TopicSubscription(
  "SesEventsToQueue",
  { topic: sesEvents.arn, protocol: "sqs", endpoint: sesEventsQueue.arn, rawMessageDelivery: true },
  { dependsOn: [sesEventsQueuePolicy] },
);

export const sesEventsSubscriber = sesEventsQueue.subscribe(
  {
    ...lambda,
    handler: "packages/functions/src/ses-events.handler",
    timeout: SES_EVENTS_TIMEOUT,
    memory: "1024 MB",
    // Events complete campaigns (their schedules removed) and emit outbound webhook events.
    link: [databaseUrl, scheduling, webhookQueue],
    environment: { LOG_LEVEL: logLevel },
  },
  {
    // Up to 50 events gathered for at most a second: one round trip and one commit for their
    // deliveries, opens and clicks. Only failed records come back.
    batch: { size: 50, window: "1 second", partialResponses: true },
    // Consumers at once (each holds one database connection): enough for SES's peaks, gentle on Neon.
    transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: 10 } } },
  },
);

export const sesEventsConsumer = sesEventsSubscriber.nodes.function;
