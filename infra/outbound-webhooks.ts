import { lambda, logLevel } from "./config";
import { databaseUrl } from "./database";

/**
 * Outbound webhooks: the delivery queue, its dead-letter queue, and the deliverer subscribed to
 * it, apart from the send queue and the sender, so that customers' slow or dead endpoints never
 * hold up sending or SES ingestion. Every function that emits events (API, sender, sweeper, the
 * deliverer itself for retries) is linked to the queue; the sweeper picks up what a crash left
 * and retries due later than SQS's 15-minute delay.
 */

/**
 * The deliverer's timeout: a batch of 50 to one endpoint at 8 at a time, each attempt up to
 * 10 s (7 rounds, 70 s at worst), and their records.
 */
export const DELIVERER_TIMEOUT = "2 minutes";
const DELIVERY_RETRIES = 5;

export const webhookDlq = new sst.aws.Queue("WebhookDlq", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

export const webhookQueue = new sst.aws.Queue("WebhookQueue", {
  visibilityTimeout: "13 minutes",
  dlq: { queue: webhookDlq.arn, retry: DELIVERY_RETRIES },
});

export const webhookDelivererSubscriber = webhookQueue.subscribe(
  {
    ...lambda,
    handler: "packages/functions/src/webhook-deliverer.handler",
    timeout: DELIVERER_TIMEOUT,
    memory: "512 MB",
    link: [databaseUrl, webhookQueue],
    environment: { LOG_LEVEL: logLevel },
  },
  {
    // Batches of 50 (gathered for up to a second): one statement leases them, one records them.
    batch: { size: 50, window: "1 second", partialResponses: true },
    // Deliverers at once: customers' endpoints share this, not the sender's concurrency.
    transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: 10 } } },
  },
);

export const webhookDeliverer = webhookDelivererSubscriber.nodes.function;
