import { type SQL, sql } from "drizzle-orm";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import { createId } from "../util/id";
import type { SuppressionReason } from "./suppression.sql";

export { SUPPRESSION_REASONS, type SuppressionReason, suppressionTable } from "./suppression.sql";

import { suppressionTable } from "./suppression.sql";

/**
 * The suppression list: what may never be emailed again in a workspace. Entries are added by the
 * events that call for them (hard bounce, complaint, unsubscribe: in the same transaction), by
 * hand, or when a contact is created or set with one of those statuses; they outlive contacts.
 * Addresses compare case-insensitively (by the SHA-256 of `lower(address)`, computed by
 * PostgreSQL so it always agrees with the contacts' `email_key`), and a domain entry matches every
 * address of its domain.
 */

export type ContactSuppressedStatus = "unsubscribed" | "bounced" | "complained";

export interface Entry {
  id: string;
  email: string | null;
  domain: string | null;
  reason: SuppressionReason;
  note: string | null;
  source: { campaignId: string; messageId: string | null } | null;
  createdAt: Date;
}

export type Target = { email: string; domain?: undefined } | { domain: string; email?: undefined };

/** SQL: the key of an address (`email` is an SQL expression or a value). */
export const hashOf = (email: SQL | string) => sql`encode(sha256(convert_to(lower(${email}), 'UTF8')), 'hex')`;
/** SQL: the lower-case domain of an address. */
export const domainOf = (email: SQL | string) => sql`regexp_replace(lower(${email}), '^.*@', '')`;

/** SQL: true when the address (an SQL expression) is suppressed in the workspace (an SQL expression). */
export const isSuppressed = (workspaceId: SQL | string, email: SQL) =>
  sql`EXISTS (SELECT 1 FROM suppression s WHERE s.workspace_id = ${workspaceId} AND (s.email_hash = ${hashOf(email)} OR s.domain = ${domainOf(email)}))`;

/**
 * The contact status an entry gives to a contact with its address. A manual entry (the user's own
 * do-not-contact) reads as `unsubscribed`: the status that says "never email again" without
 * claiming a delivery problem.
 */
export function contactStatus(reason: SuppressionReason): ContactSuppressedStatus {
  return reason === "manual" ? "unsubscribed" : reason;
}

/** An entry's columns, typed from the table (`ENTRY.list` in a select, `toEntry(ENTRY.decode(row))`). */
export const ENTRY = pick(suppressionTable, [
  "id",
  "email",
  "domain",
  "reason",
  "note",
  "sourceCampaignId",
  "sourceMessageId",
  "createdAt",
]);

export function toEntry(row: ReturnType<typeof ENTRY.decode>): Entry {
  return {
    id: row.id,
    email: row.email,
    domain: row.domain,
    reason: row.reason,
    note: row.note,
    source: row.sourceCampaignId ? { campaignId: row.sourceCampaignId, messageId: row.sourceMessageId } : null,
    createdAt: row.createdAt,
  };
}

const entries = async (query: SQL) => (await select(ENTRY, query)).map(toEntry);

/** The entry that suppresses each of these addresses (an address entry before a domain entry), by the address as given. */
export async function reasonsFor(workspaceId: string, emails: readonly string[]): Promise<Map<string, SuppressionReason>> {
  if (!emails.length) return new Map();
  const rows = await Database.rows<{ email: string; reason: SuppressionReason }>(sql`
    SELECT e.email, s.reason
    FROM unnest(${Database.array([...new Set(emails)], "text")}) AS e(email)
    CROSS JOIN LATERAL (
      SELECT reason FROM suppression s
      WHERE s.workspace_id = ${workspaceId} AND (s.email_hash = ${hashOf(sql`e.email`)} OR s.domain = ${domainOf(sql`e.email`)})
      ORDER BY (s.domain IS NULL) DESC LIMIT 1
    ) s`);
  return new Map(rows.map((row) => [row.email, row.reason]));
}

/** The entries that suppress this address: its own and its domain's. */
export async function entriesFor(workspaceId: string, email: string): Promise<Entry[]> {
  return entries(sql`
    SELECT ${ENTRY.list} FROM suppression
    WHERE workspace_id = ${workspaceId} AND (email_hash = ${hashOf(email)} OR domain = ${domainOf(email)})
    ORDER BY created_at, id`);
}

