import { type AnyPgColumn, boolean, doublePrecision, index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { emailKeyOf, timestamps, timestamptz } from "../database/columns";
import { workspaceRecord } from "../workspace/workspace.sql";

/** Why the deliverability guard paused a campaign or an email account (#13). */
export interface PausedReason {
  code: "BOUNCE_RATE" | "COMPLAINT_RATE";
  /** Percent of the window's sent emails. */
  rate: number;
  /** The setting it exceeded (percent). */
  threshold: number;
  at: string;
}

export const EMAIL_ACCOUNT_STATUSES = ["pending", "verified", "failed"] as const;
export type EmailAccountStatus = (typeof EMAIL_ACCOUNT_STATUSES)[number];

export const emailAccountTable = pgTable(
  "email_account",
  {
    ...workspaceRecord(),
    email: text("email").notNull(),
    emailKey: emailKeyOf((): AnyPgColumn => emailAccountTable.email),
    name: text("name").notNull(),
    replyTo: text("reply_to"),
    dailyLimit: integer("daily_limit").notNull(),
    status: text("status", { enum: EMAIL_ACCOUNT_STATUSES }).notNull().default("pending"),
    /** Warm-up: the day's cap grows from `start` by `increment` a day since `warmupStartedAt` (UTC days). */
    warmupEnabled: boolean("warmup_enabled").notNull().default(false),
    warmupStartPerDay: integer("warmup_start_per_day").notNull().default(5),
    warmupIncrementPerDay: integer("warmup_increment_per_day").notNull().default(3),
    warmupStartedAt: timestamptz("warmup_started_at"),
    /** At least this long between two emails of the account, whatever the campaign. */
    minSecondsBetweenEmails: integer("min_seconds_between_emails").notNull().default(0),
    /** The deliverability guard across all the account's campaigns (#13): percent of hard bounces that pauses it. */
    maxBounceRate: doublePrecision("max_bounce_rate").notNull().default(5),
    /** Percent of complaints over the guard's window that pauses the account. */
    maxComplaintRate: doublePrecision("max_complaint_rate").notNull().default(0.3),
    /** Why the guard paused the account (it sends nothing, in any campaign, until resumed); null: sending. */
    pausedReason: jsonb("paused_reason").$type<PausedReason>(),
    pausedAt: timestamptz("paused_at"),
    /** The guard counts the account's emails reserved after this instant (its last resume); null: all. */
    guardWindowStart: timestamptz("guard_window_start"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("email_account_workspace_email_key").on(t.workspaceId, t.emailKey),
    index("email_account_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id),
  ],
);
