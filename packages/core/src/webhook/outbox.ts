import { type SQL, sql } from "drizzle-orm";
import * as Actor from "../actor";
import * as Database from "../database";
import { unnest } from "../database/typed";
import { derivedId } from "../util/id";
import { EMAIL_ACTIVITY, type EventType } from "./events";
import * as Queue from "./queue";

/**
 * The transactional outbox. An event is written in the transaction of the change that causes it,
 * with one delivery per enabled subscription that wants it, and only when one does: a workspace
 * without subscriptions pays one index probe. The deliveries are queued after commit; a rolled
 * back change leaves nothing, and a crash between commit and queue leaves pending deliveries
 * that the sweeper finds. The same change always yields the same event id (derived from what
 * changed), and an event id is written once (`ON CONFLICT DO NOTHING`): recording a change twice
 * emits nothing new.
 */

/** SQL: the subscription `s` wants event type `type` (an SQL expression). */
const WANTS = (type: string) => `s.enabled AND (${type} = ANY(s.events) OR '*' = ANY(s.events))`;

/**
 * Two CTEs (`wh_event`, `wh_delivery`) writing the outbox from the relation `source` (columns
 * `id, workspace_id, type, occurred_at, body`). Text with no parameters, so it also goes into
 * prepared statements; `RETURNING id` of `wh_delivery` names what to queue.
 */
export function fanOut(source: string): string {
  return `wh_event AS (
      INSERT INTO webhook_event (id, workspace_id, type, body, occurred_at)
      SELECT src.id, src.workspace_id, src.type, src.body, src.occurred_at FROM ${source} src
      WHERE EXISTS (SELECT 1 FROM webhook_subscription s WHERE s.workspace_id = src.workspace_id AND ${WANTS("src.type")})
      ON CONFLICT (id) DO NOTHING
      RETURNING id, workspace_id, type
    ), wh_delivery AS (
      INSERT INTO webhook_delivery (id, workspace_id, subscription_id, event_id, event_type, next_attempt_at)
      SELECT 'whd_' || substr(e.id, 5, 10) || substr(md5(s.id || e.id), 1, 16), e.workspace_id, s.id, e.id, e.type, now()
      FROM wh_event e JOIN webhook_subscription s ON s.workspace_id = e.workspace_id AND ${WANTS("e.type")}
      ON CONFLICT DO NOTHING
      RETURNING id
    )`;
}

const ISO = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The outbox's source rows for activity events (a relation `rel` with the `event` table's
 * columns): the email kinds customers receive, as `email.<type>`, with the event's own id (the
 * activity row is the change; a replayed SES notification records no new row, so no new event).
 */
export function emailSource(rel: string): string {
  const types = EMAIL_ACTIVITY.map((t) => `'${t}'`).join(", ");
  return `SELECT r.id, r.workspace_id, 'email.' || r.type AS type, r.occurred_at,
      json_build_object(
        'id', r.id, 'type', 'email.' || r.type, 'timestamp', ${ISO("r.occurred_at")}, 'workspaceId', r.workspace_id,
        'data', json_build_object(
          'campaign', json_build_object('id', r.campaign_id),
          'contact', json_build_object('id', r.contact_id, 'email', (SELECT m.to_email FROM message m WHERE m.id = r.message_id)),
          'emailNodeId', r.node_id,
          'messageId', r.message_id,
          'details', r.metadata
        )
      )::text AS body
    FROM ${rel} r WHERE r.type IN (${types})`;
}

/** Does an enabled subscription of the workspace want any of these types? (To skip building events nobody wants.) */
export async function wants(workspaceId: string, types: readonly EventType[]): Promise<boolean> {
  const [row] = await Database.rows<{ yes: boolean }>(sql`
    SELECT EXISTS (SELECT 1 FROM webhook_subscription s WHERE s.workspace_id = ${workspaceId}
      AND s.enabled AND (s.events && ${Database.array(types, "text")} OR '*' = ANY(s.events))) AS yes`);
  return row?.yes === true;
}

/** After commit, queue what the statement's `wh_delivery` wrote (nothing when it wrote nothing). */
export async function queueAfterCommit(deliveryIds: readonly string[] | null | undefined): Promise<void> {
  if (!deliveryIds?.length) return;
  const ids = [...deliveryIds];
  await Database.afterCommit(() => Queue.dispatch(ids));
}

export interface NewEvent {
  type: Exclude<EventType, `email.${string}` | "webhook.test">;
  /** What changed, uniquely: the event id is derived from it (with `at`). */
  key: string;
  at: Date;
  data: Record<string, unknown>;
  workspaceId?: string;
}

export interface Payload {
  id: string;
  type: EventType;
  timestamp: string;
  workspaceId: string;
  data: Record<string, unknown>;
}

export function payload(id: string, type: EventType, at: Date, workspaceId: string, data: Record<string, unknown>): Payload {
  return { id, type, timestamp: at.toISOString(), workspaceId, data };
}

/** Events about campaigns and contacts, in the caller's transaction (one statement for all of them). */
export async function emit(events: readonly NewEvent[]): Promise<void> {
  if (!events.length) return;
  const rows = events.map((event) => {
    const workspaceId = event.workspaceId ?? Actor.workspaceId();
    const id = derivedId("event", `${event.type}:${event.key}`, event.at.getTime());
    return {
      id,
      workspaceId,
      type: event.type,
      at: event.at,
      body: JSON.stringify(payload(id, event.type, event.at, workspaceId, event.data)),
    };
  });
  const source: SQL = sql`SELECT * FROM ${unnest(rows, {
    id: ["text", (r) => r.id],
    workspace_id: ["text", (r) => r.workspaceId],
    type: ["text", (r) => r.type],
    occurred_at: ["timestamptz", (r) => r.at],
    body: ["text", (r) => r.body],
  })}`;
  const [row] = await Database.rows<{ deliveries: string[] | null }>(
    sql`WITH source AS (${source}), ${sql.raw(fanOut("source"))} SELECT ARRAY(SELECT id FROM wh_delivery) AS deliveries`,
  );
  await queueAfterCommit(row?.deliveries);
}
