import { sql } from "drizzle-orm";
import { boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { contactTable } from "../contact/contact.sql";
import { partOf, timestamps, timestamptz, workspaceIdColumn } from "../database/columns";
import { emailAccountTable, type PausedReason } from "../email-account/email-account.sql";
import type { Day, HolidayCalendar, TimezoneMode } from "../schedule";
import type { Answer, ConditionEvent, Workflow } from "../workflow";
import { workspaceRecord } from "../workspace/workspace.sql";

/** A condition answered for a contact: which, how, and when (the event's time, or the deadline). */
export interface PathStep {
  nodeId: string;
  answer: Answer;
  at: string;
}

export type { PausedReason } from "../email-account/email-account.sql";

/** The columns a send window is read from (`schedule.windowOf`): days, hours, zones, closed days. */
export const WINDOW_COLUMNS = ["sendDays", "sendHoursStart", "sendHoursEnd", "timezone", "timezoneMode", "holidays", "skipDates"] as const;

export const CAMPAIGN_STATUSES = ["draft", "active", "paused", "completed", "archived"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const campaignTable = pgTable(
  "campaign",
  {
    ...workspaceRecord(),
    name: text("name").notNull(),
    description: text("description"),
    status: text("status", { enum: CAMPAIGN_STATUSES }).notNull().default("draft"),
    emailAccountId: text("email_account_id")
      .notNull()
      .references(() => emailAccountTable.id),
    /** The sending accounts, in order (1–50); `email_account_id` is the first. */
    emailAccountIds: text("email_account_ids").array().notNull(),
    sendDays: text("send_days").array().$type<Day[]>().notNull(),
    sendHoursStart: integer("send_hours_start").notNull(),
    sendHoursEnd: integer("send_hours_end").notNull(),
    timezone: text("timezone").notNull(),
    /** `contact`: each contact's window and business days in its own timezone (the campaign's when it has none). */
    timezoneMode: text("timezone_mode").$type<TimezoneMode>().notNull().default("campaign"),
    maxEmailsPerHour: integer("max_emails_per_hour").notNull(),
    /** Public holidays of this country (and region) are not send days, nor business days. */
    holidays: jsonb("holidays").$type<HolidayCalendar | null>(),
    /** Local dates (`YYYY-MM-DD`) with no email, not counted as business days. */
    skipDates: text("skip_dates").array().notNull().default(sql`'{}'::text[]`),
    /** An automatic reply with no return date holds the contact's next step this many days. */
    outOfOfficeHoldDays: integer("out_of_office_hold_days").notNull().default(7),
    /** Pause when hard bounces exceed this percent of the guard's window of sent emails. */
    maxBounceRate: doublePrecision("max_bounce_rate").notNull().default(5),
    /** Pause when complaints exceed this percent of the guard's window of sent emails. */
    maxComplaintRate: doublePrecision("max_complaint_rate").notNull().default(0.3),
    /** A human reply from a contact of a company domain stops every contact of that domain in the campaign (#13). */
    stopOnCompanyReply: boolean("stop_on_company_reply").notNull().default(false),
    workflow: jsonb("workflow").$type<Workflow>(),
    /** Enrolled contacts, kept in the statement that enrols or removes them. */
    totalContacts: integer("total_contacts").notNull().default(0),
    /** Why sending stopped when the system paused it (SES account paused, ...). */
    pauseReason: text("pause_reason"),
    /** Why the deliverability guard paused it (bounce or complaint rate); cleared by resume. */
    pausedReason: jsonb("paused_reason").$type<PausedReason>(),
    /** The guard counts emails reserved after this instant (the last resume); null: all of them. */
    guardWindowStart: timestamptz("guard_window_start"),
    ...timestamps,
    startedAt: timestamptz("started_at"),
    pausedAt: timestamptz("paused_at"),
    completedAt: timestamptz("completed_at"),
    archivedAt: timestamptz("archived_at"),
  },
  (t) => [
    index("campaign_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id),
    index("campaign_workspace_updated_idx").on(t.workspaceId, t.updatedAt, t.id),
    index("campaign_workspace_name_idx").on(t.workspaceId, t.name, t.id),
    index("campaign_workspace_status_idx").on(t.workspaceId, t.status, t.createdAt, t.id),
    index("campaign_workspace_started_idx").on(t.workspaceId, t.startedAt, t.id),
    index("campaign_active_idx").on(t.id).where(sql`status = 'active'`),
  ],
);

/** A variant of one of a campaign's email nodes: the columns of what is kept per A/B variant. */
export const nodeVariant = () => ({
  campaignId: partOf("campaign_id", () => campaignTable.id),
  nodeId: text("node_id").notNull(),
  variantId: text("variant_id").notNull(),
});

export const CAMPAIGN_CONTACT_STATUSES = [
  "pending",
  "in_progress",
  "completed",
  "replied",
  "bounced",
  "unsubscribed",
  "failed",
  "left_company",
] as const;

/**
 * A contact's progress through one campaign. `next_run_at` is when its next email is due;
 * `claimed_at`/`claim_id` mark a step handed to the send queue.
 */
export const campaignContactTable = pgTable(
  "campaign_contact",
  {
    campaignId: partOf("campaign_id", () => campaignTable.id),
    contactId: partOf("contact_id", () => contactTable.id),
    workspaceId: workspaceIdColumn(),
    status: text("status", { enum: CAMPAIGN_CONTACT_STATUSES }).notNull().default("pending"),
    /** The node the contact waits at: the email it is sent next, or a condition (null before start and once finished). */
    currentNodeId: text("current_node_id"),
    /** At a condition: the event it waits for (`opened`, `clicked`, `replied`); null at an email. */
    waitingFor: text("waiting_for").$type<ConditionEvent>(),
    /** At a condition: when the contact reached it (the answer is "yes" no earlier, its days count from here). */
    waitingSince: timestamptz("waiting_since"),
    /** The conditions answered on the way, in order. */
    path: jsonb("path").$type<PathStep[]>().notNull().default(sql`'[]'::jsonb`),
    nextRunAt: timestamptz("next_run_at"),
    claimedAt: timestamptz("claimed_at"),
    claimId: text("claim_id"),
    lastSentAt: timestamptz("last_sent_at"),
    /** An out-of-office reply holds the next step until then (`next_run_at` is moved with it). */
    holdUntil: timestamptz("hold_until"),
    /** The account that sends this contact's emails, chosen at its first email. */
    emailAccountId: text("email_account_id"),
    /** Why the contact failed (a template variable without value, a rejected address, ...). */
    error: text("error"),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.contactId] }),
    // The tick: due, unclaimed steps of one campaign, without reading the others.
    index("campaign_contact_due_idx").on(t.campaignId, t.nextRunAt).where(sql`next_run_at IS NOT NULL AND claimed_at IS NULL`),
    // The tick's in-flight count, and the sweeper: claims whose queue message never came.
    index("campaign_contact_claimed_idx").on(t.campaignId, t.claimedAt).where(sql`claimed_at IS NOT NULL`),
    // The list by status, and completion: does any contact still have a step to go?
    index("campaign_contact_list_idx").on(t.campaignId, t.status, t.createdAt),
    index("campaign_contact_contact_idx").on(t.contactId),
  ],
);
