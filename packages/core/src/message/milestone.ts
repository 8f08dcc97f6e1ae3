import { sql } from "drizzle-orm";
import * as Database from "../database";
import * as Log from "../log";
import type { Counter } from "../stats";
import * as Stats from "../stats";
import { createId } from "../util/id";
import { Outbox } from "../webhook";
import * as Condition from "./condition";
import { type MachineReason, reasonSql, type Verdict } from "./machine";
import { messageTable } from "./message.sql";

/**
 * How an email's milestones count. Two paths move the same counters by the same rule, and a
 * property test (test/message/milestone.test.ts) holds them to identical results on random event
 * sequences: `reach`, inside the transaction of whatever caused it (a bounce, a reply, an
 * unsubscribe, an event that settles an email still \`sending\`), and `applyMilestone`, the
 * single-statement fast path for the bulk of SES's events. The rule: a milestone keeps its
 * earliest time and counts once, in the bucket of that time (and under the email's A/B variant);
 * an earlier occurrence arriving late moves the count to its own bucket.
 */

export type Milestone =
  | "delivered"
  | "opened"
  | "clicked"
  | "replied"
  | "bounced"
  | "complained"
  | "unsubscribed"
  | "failed"
  | "human_opened"
  | "machine_opened"
  | "human_clicked"
  | "machine_clicked";

/** Each milestone's column in the table: a renamed column fails the type-check here. */
const COLUMNS = {
  delivered: messageTable.deliveredAt,
  opened: messageTable.openedAt,
  clicked: messageTable.clickedAt,
  replied: messageTable.repliedAt,
  bounced: messageTable.bouncedAt,
  complained: messageTable.complainedAt,
  unsubscribed: messageTable.unsubscribedAt,
  failed: messageTable.failedAt,
  human_opened: messageTable.humanOpenedAt,
  machine_opened: messageTable.machineOpenedAt,
  human_clicked: messageTable.humanClickedAt,
  machine_clicked: messageTable.machineClickedAt,
} satisfies Record<Milestone, unknown>;

const columnName = (milestone: Milestone) => COLUMNS[milestone].name;

/**
 * Record that the email reached `milestone` at `at` (inside the caller's transaction). Returns
 * whether this was the first time.
 */
export async function reach(
  message: { id: string; campaignId: string; contactId: string; nodeId: string },
  milestone: Milestone,
  at: Date,
): Promise<boolean> {
  const column = sql.raw(`"${columnName(milestone)}"`);
  const [row] = await Database.rows<{ previous: Date | string | null; variant_id: string | null }>(sql`
    WITH old AS (SELECT ${column} AS previous FROM message WHERE id = ${message.id} FOR UPDATE)
    UPDATE message SET ${column} = LEAST(coalesce(message.${column}, ${at}), ${at})
    FROM old WHERE message.id = ${message.id}
    RETURNING old.previous, message.${sql.raw(`"${messageTable.variantId.name}"`)} AS variant_id`);
  if (!row) return false;
  const previousAt = row.previous === null ? null : Database.toDate(row.previous);
  if (previousAt === null || at < previousAt) await Condition.wake(columnName(milestone), message, at);
  const counter = milestone as Counter;
  // Counted under the A/B variant the email was (its per-variant statistics).
  const variant = row.variant_id;
  if (row.previous === null) {
    await Stats.bump(message.campaignId, message.nodeId, at, { [counter]: 1 }, variant);
    return true;
  }
  const previous = Database.toDate(row.previous);
  if (at < previous) {
    await Stats.bump(message.campaignId, message.nodeId, previous, { [counter]: -1 }, variant);
    await Stats.bump(message.campaignId, message.nodeId, at, { [counter]: 1 }, variant);
  }
  return false;
}

/**
 * The fast path. Deliveries, opens and clicks: the bulk of what SES publishes, each applied in ONE prepared
 * statement (one round trip, one commit, planned once per connection): the email is locked, the
 * event recorded under its provider identity (a redelivery stops there), the milestone kept at
 * its earliest time, and the counters moved: +1 the first time, or to an earlier bucket when an
 * earlier occurrence arrives late. Emails still `sending` go the general way, which settles them.
 */
export type FastMilestone = "delivered" | "opened" | "clicked";

