import { sql } from "drizzle-orm";
import { col, pick, select } from "../database/typed";
import { messageTable } from "./message.sql";

/**
 * The statements on `message` that GDPR needs (articles 15 and 17), with the rest of the module's
 * statements: privacy/ orchestrates the erasure and the export, the message table is read and
 * written only here.
 */

const t = messageTable;
type Message = typeof messageTable.$inferSelect;

/** What an erased email keeps in place of the subject the contact saw. */
export const ERASED_SUBJECT = "[erased]";

/**
 * Pseudonymise the emails of a contact and any other email of the workspace to the same address
 * (a contact deleted and created again before): the address becomes a placeholder of its own per
 * email (`erased+<id>@erased.invalid`), the rendered subject `[erased]`, SES's error text goes.
 * Status and milestones stay, so statistics keep their numbers. Returns the ids of the emails.
 */
export async function eraseRecipient(workspaceId: string, contactId: string, address: string): Promise<string[]> {
  const picked = pick(t, ["id"]);
  const rows = await select(
    picked,
    sql`UPDATE message SET ${col(t.toEmail)} = 'erased+' || ${col(t.id)} || '@erased.invalid', ${col(t.subject)} = ${ERASED_SUBJECT},
               ${col(t.error)} = NULL
        WHERE ${col(t.workspaceId)} = ${workspaceId} AND (${col(t.contactId)} = ${contactId} OR lower(${col(t.toEmail)}) = ${address.toLowerCase()})
        RETURNING ${picked.list}`,
  );
  return rows.map((row) => row.id);
}

const EXPORTED = [
  "id",
  "campaignId",
  "nodeId",
  "toEmail",
  "subject",
  "status",
  "sentAt",
  "deliveredAt",
  "openedAt",
  "clickedAt",
  "repliedAt",
  "bouncedAt",
  "complainedAt",
  "unsubscribedAt",
] as const;

/** An email as the contact's export shows it: where it belongs, what it said, what happened to it. */
export type Exported = Pick<Message, (typeof EXPORTED)[number]>;

/** Every email of the workspace to this contact, oldest first. */
export async function toContact(workspaceId: string, contactId: string): Promise<Exported[]> {
  const picked = pick(t, EXPORTED);
  return select(
    picked,
    sql`SELECT ${picked.list} FROM message
        WHERE ${col(t.workspaceId)} = ${workspaceId} AND ${col(t.contactId)} = ${contactId}
        ORDER BY ${col(t.createdAt)}, ${col(t.id)}`,
  );
}
