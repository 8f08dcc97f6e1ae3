import { type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import { notFound } from "../error";
import { type Page, pageMeta, pageQuery } from "../util/schema";
import { EVENT_TYPES } from "./events";
import { DELIVERY_STATUSES, type DeliveryStatus, webhookDeliveryTable } from "./webhook.sql";

/** A subscription's delivery log (`/v1/webhooks/:id/deliveries`), newest first. */

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastDurationMs: number | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
  responseBodyPreview: string | null;
}

export interface DeliveryWithPayload extends Delivery {
  /** The event as delivered (the JSON body of each attempt). */
  payload: Record<string, unknown>;
}

export const DELIVERY = pick(
  webhookDeliveryTable,
  [
    "id",
    "eventId",
    "eventType",
    "status",
    "attempts",
    "lastStatusCode",
    "lastError",
    "lastDurationMs",
    "nextAttemptAt",
    "createdAt",
    "deliveredAt",
    "responseBodyPreview",
  ],
  "d",
);

export const listQuery = v.object({
  ...pageQuery,
  status: v.optional(v.picklist(DELIVERY_STATUSES, `must be one of ${DELIVERY_STATUSES.join(", ")}`)),
  eventType: v.optional(v.picklist(EVENT_TYPES, `must be one of ${EVENT_TYPES.join(", ")}`)),
});

/** A final delivery has no next attempt, whatever the column still says. */
const shown = (row: ReturnType<typeof DELIVERY.decode>): Delivery => ({
  ...row,
  nextAttemptAt: row.status === "pending" ? row.nextAttemptAt : null,
});

export async function list(subscriptionId: string, query: v.InferOutput<typeof listQuery>): Promise<Page<Delivery>> {
  const filters: SQL[] = [sql`d.workspace_id = ${Actor.workspaceId()}`, sql`d.subscription_id = ${subscriptionId}`];
  if (query.status) filters.push(sql`d.status = ${query.status}`);
  if (query.eventType) filters.push(sql`d.event_type = ${query.eventType}`);
  const where = sql.join(filters, sql` AND `);
  const rows = await Database.rows<Record<string, unknown> & { total: number }>(sql`
    SELECT ${DELIVERY.list}, count(*) OVER ()::int AS total FROM webhook_delivery d WHERE ${where}
    ORDER BY d.created_at DESC, d.id DESC LIMIT ${query.perPage} OFFSET ${(query.page - 1) * query.perPage}`);
  let total = rows[0]?.total ?? 0;
  if (!rows.length && query.page > 1) {
    const [row] = await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM webhook_delivery d WHERE ${where}`);
    total = row?.n ?? 0;
  }
  return { data: rows.map((row) => shown(DELIVERY.decode(row))), meta: pageMeta(query.page, query.perPage, total) };
}

export async function fromID(subscriptionId: string, id: string): Promise<DeliveryWithPayload | undefined> {
  const rows = await Database.rows<Record<string, unknown> & { body: string }>(sql`
    SELECT ${DELIVERY.list}, e.body FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id
    WHERE d.workspace_id = ${Actor.workspaceId()} AND d.subscription_id = ${subscriptionId} AND d.id = ${id}`);
  const row = rows[0];
  if (!row) return undefined;
  return { ...shown(DELIVERY.decode(row)), payload: JSON.parse(row.body) };
}

export async function mustExist(subscriptionId: string, id: string): Promise<DeliveryWithPayload> {
  const found = await fromID(subscriptionId, id);
  if (!found) throw notFound("Delivery", id);
  return found;
}

/** Only to read a delivery by its id alone (the deliverer's answer to a test or a retry). */
export async function byId(id: string): Promise<Delivery | undefined> {
  const [row] = await select(DELIVERY, sql`SELECT ${DELIVERY.list} FROM webhook_delivery d WHERE d.id = ${id}`);
  return row && shown(row);
}
