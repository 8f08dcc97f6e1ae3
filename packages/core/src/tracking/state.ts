import { sql } from "drizzle-orm";
import * as Database from "../database";
import type { Counter } from "../stats";
import * as Stats from "../stats";
import * as Suppression from "../suppression";

/**
 * State that only moves forward, so events applied in any order, any number of times, end in
 * the same place: milestones of an email keep their earliest time and count once; statuses of
 * contacts and of campaign contacts only go up a precedence order.
 */

export interface MessageRef {
  id: string;
  workspaceId: string;
  campaignId: string;
  contactId: string;
  nodeId: string;
}

export type Milestone = "delivered" | "opened" | "clicked" | "replied" | "bounced" | "complained" | "unsubscribed" | "failed";

/**
 * Record that `message` reached `milestone` at `at`. The first time it counts once, in the bucket
 * of `at`; an earlier occurrence arriving late moves that count to its own bucket. Returns
 * whether this was the first time.
 */
export async function reach(message: MessageRef, milestone: Milestone, at: Date): Promise<boolean> {
  const column = sql.raw(`${milestone}_at`);
  const [row] = await Database.rows<{ previous: Date | string | null }>(sql`
    WITH old AS (SELECT ${column} AS previous FROM message WHERE id = ${message.id} FOR UPDATE)
    UPDATE message SET ${column} = LEAST(coalesce(message.${column}, ${at}), ${at})
    FROM old WHERE message.id = ${message.id}
    RETURNING old.previous`);
  if (!row) return false;
  const counter = milestone as Counter;
  if (row.previous === null) {
    await Stats.bump(message.campaignId, message.nodeId, at, { [counter]: 1 });
    return true;
  }
  const previous = Database.toDate(row.previous);
  if (at < previous) {
    await Stats.bump(message.campaignId, message.nodeId, previous, { [counter]: -1 });
    await Stats.bump(message.campaignId, message.nodeId, at, { [counter]: 1 });
  }
  return false;
}

/** Contact statuses, weakest first: a status only ever moves right. */
const CONTACT_ORDER = ["active", "unsubscribed", "bounced", "complained"] as const;
/** Final statuses of a campaign contact, weakest first (open ones are below all of them). */
const SEQUENCE_ORDER = ["pending", "in_progress", "completed", "failed", "replied", "unsubscribed", "bounced"] as const;

const rank = (order: readonly string[], column: string) =>
  sql.raw(`CASE ${column} ${order.map((s, i) => `WHEN '${s}' THEN ${i}`).join(" ")} ELSE -1 END`);

/** Move a campaign contact up to `status` (never down), ending its sequence. */
export async function finishSequence(
  campaignId: string,
  contactId: string,
  status: "failed" | "replied" | "unsubscribed" | "bounced",
  at: Date,
  error?: string,
): Promise<boolean> {
  const rows = await Database.rows<{ contact_id: string }>(sql`
    UPDATE campaign_contact
    SET status = ${status}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${at}
        ${error ? sql`, error = ${error}` : sql``}
    WHERE campaign_id = ${campaignId} AND contact_id = ${contactId}
      AND ${rank(SEQUENCE_ORDER, "status")} < ${SEQUENCE_ORDER.indexOf(status)}
    RETURNING contact_id`);
  return rows.length > 0;
}

/**
 * A contact who must never be emailed again (hard bounce, complaint, unsubscribe) after an event
 * on `message`: its address joins the suppression list (so it stays suppressed if the contact is
 * deleted and created again), its status goes up to `status`, and every sequence it is still in,
 * in any campaign of the workspace, stops. Returns the campaigns where a sequence stopped (they
 * may now be complete).
 */
export async function suppress(
  message: MessageRef,
  status: "unsubscribed" | "bounced" | "complained",
  sequenceStatus: "unsubscribed" | "bounced",
  at: Date,
): Promise<string[]> {
  const { workspaceId, contactId } = message;
  await Suppression.fromMessage(message.id, status, at);
  await Database.rows(sql`
    UPDATE contact SET status = ${status}, updated_at = ${at}
    WHERE id = ${contactId} AND workspace_id = ${workspaceId}
      AND ${rank(CONTACT_ORDER, "status")} < ${CONTACT_ORDER.indexOf(status)}`);
  const stopped = await Database.rows<{ campaign_id: string }>(sql`
    UPDATE campaign_contact
    SET status = ${sequenceStatus}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${at}
    WHERE contact_id = ${contactId} AND workspace_id = ${workspaceId} AND status IN ('pending', 'in_progress')
    RETURNING campaign_id`);
  return stopped.map((r) => r.campaign_id);
}
