import { sql } from "drizzle-orm";
import { campaignContactTable } from "../campaign/campaign.sql";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import type * as Message from "../message";
import * as Suppression from "../suppression";

/**
 * State that only moves forward, so events applied in any order, any number of times, end in
 * the same place: milestones of an email keep their earliest time and count once; statuses of
 * contacts and of campaign contacts only go up a precedence order.
 */

export type MessageRef = Message.Ref;

export { type Milestone, reach } from "../message";

const STOPPED = pick(campaignContactTable, ["campaignId"]);

/** Contact statuses, weakest first: a status only ever moves right. */
const CONTACT_ORDER = ["active", "unsubscribed", "bounced", "complained"] as const;
/** Final statuses of a campaign contact, weakest first (open ones are below all of them). */
const SEQUENCE_ORDER = ["pending", "in_progress", "completed", "failed", "left_company", "replied", "unsubscribed", "bounced"] as const;

const rank = (order: readonly string[], column: string) =>
  sql.raw(`CASE ${column} ${order.map((s, i) => `WHEN '${s}' THEN ${i}`).join(" ")} ELSE -1 END`);

/** Move a campaign contact up to `status` (never down), ending its sequence. */
export async function finishSequence(
  campaignId: string,
  contactId: string,
  status: "failed" | "left_company" | "replied" | "unsubscribed" | "bounced",
  at: Date,
  error?: string,
): Promise<boolean> {
  const rows = await Database.rows(sql`
    UPDATE campaign_contact
    SET status = ${status}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${at}
        ${error ? sql`, error = ${error}` : sql``}
    WHERE campaign_id = ${campaignId} AND contact_id = ${contactId}
      AND ${rank(SEQUENCE_ORDER, "status")} < ${SEQUENCE_ORDER.indexOf(status)}
    RETURNING 1`);
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
  const stopped = await select(
    STOPPED,
    sql`
    UPDATE campaign_contact
    SET status = ${sequenceStatus}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${at}
    WHERE contact_id = ${contactId} AND workspace_id = ${workspaceId} AND status IN ('pending', 'in_progress')
    RETURNING ${STOPPED.list}`,
  );
  return stopped.map((r) => r.campaignId);
}
