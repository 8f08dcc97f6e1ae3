import { sql } from "drizzle-orm";
import { campaignTable } from "../campaign/campaign.sql";
import * as Database from "../database";
import { pick } from "../database/typed";
import { windowOf } from "../schedule";
import { type Verdict, verdict } from "./out-of-office";
import { finishSequence, type MessageRef } from "./state";

/**
 * An automatic reply applied to the contact's sequence (in the reply's transaction): held until
 * the return date's first send day (`campaign_contact.hold_until`, and `next_run_at` moved to it
 * if it was earlier), or stopped as `left_company`. Only an open sequence is changed.
 */

const CAMPAIGN = pick(
  campaignTable,
  ["sendDays", "sendHoursStart", "sendHoursEnd", "timezone", "timezoneMode", "holidays", "skipDates", "outOfOfficeHoldDays"],
  "c",
);

/** What `text` means for the contact's sequence, or undefined when it has none open. */
export async function judge(message: MessageRef, at: Date, text: string): Promise<Verdict | undefined> {
  const [row] = await Database.rows<Record<string, unknown> & { contact_timezone: string | null }>(sql`
    SELECT ${CAMPAIGN.list}, k.timezone AS contact_timezone
    FROM campaign_contact cc JOIN campaign c ON c.id = cc.campaign_id JOIN contact k ON k.id = cc.contact_id
    WHERE cc.campaign_id = ${message.campaignId} AND cc.contact_id = ${message.contactId} AND cc.status IN ('pending', 'in_progress')`);
  if (!row) return undefined;
  const { outOfOfficeHoldDays, ...window } = CAMPAIGN.decode(row);
  return verdict(text, at, windowOf(window, row.contact_timezone), outOfOfficeHoldDays);
}

/** What the reply's activity event says about it. */
export function describe(v: Verdict | undefined): Record<string, unknown> {
  if (!v) return {};
  if (v.kind === "left_company") return { leftCompany: true };
  return { holdUntil: v.holdUntil.toISOString(), ...(v.returnDate ? { returnDate: v.returnDate } : {}) };
}

/** Apply the verdict; true when the sequence stopped (the campaign may now be complete). */
export async function apply(message: MessageRef, v: Verdict, at: Date): Promise<boolean> {
  if (v.kind === "left_company") return finishSequence(message.campaignId, message.contactId, "left_company", at);
  // A step already claimed keeps its claim: the sender reads `hold_until` and gives it back.
  await Database.rows(sql`
    UPDATE campaign_contact
    SET hold_until = ${v.holdUntil},
        next_run_at = CASE WHEN next_run_at IS NULL THEN NULL ELSE greatest(next_run_at, ${v.holdUntil}::timestamptz) END,
        updated_at = ${at}
    WHERE campaign_id = ${message.campaignId} AND contact_id = ${message.contactId} AND status IN ('pending', 'in_progress')`);
  return false;
}
