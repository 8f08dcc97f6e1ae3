import { type SQL, sql } from "drizzle-orm";
import * as Database from "../database";
import { col, pick, select, unnest } from "../database/typed";
import { messageTable } from "./message.sql";

export * as Condition from "./condition";
export { ERASED_SUBJECT, type Exported, eraseRecipient, toContact } from "./erase";
export * as Machine from "./machine";
export { messageTable } from "./message.sql";
export {
  applyMilestone,
  applyMilestones,
  type FastEvent,
  type FastMilestone,
  type FastResult,
  judge,
  type Milestone,
  machineMetadata,
  reach,
} from "./milestone";

/**
 * The one owner of the statements on `message`: an email of a sequence to one contact, at most
 * one per (campaign, contact, node), ever. Rows are typed by the table (`Pick<Message, …>`), so a
 * renamed column fails the type-check here, not at run time somewhere else. Set-based statements
 * that join `message` for another module's purpose (the evidence sweep, listings) stay with that
 * module; what they read is still named through this table.
 */
export type Message = typeof messageTable.$inferSelect;

/** What names an email and where it belongs. */
export type Ref = Pick<Message, "id" | "workspaceId" | "campaignId" | "contactId" | "nodeId">;
const REF = ["id", "workspaceId", "campaignId", "contactId", "nodeId"] as const;

const t = messageTable;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** An email about to be handed to SES, reserved under its unique key before the call. */
export type Reservation = Pick<
  Message,
  "id" | "contactId" | "nodeId" | "emailAccountId" | "toEmail" | "subject" | "claimId" | "unsubscribeTokenHash"
> &
  Partial<Pick<Message, "variantId">>;

/** Reserve emails (`sending`) for one campaign, each from its account, in one statement. */
export async function reserve(
  campaign: { id: string; workspaceId: string },
  reservations: readonly Reservation[],
  at: Date,
): Promise<void> {
  if (!reservations.length) return;
  await Database.rows(sql`
    INSERT INTO message (${col(t.id)}, ${col(t.workspaceId)}, ${col(t.campaignId)}, ${col(t.contactId)}, ${col(t.nodeId)},
                         ${col(t.emailAccountId)}, ${col(t.toEmail)}, ${col(t.subject)}, ${col(t.variantId)}, ${col(t.status)}, ${col(t.claimId)},
                         ${col(t.unsubscribeTokenHash)}, ${col(t.createdAt)})
    SELECT v.id, ${campaign.workspaceId}, ${campaign.id}, v.contact_id, v.node_id, v.account_id, v.to_email, v.subject, v.variant_id,
           'sending', v.claim_id, v.token_hash, ${at}
    FROM ${unnest(reservations, {
      id: ["text", (r) => r.id],
      contact_id: ["text", (r) => r.contactId],
      node_id: ["text", (r) => r.nodeId],
      account_id: ["text", (r) => r.emailAccountId],
      to_email: ["text", (r) => r.toEmail],
      subject: ["text", (r) => r.subject],
      variant_id: ["text", (r) => r.variantId ?? null],
      claim_id: ["text", (r) => r.claimId],
      token_hash: ["text", (r) => r.unsubscribeTokenHash],
    })}`);
}

export interface Acceptance {
  messageId: string;
  sesMessageId: string;
  at: Date;
  /** When SES's `Send` event for it reached us, when that is what settles it. */
  sendEventAt?: Date;
}

export type SentRow = Ref & Pick<Message, "sesMessageId" | "emailAccountId" | "variantId"> & { sentAt: Date };

/**
 * SES accepted these emails: `sending` → `sent`. Only emails still `sending` move, so the sender
 * and SES's `Send` event racing each other settle an email once; returns the ones settled now.
 */
export async function markSent(accepted: readonly Acceptance[]): Promise<SentRow[]> {
  if (!accepted.length) return [];
  const picked = pick(t, [...REF, "sesMessageId", "emailAccountId", "variantId", "sentAt"], "m");
  const rows = await select(
    picked,
    sql`
    UPDATE message m SET ${col(t.status)} = 'sent', ${col(t.sesMessageId)} = coalesce(${col(t.sesMessageId, "m")}, v.ses),
           ${col(t.sentAt)} = v.at, ${col(t.sendEventAt)} = coalesce(${col(t.sendEventAt, "m")}, v.event_at)
    FROM ${unnest(accepted, {
      id: ["text", (a) => a.messageId],
      ses: ["text", (a) => a.sesMessageId],
      at: ["timestamptz", (a) => a.at],
      event_at: ["timestamptz", (a) => a.sendEventAt ?? null],
    })}
    WHERE ${col(t.id, "m")} = v.id AND ${col(t.status, "m")} = 'sending'
    RETURNING ${picked.list}`,
  );
  return rows as SentRow[];
}

/** SES refused it for good. */
export async function fail(id: string, error: string, at: Date): Promise<void> {
  await Database.rows(sql`
    UPDATE message SET ${col(t.status)} = 'failed', ${col(t.error)} = ${error}, ${col(t.failedAt)} = ${at}
    WHERE ${col(t.id)} = ${id} AND ${col(t.status)} = 'sending'`);
}

/** SES refused an email it had taken (a `Reject` or `Rendering Failure` event), whatever its status. */
export async function refused(id: string, reason: string): Promise<void> {
  await Database.rows(sql`UPDATE message SET ${col(t.status)} = 'failed', ${col(t.error)} = ${reason} WHERE ${col(t.id)} = ${id}`);
}

