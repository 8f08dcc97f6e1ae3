import * as Log from "../log";
import type { BatchResponse, QueueRecord } from "../queue";
import { applySesEvents } from "./ses-events";

/**
 * SES events from the `SesEvents` topic through its SQS queue (infra/ses-events.ts), a batch per
 * Lambda invocation. The queue's policy admits the topic alone, so a record is authentic by
 * where it comes from: no signature to check (the HTTPS webhook, tracking/webhook.ts, checks
 * SNS's). The subscription delivers raw (the body is SES's event record); a body that is a whole
 * SNS notification (raw delivery off) is read too. The batch's deliveries, opens and clicks are
 * applied in one round trip (`applySesEvents`); only records whose event failed come back, and
 * after the queue's retries land in its dead-letter queue.
 */
export async function handle(records: readonly QueueRecord[]): Promise<BatchResponse> {
  const events = records.map((record) => eventOf(record));
  const results = await applySesEvents(events);
  const batchItemFailures: BatchResponse["batchItemFailures"] = [];
  results.forEach((result, i) => {
    if (typeof result === "string") return;
    Log.error("SES event failed; it comes back", { queueMessageId: records[i]!.messageId, error: result.error });
    batchItemFailures.push({ itemIdentifier: records[i]!.messageId });
  });
  return { batchItemFailures };
}

/** The SES event record a queue message carries (undefined when it is not JSON: acknowledged as not understood). */
function eventOf(record: QueueRecord): unknown {
  try {
    const body = JSON.parse(record.body) as { Type?: unknown; Message?: unknown };
    if (body?.Type === "Notification" && typeof body.Message === "string") return JSON.parse(body.Message);
    return body;
  } catch {
    Log.warn("SES event queue message is not JSON; acknowledged", { queueMessageId: record.messageId });
    return undefined;
  }
}
