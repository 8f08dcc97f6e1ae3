import { sql } from "drizzle-orm";
import * as Database from "../database";

/**
 * Erasure (GDPR) of a contact in the outbox: every event naming the contact (by id or address),
 * delivered or not, keeps its id, type, time and the ids it refers to, and loses the rest (the
 * address, names, reply text, IP and user agent in `details`); `data.erased` says so. Pending
 * deliveries then deliver the reduced event.
 */
export async function eraseContact(workspaceId: string, contactId: string, address: string): Promise<void> {
  await Database.rows(sql`
    UPDATE webhook_event w SET body = jsonb_build_object(
      'id', x.b->'id', 'type', x.b->'type', 'timestamp', x.b->'timestamp', 'workspaceId', x.b->'workspaceId',
      'data', jsonb_strip_nulls(jsonb_build_object(
        'campaign', CASE WHEN x.b->'data'->'campaign' IS NULL THEN NULL ELSE jsonb_build_object('id', x.b->'data'->'campaign'->'id') END,
        'contact', jsonb_build_object('id', ${contactId}::text),
        'emailNodeId', x.b->'data'->'emailNodeId',
        'messageId', x.b->'data'->'messageId',
        'erased', true)))::text
    FROM (
      SELECT id, body::jsonb AS b FROM webhook_event
      WHERE workspace_id = ${workspaceId}
        AND (body LIKE ${`%"${contactId}"%`} OR lower(body) LIKE ${`%${Database.escapeLike(address.toLowerCase())}%`})
    ) x
    WHERE w.id = x.id`);
}
