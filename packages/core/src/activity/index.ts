import { sql } from "drizzle-orm";
import * as Database from "../database";
import { createId } from "../util/id";
import { Outbox } from "../webhook";
import type { EventType } from "./activity.sql";

export { EVENT_TYPES, type EventType, eventTable } from "./activity.sql";
export * as Feed from "./feed";
export { type ActivityEvent, type FeedMeta, type FeedQuery, feed, feedQuery, TOTAL_CAP } from "./feed";

export interface NewEvent {
  workspaceId: string;
  campaignId: string;
  contactId: string;
  messageId?: string | null;
  nodeId?: string | null;
  type: EventType;
  occurredAt: Date;
  metadata?: Record<string, unknown>;
  /** The provider's identity of this event: recording it twice is a no-op. */
  providerKey?: string;
}

/** The email an event is about: its campaign, contact and node come with it. */
export interface About {
  id: string;
  workspaceId: string;
  campaignId: string;
  contactId: string;
  nodeId: string;
}

/** Record an event about one email; false when its provider key was recorded already. */
export function recordAbout(
  message: About,
  event: { type: EventType; occurredAt: Date; metadata?: Record<string, unknown>; providerKey?: string },
): Promise<boolean> {
  const { id, workspaceId, campaignId, contactId, nodeId } = message;
  return record({ workspaceId, campaignId, contactId, messageId: id, nodeId, ...event });
}

/** Record an event; false when an event with the same provider key was already recorded. */
export async function record(event: NewEvent): Promise<boolean> {
  // The email events customers subscribed to go to the webhook outbox in the same statement.
  const [row] = await Database.rows<{ recorded: boolean; deliveries: string[] | null }>(sql`
    WITH recorded AS (
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, message_id, node_id, type, occurred_at, metadata, provider_key)
      VALUES (${createId("event", event.occurredAt.getTime())}, ${event.workspaceId}, ${event.campaignId}, ${event.contactId},
              ${event.messageId ?? null}, ${event.nodeId ?? null}, ${event.type}, ${event.occurredAt},
              ${JSON.stringify(event.metadata ?? {})}::jsonb, ${event.providerKey ?? null})
      ON CONFLICT (provider_key) DO NOTHING
      RETURNING *
    ), source AS (${sql.raw(Outbox.emailSource("recorded"))}), ${sql.raw(Outbox.fanOut("source"))}
    SELECT EXISTS (SELECT 1 FROM recorded) AS recorded, ARRAY(SELECT id FROM wh_delivery) AS deliveries`);
  await Outbox.queueAfterCommit(row?.deliveries);
  return row?.recorded === true;
}
