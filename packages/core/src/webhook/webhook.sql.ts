import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { partOf, timestamptz } from "../database/columns";
import { unlinkedWorkspaceRecord, workspaceRecord } from "../workspace/workspace.sql";

/**
 * A customer's endpoint and the event types it wants (`*`: all). `secret` signs every delivery;
 * after a rotation `previous_secret` signs too until `previous_secret_expires_at`.
 */
export const webhookSubscriptionTable = pgTable(
  "webhook_subscription",
  {
    ...workspaceRecord(),
    url: text("url").notNull(),
    events: text("events").array().notNull(),
    description: text("description"),
    enabled: boolean("enabled").notNull().default(true),
    disabledReason: text("disabled_reason"),
    secret: text("secret").notNull(),
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: timestamptz("previous_secret_expires_at"),
    /** Since when every attempt has failed (null after a success), and how many failed since. */
    failingSince: timestamptz("failing_since"),
    failuresSince: integer("failures_since").notNull().default(0),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("webhook_subscription_workspace_idx").on(t.workspaceId, t.createdAt, t.id),
    // What the outbox reads in every transaction that emits: the workspace's enabled subscriptions.
    index("webhook_subscription_enabled_idx").on(t.workspaceId).where(sql`${t.enabled}`),
  ],
);

/**
 * The outbox: one row per event, written in the transaction of the change that causes it (and
 * only when an enabled subscription wants it). `body` is the exact JSON delivered and signed.
 */
export const webhookEventTable = pgTable("webhook_event", {
  ...unlinkedWorkspaceRecord(),
  type: text("type").notNull(),
  body: text("body").notNull(),
  occurredAt: timestamptz("occurred_at").notNull(),
});

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event to one subscription: its attempts, outcome and schedule. The id is derived from the
 * pair (outbox.ts), so the primary key alone keeps an event from reaching a subscription twice.
 */
export const webhookDeliveryTable = pgTable(
  "webhook_delivery",
  {
    ...unlinkedWorkspaceRecord(),
    subscriptionId: partOf("subscription_id", () => webhookSubscriptionTable.id),
    eventId: partOf("event_id", () => webhookEventTable.id),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    lastDurationMs: integer("last_duration_ms"),
    /** When the next attempt is due (null once final). */
    nextAttemptAt: timestamptz("next_attempt_at"),
    /** A deliverer holds it until then (an attempt in flight); afterwards anyone may take it. */
    leasedUntil: timestamptz("leased_until"),
    responseBodyPreview: text("response_body_preview"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    deliveredAt: timestamptz("delivered_at"),
  },
  (t) => [
    index("webhook_delivery_list_idx").on(t.subscriptionId, t.createdAt.desc(), t.id.desc()),
    // The sweeper: pending deliveries by when they are due.
    index("webhook_delivery_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  ],
);
