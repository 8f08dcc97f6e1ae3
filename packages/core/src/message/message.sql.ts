import { sql } from "drizzle-orm";
import { index, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { campaignTable } from "../campaign/campaign.sql";
import { partOf, timestamptz } from "../database/columns";
import { unlinkedWorkspaceRecord } from "../workspace/workspace.sql";

/** One email of a sequence to one contact: at most one per (campaign, contact, node), ever. */
export const messageTable = pgTable(
  "message",
  {
    ...unlinkedWorkspaceRecord(),
    campaignId: partOf("campaign_id", () => campaignTable.id),
    contactId: text("contact_id").notNull(),
    nodeId: text("node_id").notNull(),
    emailAccountId: text("email_account_id").notNull(),
    toEmail: text("to_email").notNull(),
    /** The A/B variant of the node this email was (null: the node has no variants). */
    variantId: text("variant_id"),
    /** The rendered subject (what the contact saw). */
    subject: text("subject").notNull(),
    /**
     * - `sending`: reserved for a contact and node, handed (or about to be handed) to SES. If the
     *   sender dies here, whether SES accepted it is unknown until evidence settles it: its own SES
     *   `Send` event (sent), or `Send` events for later emails of the same account while its own
     *   never came (never sent: forgotten, and the step is due again). See docs/decisions.md.
     * - `sent`: SES accepted it (its message id is known).
     * - `failed`: SES refused it for good.
     */
    status: text("status", { enum: ["sending", "sent", "failed"] })
      .notNull()
      .default("sending"),
    /** The claim whose job reserved it: another delivery of that same job leaves it alone. */
    claimId: text("claim_id"),
    sesMessageId: text("ses_message_id"),
    /** SHA-256 of the one-click unsubscribe token in this email's List-Unsubscribe link. */
    unsubscribeTokenHash: text("unsubscribe_token_hash").notNull(),
    error: text("error"),
    /** When it was reserved: the instant counted by the hourly limit. */
    createdAt: timestamptz("created_at").notNull(),
    sentAt: timestamptz("sent_at"),
    deliveredAt: timestamptz("delivered_at"),
    openedAt: timestamptz("opened_at"),
    clickedAt: timestamptz("clicked_at"),
    /**
     * The first open and click judged human, and the first judged a machine's (Apple Mail Privacy
     * Protection, image proxies, link scanners: docs/machine-events.md). Same rule as the others:
     * the earliest time, counted once. Conditions and A/B winners read the human ones.
     */
    humanOpenedAt: timestamptz("human_opened_at"),
    machineOpenedAt: timestamptz("machine_opened_at"),
    humanClickedAt: timestamptz("human_clicked_at"),
    machineClickedAt: timestamptz("machine_clicked_at"),
    repliedAt: timestamptz("replied_at"),
    bouncedAt: timestamptz("bounced_at"),
    complainedAt: timestamptz("complained_at"),
    unsubscribedAt: timestamptz("unsubscribed_at"),
    failedAt: timestamptz("failed_at"),
    /** When SES's `Send` event for it reached us (our clock): the evidence that settles others. */
    sendEventAt: timestamptz("send_event_at"),
  },
  (t) => [
    uniqueIndex("message_once_key").on(t.campaignId, t.contactId, t.nodeId),
    uniqueIndex("message_ses_id_key").on(t.sesMessageId),
    uniqueIndex("message_unsubscribe_key").on(t.unsubscribeTokenHash),
    // The hourly limit: sends of one campaign in the last 60 minutes.
    index("message_campaign_created_idx").on(t.campaignId, t.createdAt),
    // The daily limit of a sending account: its sends in the last 24 hours.
    index("message_account_created_idx").on(t.emailAccountId, t.createdAt),
    // The sweeper: messages whose fate is still unknown.
    index("message_sending_idx").on(t.createdAt).where(sql`status = 'sending'`),
    index("message_contact_idx").on(t.contactId),
  ],
);

/**
 * An email to SES's mailbox simulator, sent by the sweeper only when an email's fate is unknown
 * and no later email of its account brought evidence: its `Send` event is that evidence.
 */
export const sesProbeTable = pgTable(
  "ses_probe",
  {
    id: text("id").primaryKey(),
    emailAccountId: text("email_account_id").notNull(),
    sesMessageId: text("ses_message_id"),
    createdAt: timestamptz("created_at").notNull(),
    sendEventAt: timestamptz("send_event_at"),
    error: text("error"),
  },
  (t) => [index("ses_probe_account_created_idx").on(t.emailAccountId, t.createdAt)],
);