export interface PutOptions {
  note?: string | null;
  source?: { campaignId: string; messageId: string | null };
  at?: Date;
}

/** Add an entry, or find the one already there for that address or domain (which stays as it is). */
export async function put(workspaceId: string, target: Target, reason: SuppressionReason, options: PutOptions = {}) {
  const email = target.email ?? null;
  const domain = target.domain?.toLowerCase() ?? null;
  const [inserted] = await entries(sql`
    INSERT INTO suppression (id, workspace_id, email, email_hash, domain, reason, note, source_campaign_id, source_message_id, created_at)
    VALUES (${createId("suppression")}, ${workspaceId}, ${email}, ${email === null ? null : hashOf(email)}, ${domain}, ${reason},
            ${options.note ?? null}, ${options.source?.campaignId ?? null}, ${options.source?.messageId ?? null}, ${options.at ?? new Date()})
    ON CONFLICT DO NOTHING
    RETURNING ${ENTRY.list}`);
  if (inserted) return { entry: inserted, created: true };
  const [existing] = await entries(sql`
    SELECT ${ENTRY.list} FROM suppression
    WHERE workspace_id = ${workspaceId} AND ${email === null ? sql`domain = ${domain}` : sql`email_hash = ${hashOf(email)}`}`);
  return { entry: existing!, created: false };
}

/**
 * The entry for the recipient of one of our emails, added by the event that calls for it (in its
 * transaction); an existing entry for the address stays as it is.
 */
export async function fromMessage(messageId: string, reason: Exclude<SuppressionReason, "manual">, at: Date): Promise<void> {
  await Database.rows(sql`
    INSERT INTO suppression (id, workspace_id, email, email_hash, reason, source_campaign_id, source_message_id, created_at)
    SELECT ${createId("suppression")}, m.workspace_id, m.to_email, ${hashOf(sql`m.to_email`)}, ${reason}, m.campaign_id, m.id, ${at}
    FROM message m WHERE m.id = ${messageId}
    ON CONFLICT DO NOTHING`);
}

/**
 * Contacts the entry matches stop being emailable: active ones take its status, and every open
 * sequence they are in stops. Returns the campaigns where a sequence stopped (they may now be
 * complete).
 */
export async function applyToContacts(workspaceId: string, entry: Pick<Entry, "email" | "domain" | "reason">, at: Date): Promise<string[]> {
  const match =
    entry.domain !== null ? sql`regexp_replace(email_key, '^.*@', '') = ${entry.domain}` : sql`email_key = lower(${entry.email})`;
  const status = contactStatus(entry.reason);
  const rows = await Database.rows<{ campaign_id: string }>(sql`
    WITH matched AS (SELECT id FROM contact WHERE workspace_id = ${workspaceId} AND ${match}),
    updated AS (
      UPDATE contact SET status = ${status}, updated_at = ${at}
      WHERE id IN (SELECT id FROM matched) AND status = 'active'
      RETURNING 1
    )
    UPDATE campaign_contact
    SET status = ${status === "bounced" ? "bounced" : "unsubscribed"}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${at}
    WHERE workspace_id = ${workspaceId} AND contact_id IN (SELECT id FROM matched) AND status IN ('pending', 'in_progress')
    RETURNING campaign_id`);
  return [...new Set(rows.map((row) => row.campaign_id))];
}

/** Entries for many addresses at once (a contact import with statuses); existing entries stay. */
export async function putMany(workspaceId: string, entries: ReadonlyArray<{ email: string; reason: SuppressionReason }>, at: Date) {
  if (!entries.length) return;
  await Database.rows(sql`
    INSERT INTO suppression (id, workspace_id, email, email_hash, reason, created_at)
    SELECT e.id, ${workspaceId}, e.email, ${hashOf(sql`e.email`)}, e.reason, ${at}
    FROM unnest(${Database.array(
      entries.map(() => createId("suppression")),
      "text",
    )}, ${Database.array(
      entries.map((e) => e.email),
      "text",
    )}, ${Database.array(
      entries.map((e) => e.reason),
      "text",
    )}) AS e(id, email, reason)
    ON CONFLICT DO NOTHING`);
}
