import * as v from "valibot";
import { port } from "../util/port";

/**
 * The send queue port: the tick puts one job per claimed step; the sender consumes them.
 * At-least-once (SQS standard queue): a job can arrive twice, late, or after its claim was
 * released; the sender checks its claim id against the database before doing anything.
 */
export const jobSchema = v.object({
  v: v.literal(1),
  campaignId: v.pipe(v.string(), v.startsWith("cmp_")),
  contactId: v.pipe(v.string(), v.startsWith("con_")),
  nodeId: v.pipe(v.string(), v.nonEmpty()),
  claimId: v.pipe(v.string(), v.nonEmpty()),
});

export type SendJob = v.InferOutput<typeof jobSchema>;

export interface SendQueue {
  send(jobs: SendJob[]): Promise<void>;
}

export const { install, use } = port<SendQueue>("Send queue");

/** A message of a queue batch as a consumer gets it (SQS through Lambda, or the in-process queue). */
export interface QueueRecord {
  messageId: string;
  body: string;
}

/** A consumer's answer to a batch: only the records named here come back (SQS partial batch responses). */
export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}
