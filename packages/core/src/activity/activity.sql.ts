import { index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamptz } from "../database/columns";
import { OUTCOMES } from "../stats/stats.sql";
import { unlinkedWorkspaceRecord } from "../workspace/workspace.sql";

export const EVENT_TYPES = [
  ...OUTCOMES,
  "complained",
  "failed",
  /** SES could not deliver yet and keeps trying (DeliveryDelay): informational. */
  "delayed",
  /** A suppression entry an event had added was deleted by the user: the contact may be emailed again. */
  "unsuppressed",
  /** The contact's sending account left the campaign or stopped being usable: it moved to another (a new thread). */
  "reassigned",
  /** The deliverability guard paused the campaign after this email's bounce or complaint (metadata: the reason). */
  "paused",
  /** The deliverability guard paused the email account after this email's bounce or complaint (metadata: the account and reason). */
  "account_paused",
  /** A human reply from another contact of the same company stopped this contact (`stopOnCompanyReply`; metadata: the reply). */
  "stopped",
  /** An email node's A/B test picked its winner (metadata: winner, metric, the counts and z it was decided on); recorded on the first contact to get it. */
  "ab_winner",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The activity feed: one row per thing that happened to an email (every open and click, not
 * only the first). `provider_key` is the provider's identity of the event (SES message id, event
 * type and timestamp; or `sent:<message>`): a redelivered event is a no-op.
 */
export const eventTable = pgTable(
  "event",
  {
    ...unlinkedWorkspaceRecord(),
    campaignId: text("campaign_id").notNull(),
    contactId: text("contact_id").notNull(),
    messageId: text("message_id"),
    nodeId: text("node_id"),
    type: text("type", { enum: EVENT_TYPES }).notNull(),
    occurredAt: timestamptz("occurred_at").notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    providerKey: text("provider_key"),
  },
  (t) => [
    uniqueIndex("event_provider_key").on(t.providerKey),
    index("event_feed_idx").on(t.campaignId, t.occurredAt.desc(), t.id.desc()),
    index("event_feed_type_idx").on(t.campaignId, t.type, t.occurredAt.desc(), t.id.desc()),
    index("event_feed_contact_idx").on(t.campaignId, t.contactId, t.occurredAt.desc(), t.id.desc()),
  ],
);
