import { type AnyPgColumn, boolean, index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { emailKeyOf, timestamps, timestamptz } from "../database/columns";
import { workspaceRecord } from "../workspace/workspace.sql";

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
    ...timestamps,
  },
  (t) => [
    uniqueIndex("email_account_workspace_email_key").on(t.workspaceId, t.emailKey),
    index("email_account_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id),
  ],
);