export interface FastEvent {
  /** Our message id (from the `message` tag), or undefined to look it up by SES id. */
  messageId?: string;
  sesMessageId: string;
  milestone: FastMilestone;
  at: Date;
  metadata: Record<string, unknown>;
  providerKey: string;
  /** Opens and clicks: what the event alone shows (message/machine); the statement finishes the judgement. */
  verdict?: Verdict;
}

export type FastResult = "applied" | "duplicate" | "unmatched" | "slow";

/**
 * $1 message id (by "id") or SES message id (by "ses"), $2 SES message id, $3 event id, $4 time,
 * $5 metadata, $6 provider key; opens and clicks also $7 the event's own machine reason (or
 * NULL), $8 and $9 the timing rule (seconds after sending, reason). Two statements rather than
 * one with a CASE: each keeps a plain index lookup in its cached generic plan.
 *
 * Opens and clicks are judged human or machine inside the statement (`reasonSql`: too fast after
 * sending, a burst of clicks on several links), recorded with `metadata.machine` and
 * `metadata.machineReason`, and move, besides `opened` (`clicked`), the human or the machine
 * milestone by the same earliest-time rule.
 */
function statement(milestone: FastMilestone, by: "id" | "ses"): string {
  const column = `"${columnName(milestone)}"`;
  const judged = milestone !== "delivered";
  const [human, machine] = [`human_${milestone}`, `machine_${milestone}`] as const;
  const [humanColumn, machineColumn] = judged ? [columnName(human as Milestone), columnName(machine as Milestone)] : ["", ""];
  const counters = judged ? [milestone, human, machine] : [milestone];
  const classCase = `CASE WHEN reason IS NULL THEN '${human}' ELSE '${machine}' END`;
  // A contact waiting at a condition this milestone answers becomes due now (same statement):
  // conditions read human opens and clicks only (message/condition), so a machine's wakes nobody.
  const events = judged ? Condition.eventsAnsweredBy(humanColumn) : Condition.eventsAnsweredBy(columnName(milestone));
  const woken = events.length
    ? `, woken AS (${Condition.wakeText(events, `(SELECT campaign_id FROM reached${judged ? " WHERE reason IS NULL" : ""})`, "(SELECT contact_id FROM m)", "$4::timestamptz")} RETURNING 1)`
    : "";
  return `
    WITH m AS (
      SELECT id, workspace_id, campaign_id, contact_id, node_id, variant_id, status, sent_at, ${column} AS previous
             ${judged ? `, ${humanColumn} AS previous_human, ${machineColumn} AS previous_machine` : ""}
      FROM message
      WHERE ${by === "id" ? "id = $1 AND (ses_message_id = $2 OR ses_message_id IS NULL)" : "ses_message_id = $1 AND ses_message_id = $2"}
      FOR UPDATE
    ), judged AS (
      SELECT ${
        judged
          ? reasonSql(milestone, {
              at: "$4::timestamptz",
              reason: "$7::text",
              withinSeconds: "$8::int",
              timedReason: "$9::text",
              link: "($5::jsonb->>'link')",
            })
          : "NULL::text"
      } AS reason FROM m
    ), recorded AS (
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, message_id, node_id, type, occurred_at, metadata, provider_key)
      SELECT $3, workspace_id, campaign_id, contact_id, id, node_id, '${milestone}', $4::timestamptz,
             ${judged ? `$5::jsonb || ${machineMetadata("judged.reason")}` : "$5::jsonb"}, $6
      FROM m, judged WHERE m.status = 'sent'
      ON CONFLICT (provider_key) DO NOTHING
      RETURNING *
    ), source AS (${Outbox.emailSource("recorded")}), ${Outbox.fanOut("source")}, reached AS (
      UPDATE message SET ${column} = LEAST(coalesce(message.${column}, $4::timestamptz), $4::timestamptz)
      ${
        judged
          ? `, ${humanColumn} = CASE WHEN judged.reason IS NULL THEN LEAST(coalesce(message.${humanColumn}, $4::timestamptz), $4::timestamptz) ELSE message.${humanColumn} END
             , ${machineColumn} = CASE WHEN judged.reason IS NULL THEN message.${machineColumn} ELSE LEAST(coalesce(message.${machineColumn}, $4::timestamptz), $4::timestamptz) END`
          : ""
      }
      FROM m, judged WHERE message.id = m.id AND EXISTS (SELECT 1 FROM recorded)
      RETURNING m.campaign_id, m.node_id, m.variant_id, m.previous, judged.reason
        ${judged ? ", CASE WHEN judged.reason IS NULL THEN m.previous_human ELSE m.previous_machine END AS previous_class" : ""}
    )${woken}, deltas AS (
      SELECT campaign_id, node_id, variant_id, $4::timestamptz AS at, '${milestone}' AS c, 1 AS d FROM reached WHERE previous IS NULL OR $4::timestamptz < previous
      UNION ALL
      SELECT campaign_id, node_id, variant_id, previous, '${milestone}', -1 FROM reached WHERE previous IS NOT NULL AND $4::timestamptz < previous
      ${
        judged
          ? `UNION ALL
      SELECT campaign_id, node_id, variant_id, $4::timestamptz, ${classCase}, 1 FROM reached WHERE previous_class IS NULL OR $4::timestamptz < previous_class
      UNION ALL
      SELECT campaign_id, node_id, variant_id, previous_class, ${classCase}, -1 FROM reached WHERE previous_class IS NOT NULL AND $4::timestamptz < previous_class`
          : ""
      }
    ), shard AS (
      ${Stats.shardSelect("hashtext((SELECT campaign_id FROM m))")}
    ), totals AS (
      INSERT INTO campaign_stat (campaign_id, node_id, shard, ${counters.join(", ")})
      SELECT campaign_id, node_id, (SELECT n FROM shard), ${sums(counters)} FROM deltas GROUP BY campaign_id, node_id
      HAVING ${nonZero(counters)}
      ON CONFLICT (campaign_id, node_id, shard) DO UPDATE SET ${added("campaign_stat", counters)}
      RETURNING 1
    ), variants AS (
      INSERT INTO campaign_variant_stat (campaign_id, node_id, variant_id, shard, ${counters.join(", ")})
      SELECT campaign_id, node_id, variant_id, (SELECT n FROM shard), ${sums(counters)} FROM deltas WHERE variant_id IS NOT NULL
      GROUP BY campaign_id, node_id, variant_id HAVING ${nonZero(counters)}
      ON CONFLICT (campaign_id, node_id, variant_id, shard) DO UPDATE SET ${added("campaign_variant_stat", counters)}
      RETURNING 1
    ), buckets AS (
      INSERT INTO campaign_stat_bucket (campaign_id, bucket, shard, ${counters.join(", ")})
      SELECT campaign_id, ${Stats.bucketSql("at")} AS b, (SELECT n FROM shard), ${sums(counters)}
      FROM deltas GROUP BY campaign_id, b ORDER BY b
      ON CONFLICT (campaign_id, bucket, shard) DO UPDATE SET ${added("campaign_stat_bucket", counters)}
      RETURNING 1
    )
    SELECT (SELECT status FROM m) AS status, (SELECT count(*)::int FROM recorded) AS recorded,
           (SELECT count(*) FROM totals) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM buckets) AS counted,
           ARRAY(SELECT id FROM wh_delivery) AS deliveries`;
}

