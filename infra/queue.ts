/**
 * The send queue between tick and sender (its subscriber is in infra/sender.ts). A job that fails
 * `SEND_RETRIES` deliveries lands in the dead-letter queue, which has an alarm (infra/alarms.ts).
 */

/** The sender's timeout; the queue's visibility timeout must be at least 6 times it. */
export const SENDER_TIMEOUT = "30 seconds";
const SEND_RETRIES = 5;

export const sendDlq = new sst.aws.Queue("SendDlq", {
  // Kept 14 days (the SQS maximum) for investigation and redrive.
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

export const sendQueue = new sst.aws.Queue("SendQueue", {
  visibilityTimeout: "3 minutes",
  dlq: { queue: sendDlq.arn, retry: SEND_RETRIES },
});
