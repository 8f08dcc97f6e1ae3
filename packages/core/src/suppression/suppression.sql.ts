import { sql } from "drizzle-orm";
import { check, index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamptz } from "../database/columns";
import { workspaceRecord } from "../workspace/workspace.sql";

export const SUPPRESSION_REASONS = ["unsubscribed", "bounced", "complained", "manual"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/**
 * Addresses and domains a workspace never emails, whatever happens to its contacts: an entry
 * outlives the contact it came from. An address entry is keyed by the SHA-256 of the lower-case
 * address (`email_hash`), so it keeps working after an erasure clears `email`; a domain entry
 * (`domain`, lower case) matches every address of that domain.
 */
export const suppressionTable = pgTable(
  "suppression",
  {
    ...workspaceRecord(),
    /** The address as first seen; null for a domain entry and once the address is erased. */
    email: text("email"),
    emailHash: text("email_hash"),
    domain: text("domain"),
    reason: text("reason", { enum: SUPPRESSION_REASONS }).notNull(),
    note: text("note"),
    /** The campaign and email whose event added it (automatic entries). */
    sourceCampaignId: text("source_campaign_id"),
    sourceMessageId: text("source_message_id"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("suppression_email_key").on(t.workspaceId, t.emailHash),
    uniqueIndex("suppression_domain_key").on(t.workspaceId, t.domain),
    index("suppression_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id),
    check("suppression_one_target", sql`(${t.emailHash} IS NULL) <> (${t.domain} IS NULL)`),
  ],
);