const sums = (counters: readonly string[]) => counters.map((c) => `coalesce(sum(d) FILTER (WHERE c = '${c}'), 0)::int`).join(", ");
const nonZero = (counters: readonly string[]) => counters.map((c) => `coalesce(sum(d) FILTER (WHERE c = '${c}'), 0) <> 0`).join(" OR ");
const added = (table: string, counters: readonly string[]) => counters.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(", ");

/** The `metadata` an open or click carries about its judgement (SQL, from a reason expression). */
export const machineMetadata = (reason: string) =>
  `CASE WHEN ${reason} IS NULL THEN '{"machine": false}'::jsonb ELSE jsonb_build_object('machine', true, 'machineReason', ${reason}) END`;

const STATEMENTS = Object.fromEntries(
  (["delivered", "opened", "clicked"] as const).flatMap((m) => [
    [`${m}:id`, statement(m, "id")],
    [`${m}:ses`, statement(m, "ses")],
  ]),
);

type FastRow = { status: string | null; recorded: number; deliveries: string[] | null };

function fastStatement(event: FastEvent): Database.Batched {
  const by = event.messageId ? "id" : "ses";
  return {
    name: `fluenzr_${event.milestone}_by_${by}`,
    text: STATEMENTS[`${event.milestone}:${by}`]!,
    params: [
      event.messageId ?? event.sesMessageId,
      event.sesMessageId,
      createId("event", event.at.getTime()),
      event.at,
      JSON.stringify(event.metadata),
      event.providerKey,
      ...(event.milestone === "delivered"
        ? []
        : [event.verdict?.reason ?? null, event.verdict?.withinSeconds ?? 0, event.verdict?.timedReason ?? "too-fast"]),
    ],
  };
}

