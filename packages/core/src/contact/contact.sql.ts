import { sql } from "drizzle-orm";
import { type AnyPgColumn, index, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { emailKeyOf, timestamps } from "../database/columns";
import { workspaceRecord } from "../workspace/workspace.sql";

export const CONTACT_STATUSES = ["active", "unsubscribed", "bounced", "complained"] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export type CustomFieldValue = string | number | boolean;

export const contactTable = pgTable(
  "contact",
  {
    ...workspaceRecord(),
    email: text("email").notNull(),
    emailKey: emailKeyOf((): AnyPgColumn => contactTable.email),
    firstName: text("first_name"),
    lastName: text("last_name"),
    company: text("company"),
    jobTitle: text("job_title"),
    phone: text("phone"),
    website: text("website"),
    status: text("status", { enum: CONTACT_STATUSES }).notNull().default("active"),
    tags: text("tags").array().notNull().default(sql`'{}'::text[]`),
    customFields: jsonb("custom_fields").$type<Record<string, CustomFieldValue>>().notNull().default({}),
    /** The contact's IANA timezone (campaigns in `contact` timezone mode send in it); null: the campaign's. */
    timezone: text("timezone"),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("contact_workspace_email_key").on(t.workspaceId, t.emailKey),
    index("contact_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id),
    index("contact_workspace_status_idx").on(t.workspaceId, t.status),
    index("contact_tags_idx").using("gin", t.tags),
    index("contact_custom_fields_idx").using("gin", sql`${t.customFields} jsonb_path_ops`),
  ],
);
