import type { SQSClient } from "@aws-sdk/client-sqs";
import { type DeliveryQueue, encode } from "./queue";

/**
 * The delivery queue on SQS: `SendMessageBatch` in tens, `DelaySeconds` for retries (SQS holds a
 * message 15 minutes at most; later retries are the sweeper's). The SDK is loaded on first use,
 * so the API's cold start does not pay for it.
 */
export function sqsDeliveryQueue(queueUrl: string, client?: SQSClient): DeliveryQueue {
  let sqs:
    | Promise<{ client: SQSClient; SendMessageBatchCommand: typeof import("@aws-sdk/client-sqs").SendMessageBatchCommand }>
    | undefined;
  const load = () => {
    sqs ??= import("@aws-sdk/client-sqs").then((m) => ({
      client: client ?? new m.SQSClient({}),
      SendMessageBatchCommand: m.SendMessageBatchCommand,
    }));
    return sqs;
  };
  return {
    async send(deliveryIds, delaySeconds = 0) {
      const { client: c, SendMessageBatchCommand } = await load();
      const delay = Math.min(900, Math.max(0, Math.round(delaySeconds)));
      for (let i = 0; i < deliveryIds.length; i += 10) {
        const entries = deliveryIds.slice(i, i + 10).map((id, n) => ({ Id: String(n), MessageBody: encode(id), DelaySeconds: delay }));
        const result = await c.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        if (result.Failed?.length)
          throw new Error(`SQS refused ${result.Failed.length} webhook deliveries: ${result.Failed.map((f) => f.Code).join(", ")}`);
      }
    },
  };
}
