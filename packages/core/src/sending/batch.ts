import * as v from "valibot";
import * as Log from "../log";
import { type BatchResponse, jobSchema, type QueueRecord, type SendJob } from "../queue";
import * as Fault from "./fault";
import { sendCampaignJobs } from "./sender";

/**
 * The queue's side of the sender: a batch from SQS (through Lambda) or the in-process queue.
 * Jobs are grouped by campaign and the groups handled concurrently; records whose group failed
 * are reported so only they come back. A record that is not a valid job is reported too: after
 * the queue's retries it lands in the dead-letter queue instead of looping.
 */
export async function handle(records: QueueRecord[]): Promise<BatchResponse> {
  const failures: Array<{ itemIdentifier: string }> = [];
  const groups = new Map<string, Array<{ record: QueueRecord; job: SendJob }>>();
  for (const record of records) {
    let job: SendJob;
    try {
      job = v.parse(jobSchema, JSON.parse(record.body));
    } catch {
      Log.error("invalid send job", { queueMessageId: record.messageId });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    groups.set(job.campaignId, [...(groups.get(job.campaignId) ?? []), { record, job }]);
  }
  const settled = await Promise.allSettled(
    [...groups].map(async ([campaignId, items]) => {
      // The same job twice in one batch (duplicate delivery): the second one is simply stale.
      const seen = new Set<string>();
      const unique = items.filter(({ job }) => !seen.has(job.claimId) && seen.add(job.claimId));
      try {
        await sendCampaignJobs(
          campaignId,
          unique.map((i) => i.job),
        );
      } catch (error) {
        // A crash injected by a test stands for the process dying: the whole batch comes back.
        if (error instanceof Fault.InjectedCrash) throw error;
        Log.error("send failed", { campaignId, error });
        for (const { record } of items) failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  const crash = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (crash) throw crash.reason;
  return { batchItemFailures: failures };
}