/** SES's `Send` event for this email reached us at `at`: true the first time. */
export async function sawSendEvent(id: string, at: Date): Promise<boolean> {
  const rows = await Database.rows(sql`
    UPDATE message SET ${col(t.sendEventAt)} = ${at} WHERE ${col(t.id)} = ${id} AND ${col(t.sendEventAt)} IS NULL RETURNING 1`);
  return rows.length > 0;
}

/** SES surely did not take it (throttled, account paused): as if it had never been reserved. */
export async function forget(id: string): Promise<void> {
  await Database.rows(sql`DELETE FROM message WHERE ${col(t.id)} = ${id} AND ${col(t.status)} = 'sending'`);
}

export type Found = Ref & Pick<Message, "status" | "sesMessageId">;

/**
 * The email an SES event or a reply is about: by our id (SES's id must agree once we know it),
 * or by SES's id alone.
 */
export async function find(by: { id: string; sesMessageId: string } | { sesMessageId: string }): Promise<Found | undefined> {
  const picked = pick(t, [...REF, "status", "sesMessageId"]);
  const where = "id" in by ? sql`${col(t.id)} = ${by.id}` : sql`${col(t.sesMessageId)} = ${by.sesMessageId}`;
  const [row] = await select(picked, sql`SELECT ${picked.list} FROM message WHERE ${where}`);
  if (!row) return undefined;
  if (row.sesMessageId && row.sesMessageId !== by.sesMessageId) return undefined;
  return row;
}

/** The email whose one-click unsubscribe token hashes to `hash`. */
export async function byUnsubscribeHash(hash: string): Promise<(Ref & Pick<Message, "toEmail" | "unsubscribedAt">) | undefined> {
  const picked = pick(t, [...REF, "toEmail", "unsubscribedAt"]);
  const [row] = await select(picked, sql`SELECT ${picked.list} FROM message WHERE ${col(t.unsubscribeTokenHash)} = ${hash}`);
  return row;
}

/** The latest email of a campaign to a contact that SES did not refuse (a reply reported by hand). */
export async function latestTo(
  workspaceId: string,
  campaignId: string,
  contactId: string,
): Promise<(Found & Pick<Message, "createdAt">) | undefined> {
  const picked = pick(t, [...REF, "status", "sesMessageId", "createdAt"]);
  const [row] = await select(
    picked,
    sql`SELECT ${picked.list} FROM message
        WHERE ${col(t.workspaceId)} = ${workspaceId} AND ${col(t.campaignId)} = ${campaignId} AND ${col(t.contactId)} = ${contactId} AND ${col(t.status)} <> 'failed'
        ORDER BY ${col(t.createdAt)} DESC LIMIT 1`,
  );
  return row;
}

/**
 * Emails still `sending` past `olderThan` with no error yet: marked as of unknown outcome (never
 * resent). Returns them, once.
 */
export async function markUnknown(olderThan: Date, error: string): Promise<Ref[]> {
  const picked = pick(t, REF);
  return select(
    picked,
    sql`UPDATE message SET ${col(t.error)} = ${error}
        WHERE ${col(t.status)} = 'sending' AND ${col(t.error)} IS NULL AND ${col(t.createdAt)} < ${olderThan}
        RETURNING ${picked.list}`,
  );
}

/**
 * The send counts the limits need, as SQL to embed in the statement that decides (the tick's
 * budget, the sender's reservation under the campaign lock): one definition, so both count the
 * same emails. `campaignId` is an SQL expression (a parameter or a column).
 */
export function recentCounts(campaignId: SQL, now: Date): { lastHour: SQL; lastMinute: SQL } {
  const since = (ms: number) => new Date(now.getTime() - ms);
  return {
    lastHour: sql`(SELECT count(*)::int FROM message WHERE ${col(t.campaignId)} = ${campaignId} AND ${col(t.createdAt)} > ${since(HOUR)})`,
    lastMinute: sql`(SELECT count(*)::int FROM message WHERE ${col(t.campaignId)} = ${campaignId} AND ${col(t.createdAt)} > ${since(MINUTE)})`,
  };
}

/**
 * A sending account's counts across all campaigns: emails reserved since `dayStart` (its day) and
 * when it last reserved one (its minimum gap), as SQL to embed; `accountId` is an SQL expression.
 */
export function accountCounts(accountId: SQL, dayStart: Date): { day: SQL; lastAt: SQL } {
  return {
    day: sql`(SELECT count(*)::int FROM message WHERE ${col(t.emailAccountId)} = ${accountId} AND ${col(t.createdAt)} >= ${dayStart})`,
    lastAt: sql`(SELECT max(${col(t.createdAt)}) FROM message WHERE ${col(t.emailAccountId)} = ${accountId})`,
  };
}

/** What a threaded follow-up needs of the contact's previous email in the campaign. */
export type Previous = Pick<Message, "id" | "nodeId" | "emailAccountId" | "subject" | "sesMessageId">;

/** At most this many emails a minute, so an hour's budget is spread over the hour. */
export const perMinuteLimit = (maxPerHour: number) => Math.ceil(maxPerHour / 60);

/** One campaign's emails by sending account: how many were sent, delivered, bounced, replied to. */
export interface AccountCounts {
  emailAccountId: string;
  sent: number;
  delivered: number;
  bounced: number;
  replied: number;
}

export async function countsByAccount(campaignId: string): Promise<AccountCounts[]> {
  return Database.rows<AccountCounts>(sql`
    SELECT ${col(t.emailAccountId)} AS "emailAccountId", count(${col(t.sentAt)})::int AS sent,
           count(${col(t.deliveredAt)})::int AS delivered, count(${col(t.bouncedAt)})::int AS bounced,
           count(${col(t.repliedAt)})::int AS replied
    FROM message WHERE ${col(t.campaignId)} = ${campaignId}
    GROUP BY ${col(t.emailAccountId)}`);
}
