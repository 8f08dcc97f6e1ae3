import { sql } from "drizzle-orm";
import * as v from "valibot";
import { eventTable } from "../activity";
import * as Actor from "../actor";
import { campaignContactTable, campaignTable } from "../campaign/campaign.sql";
import { completeIfDone } from "../campaign/complete";
import * as Contact from "../contact";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import { notFound } from "../error";
import * as Message from "../message";
import * as Suppression from "../suppression";
import * as Webhook from "../webhook";

/**
 * GDPR articles 15 and 17 for one contact: everything held about it, as JSON (`exportContact`),
 * and its erasure (`erase`). Erasure deletes the contact and its memberships like a plain delete,
 * then removes or pseudonymises every other trace of its personal data: the recipient address
 * and the rendered subjects of its emails, SES's error texts, the reply text, sender and subject,
 * IP addresses, user agents and links of its events, stored API answers and unmatched
 * notifications that name the address. What makes the numbers stays: emails keep their
 * milestones, events their types and times, so campaign statistics do not move. A suppression
 * entry keeps only the hash of the address (it still matches if the address comes back).
 */

/** Event metadata keys that carry no personal data; every other key of an erased contact's events goes. */
const KEPT_METADATA = ["bounceType", "bounceSubType", "sesBounceType", "feedbackType", "automatic", "source", "delayType", "sesMessageId"];

export const eraseQuery = v.object({ erase: v.optional(v.picklist(["true", "false"], "must be true or false"), "false") });

export interface Erased {
  id: string;
  deleted: true;
  erased: true;
}

export async function erase(contactId: string): Promise<Erased> {
  const contact = await Contact.fromID(contactId);
  if (!contact) throw notFound("Contact", contactId);
  const workspaceId = Actor.workspaceId();
  const address = contact.email;
  const pattern = `%${Database.escapeLike(address.toLowerCase())}%`;
  const campaigns = await Database.transaction(async () => {
    const enrolled = await Database.rows<{ campaign_id: string }>(
      sql`SELECT campaign_id FROM campaign_contact WHERE workspace_id = ${workspaceId} AND contact_id = ${contactId}`,
    );
    await Contact.remove(contactId);
    // Events for the workspace's webhooks that name the person (including the deletion just emitted).
    await Webhook.eraseContact(workspaceId, contactId, address);
    // Its emails: by contact, and any other email of the workspace to the same address (a contact
    // deleted and created again before). The statements on message are the message module's.
    const ids = await Message.eraseRecipient(workspaceId, contactId, address);
    await Database.rows(sql`
      UPDATE event SET metadata = (
        SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(event.metadata)
        WHERE key = ANY(${Database.array(KEPT_METADATA, "text")})),
        -- A click's provider key holds its link; one that names the address keeps only its hash (still unique).
        provider_key = CASE WHEN lower(provider_key) LIKE ${pattern}
                            THEN 'erased:' || encode(sha256(convert_to(provider_key, 'UTF8')), 'hex') ELSE provider_key END
      WHERE workspace_id = ${workspaceId} AND (contact_id = ${contactId} OR message_id = ANY(${Database.array(ids, "text")}))`);
    await Database.rows(sql`
      UPDATE suppression SET email = NULL, note = NULL
      WHERE workspace_id = ${workspaceId} AND email_hash = ${Suppression.hashOf(address)}`);
    await Database.rows(sql`
      DELETE FROM idempotency_key WHERE workspace_id = ${workspaceId} AND lower(response::text) LIKE ${pattern}`);
    // Notifications we could not match to an email are not tied to a workspace: any naming the address goes.
    await Database.rows(sql`DELETE FROM unmatched_event WHERE lower(payload::text) LIKE ${pattern}`);
    return enrolled.map((e) => e.campaign_id);
  });
  // A campaign whose last open sequence was this contact's is now complete.
  for (const campaignId of new Set(campaigns)) await completeIfDone(campaignId);
  return { id: contactId, deleted: true, erased: true };
}

export interface ContactExport {
  contact: Contact.Contact;
  campaigns: Array<{ campaignId: string; name: string; status: string; currentNodeId: string | null; addedAt: Date }>;
  emails: Array<{
    messageId: string;
    campaignId: string;
    nodeId: string;
    to: string;
    subject: string;
    status: string;
    sentAt: Date | null;
    deliveredAt: Date | null;
    openedAt: Date | null;
    clickedAt: Date | null;
    repliedAt: Date | null;
    bouncedAt: Date | null;
    complainedAt: Date | null;
    unsubscribedAt: Date | null;
  }>;
  events: Array<{
    id: string;
    type: string;
    campaignId: string;
    messageId: string | null;
    occurredAt: Date;
    metadata: Record<string, unknown>;
  }>;
  suppressions: Suppression.Entry[];
}

const ENROLMENT = pick(campaignContactTable, ["status", "currentNodeId", "createdAt"], "cc", "enrolment_");
const ENROLLED_IN = pick(campaignTable, ["id", "name"], "c", "campaign_");
const EVENT = pick(eventTable, ["id", "type", "campaignId", "messageId", "occurredAt", "metadata"]);

/** Everything held about the contact (GDPR art. 15). */
export async function exportContact(contactId: string): Promise<ContactExport> {
  const workspaceId = Actor.workspaceId();
  const contact = await Contact.fromID(contactId);
  if (!contact) throw notFound("Contact", contactId);
  const [campaigns, emails, events, suppressions] = await Promise.all([
    Database.rows<Record<string, unknown>>(
      sql`SELECT ${ENROLMENT.list}, ${ENROLLED_IN.list} FROM campaign_contact cc JOIN campaign c ON c.id = cc.campaign_id
          WHERE cc.workspace_id = ${workspaceId} AND cc.contact_id = ${contactId} ORDER BY cc.created_at`,
    ),
    Message.toContact(workspaceId, contactId),
    select(
      EVENT,
      sql`SELECT ${EVENT.list} FROM event WHERE workspace_id = ${workspaceId} AND contact_id = ${contactId} ORDER BY occurred_at, id`,
    ),
    Suppression.entriesFor(workspaceId, contact.email),
  ]);
  return {
    contact,
    campaigns: campaigns.map((raw) => {
      const { status, currentNodeId, createdAt } = ENROLMENT.decode(raw);
      const { id, name } = ENROLLED_IN.decode(raw);
      return { campaignId: id, name, status, currentNodeId, addedAt: createdAt };
    }),
    emails: emails.map(({ id, campaignId, nodeId, toEmail, ...email }) => ({ messageId: id, campaignId, nodeId, to: toEmail, ...email })),
    events,
    suppressions,
  };
}