function resultOf(row: FastRow | undefined): FastResult {
  if (!row || row.status === null) return "unmatched";
  if (row.status !== "sent") return "slow";
  return row.recorded ? "applied" : "duplicate";
}

export async function applyMilestone(event: FastEvent): Promise<FastResult> {
  const statement = fastStatement(event);
  const [row] = await Database.prepared<FastRow>(statement.name, statement.text, statement.params as unknown[]);
  // Subscribed webhooks: the statement wrote their outbox rows; it has committed, queue them now.
  if (row?.deliveries?.length) await Outbox.queueAfterCommit(row.deliveries);
  return resultOf(row);
}

/**
 * Many fast events in ONE round trip and one commit (Database.batch): the same statement for
 * each, run one after the other in a single transaction, so the batch means exactly what the
 * events applied one by one mean. The emails are locked in one order (by the id each event
 * names), so two batches never wait on each other in a cycle. If the batch fails as a whole (a
 * deadlock all the same, a value no SQL literal can hold, a lost connection), each event is
 * applied alone instead; what one of them throws then is its own result.
 */
export async function applyMilestones(events: readonly FastEvent[]): Promise<Array<FastResult | { error: unknown }>> {
  if (events.length <= 1) return oneByOne(events);
  const order = events.map((_, i) => i).sort((a, b) => lockKey(events[a]!).localeCompare(lockKey(events[b]!)));
  let rows: FastRow[][];
  try {
    rows = await Database.batch<FastRow>(order.map((i) => fastStatement(events[i]!)));
  } catch (error) {
    Log.warn("SES event batch failed; applying its events one by one", { events: events.length, code: (error as { code?: unknown }).code });
    return oneByOne(events);
  }
  const results: FastResult[] = new Array(events.length);
  const deliveries: string[] = [];
  order.forEach((index, position) => {
    const row = rows[position]?.[0];
    if (row?.deliveries?.length) deliveries.push(...row.deliveries);
    results[index] = resultOf(row);
  });
  if (deliveries.length) await Outbox.queueAfterCommit(deliveries);
  return results;
}

/** Each event in its own statement, one after the other; what one throws is its result. */
async function oneByOne(events: readonly FastEvent[]): Promise<Array<FastResult | { error: unknown }>> {
  const results: Array<FastResult | { error: unknown }> = [];
  for (const event of events) results.push(await applyMilestone(event).catch((error: unknown) => ({ error })));
  return results;
}

/** The email an event locks first: by our id, or by SES's (a separate range: `msg_…` never equals an SES id's form). */
const lockKey = (event: FastEvent) => (event.messageId ? `id:${event.messageId}` : `ses:${event.sesMessageId}`);

/**
 * The general path's judgement of an open or click (inside the caller's transaction, before it is
 * recorded): the same SQL as the fast statement's, so both paths judge alike.
 */
export async function judge(
  messageId: string,
  kind: "opened" | "clicked",
  at: Date,
  verdict: Verdict,
  link: string | undefined,
): Promise<MachineReason | null> {
  const reason = reasonSql(kind, { at: "p.at", reason: "p.reason", withinSeconds: "p.within", timedReason: "p.timed", link: "p.link" });
  const [row] = await Database.rows<{ reason: MachineReason | null }>(sql`
    WITH p AS (SELECT ${at}::timestamptz AS at, ${verdict.reason}::text AS reason, ${verdict.withinSeconds}::int AS within,
                      ${verdict.timedReason}::text AS timed, ${link ?? null}::text AS link)
    SELECT ${sql.raw(reason)} AS reason FROM message m, p WHERE m.id = ${messageId}`);
  return row?.reason ?? null;
}
