import { sql } from "drizzle-orm";
import * as Database from "../database";
import type { ConditionEvent } from "../workflow";
import { messageTable } from "./message.sql";

/**
 * What a workflow condition reads of a contact's emails. THE one place that says which column
 * answers each condition event: opens and clicks are the human ones (message/machine: machine
 * opens and scanner clicks answer no condition); the wake-up below and every read follow this map.
 */
export const CONDITION_COLUMNS = {
  opened: messageTable.humanOpenedAt,
  clicked: messageTable.humanClickedAt,
  replied: messageTable.repliedAt,
} satisfies Record<ConditionEvent, unknown>;

const EVENTS = Object.keys(CONDITION_COLUMNS) as ConditionEvent[];

/** The condition events a write to `column` (a message column's name) can answer. */
export function eventsAnsweredBy(column: string): ConditionEvent[] {
  return EVENTS.filter((event) => CONDITION_COLUMNS[event].name === column);
}

/**
 * The statement that makes a contact waiting at a condition on one of `events` due when the event
 * happened `at` (its answer is "yes" at the later of that and when it reached the node), unless it
 * is due earlier already: past the deadline the answer stays "no". The claim is left alone (a step
 * being answered right now holds the row lock; this waits and re-reads the row after it).
 * `campaignId`, `contactId` and `at` are SQL expressions (text), so that the SES fast path uses it
 * inside its one prepared statement.
 */
export function wakeText(events: readonly ConditionEvent[], campaignId: string, contactId: string, at: string): string {
  const answered = events.map((e) => `'${e}'`).join(", ");
  return `
    UPDATE campaign_contact cc SET next_run_at = greatest(${at}, cc.waiting_since)
    WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = ${contactId}
      AND cc.waiting_for IN (${answered}) AND cc.status IN ('pending', 'in_progress')
      AND cc.next_run_at > greatest(${at}, cc.waiting_since)`;
}

/** `wakeText` for a milestone written to `column` (the general path: replies, events that settle an email). */
export async function wake(column: string, message: { campaignId: string; contactId: string }, at: Date): Promise<void> {
  const events = eventsAnsweredBy(column);
  if (!events.length) return;
  await Database.rows(sql`
    WITH p AS (SELECT ${message.campaignId}::text AS c, ${message.contactId}::text AS k, ${at}::timestamptz AS at)
    ${sql.raw(wakeText(events, "(SELECT c FROM p)", "(SELECT k FROM p)", "(SELECT at FROM p)"))}`);
}

/** Per contact, the earliest time each condition event happened to one of its sent emails of the campaign. */
export async function eventTimes(
  campaignId: string,
  contactIds: readonly string[],
): Promise<Map<string, Record<ConditionEvent, Date | null>>> {
  if (!contactIds.length) return new Map();
  const columns = EVENTS.map((event) => sql`min(${sql.raw(`"${CONDITION_COLUMNS[event].name}"`)}) AS ${sql.raw(`"${event}"`)}`);
  const rows = await Database.rows<Record<string, unknown> & { contact_id: string }>(sql`
    SELECT contact_id, ${sql.join(columns, sql`, `)}
    FROM message
    WHERE campaign_id = ${campaignId} AND contact_id = ANY(${Database.array(contactIds, "text")}) AND status = 'sent'
    GROUP BY contact_id`);
  return new Map(
    rows.map((row) => [
      row.contact_id,
      Object.fromEntries(EVENTS.map((e) => [e, row[e] == null ? null : Database.toDate(row[e] as string | Date)])) as Record<
        ConditionEvent,
        Date | null
      >,
    ]),
  );
}
