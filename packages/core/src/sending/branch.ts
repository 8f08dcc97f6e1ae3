import { sql } from "drizzle-orm";
import * as Database from "../database";
import { unnest } from "../database/typed";
import * as Message from "../message";
import type { SendJob } from "../queue";
import { addDelay, type DelayCalendar, type SendWindow } from "../schedule";
import type * as Workflow from "../workflow";
import { type Next, nextAfter } from "./progress";

/**
 * Conditions: a contact waits at a condition node from the instant it reaches it (`since`). The
 * answer depends only on when things happened, never on when a tick came by:
 *
 * - "yes" at max(E, since), where E is the earliest time the event happened to any email of this
 *   campaign already sent to the contact (before it reached the node too), if E ≤ the deadline;
 * - "no" at the deadline: `since` + `withinDays` (business days with `businessDays`, which pass
 *   over weekends, public holidays and skipped dates like a business-day delay), in the contact's
 *   timezone.
 *
 * The step is due when it is reached, then at its deadline; the event's own statement makes it due
 * at once (`Message.Condition.wakeText`). The sender answers it when the tick claims it, and the
 * contact moves on from the answer's instant (delays count from there).
 */

export type Answered = { answer: Workflow.Answer; at: Date } | { waitUntil: Date };

/** The answer of `condition` for a contact that reached it at `since`, given when the event happened, as of `now`. */
export function answerOf(
  condition: Workflow.ConditionNode,
  since: Date,
  happenedAt: Date | null,
  now: Date,
  calendar: DelayCalendar,
): Answered {
  const { withinDays, businessDays } = condition.data;
  const deadline = addDelay(since, { days: withinDays, hours: 0, businessDays }, calendar);
  if (happenedAt && happenedAt <= deadline) {
    const at = happenedAt > since ? happenedAt : since;
    if (at <= now) return { answer: "yes", at };
    return { waitUntil: at };
  }
  if (now >= deadline) return { answer: "no", at: deadline };
  return { waitUntil: deadline };
}

export interface Waiting {
  job: SendJob;
  node: Workflow.ConditionNode;
  window: SendWindow;
}

/**
 * Answer the conditions of these claimed steps (their rows are locked by the caller's
 * transaction): move each contact on along its answer, or give the step back until its deadline.
 * Two reads and at most two statements whatever the number. Returns whether a contact finished.
 */
export async function answerConditions(
  campaignId: string,
  workflow: Workflow.Workflow,
  waiting: readonly Waiting[],
  now: Date,
): Promise<{ completed: boolean }> {
  if (!waiting.length) return { completed: false };
  const ids = waiting.map((w) => w.job.contactId);
  const happened = await Message.Condition.eventTimes(campaignId, ids);
  const sinceRows = await Database.rows<{ contact_id: string; waiting_since: string | Date | null }>(sql`
    SELECT contact_id, waiting_since FROM campaign_contact
    WHERE campaign_id = ${campaignId} AND contact_id = ANY(${Database.array(ids, "text")})`);
  const since = new Map(sinceRows.map((r) => [r.contact_id, r.waiting_since === null ? null : Database.toDate(r.waiting_since)]));

  const waits: Array<{ job: SendJob; until: Date }> = [];
  const moves: Array<{ job: SendJob; answer: Workflow.Answer; at: Date; next: Next }> = [];
  for (const { job, node, window } of waiting) {
    const reached = since.get(job.contactId) ?? now;
    const answered = answerOf(node, reached, happened.get(job.contactId)?.[node.data.event] ?? null, now, window);
    if ("waitUntil" in answered) waits.push({ job, until: answered.waitUntil });
    else moves.push({ job, ...answered, next: nextAfter(workflow, window, node.id, answered.at, answered.answer) });
  }
  if (waits.length) {
    await Database.rows(sql`
      UPDATE campaign_contact cc SET next_run_at = v.until, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
      FROM ${unnest(waits, { claim_id: ["text", (w) => w.job.claimId], until: ["timestamptz", (w) => w.until] })}
      WHERE cc.campaign_id = ${campaignId} AND cc.claim_id = v.claim_id`);
  }
  if (moves.length) {
    await Database.rows(sql`
      UPDATE campaign_contact cc
      SET status = v.status, current_node_id = v.next_node, next_run_at = v.next_at, waiting_for = v.waiting_for,
          waiting_since = v.since, path = cc.path || v.step, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
      FROM ${unnest(moves, {
        claim_id: ["text", (m) => m.job.claimId],
        status: ["text", (m) => m.next.status],
        next_node: ["text", (m) => m.next.nodeId],
        next_at: ["timestamptz", (m) => m.next.at],
        waiting_for: ["text", (m) => m.next.waitingFor],
        since: ["timestamptz", (m) => m.next.since],
        step: ["jsonb", (m) => JSON.stringify([{ nodeId: m.job.nodeId, answer: m.answer, at: m.at.toISOString() }])],
      })}
      WHERE cc.campaign_id = ${campaignId} AND cc.claim_id = v.claim_id`);
  }
  return { completed: moves.some((m) => m.next.status === "completed") };
}
