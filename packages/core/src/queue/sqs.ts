import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SendJob, SendQueue } from ".";

/** SQS: `SendMessageBatch` in tens; entries SQS refused are retried once, then the call fails. */
export function sqsQueue(queueUrl: string, client = new SQSClient({})): SendQueue {
  return {
    async send(jobs) {
      for (let i = 0; i < jobs.length; i += 10) {
        let entries = jobs.slice(i, i + 10).map((job, n) => ({ Id: String(n), MessageBody: JSON.stringify(job satisfies SendJob) }));
        for (let attempt = 0; entries.length; attempt++) {
          const result = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
          const failed = new Set((result.Failed ?? []).map((f) => f.Id));
          if (!failed.size) break;
          if (attempt >= 1) throw new Error(`SQS refused ${failed.size} messages: ${(result.Failed ?? []).map((f) => f.Code).join(", ")}`);
          entries = entries.filter((e) => failed.has(e.Id));
        }
      }
    },
  };
}
