import * as Campaign from "@fluenzr/core/campaign";
import type * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import type { DAYS } from "@fluenzr/core/schedule";
import { sql } from "drizzle-orm";
import type { TestWorkspace } from "./factories";
import * as factory from "./factories";
import { sequence } from "./workflows";

/** A campaign's settings as the API answers them (SPEC §2). */
export interface Settings {
  sendDays: string[];
  sendHoursStart: number;
  sendHoursEnd: number;
  timezone: string;
  maxEmailsPerHour: number;
  timezoneMode: string;
  maxBounceRate: number;
  maxComplaintRate: number;
  stopOnCompanyReply: boolean;
  holidays: { country: string; region?: string } | null;
  skipDates: string[];
  outOfOfficeHoldDays: number;
}
/**
 * The settings of a campaign created without any, as SPEC §2 documents them: written here, not
 * read from the source, so the tests hold the source to them.
 */
export const DEFAULT_SETTINGS: Settings = {
  sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"],
  sendHoursStart: 9,
  sendHoursEnd: 18,
  timezone: "UTC",
  maxEmailsPerHour: 30,
  timezoneMode: "campaign",
  maxBounceRate: 5,
  maxComplaintRate: 0.3,
  stopOnCompanyReply: false,
  holidays: null,
  skipDates: [],
  outOfOfficeHoldDays: 7,
};

/** Campaign settings of a send window open all day, every day: tests that must not wait for one. */
export const ALWAYS_OPEN = {
  sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as Array<(typeof DAYS)[number]>,
  sendHoursStart: 0,
  sendHoursEnd: 24,
};

/**
 * A started campaign of `ws` (Europe/Paris, 600 an hour, `sequence()` unless told) with
 * `contacts` new contacts enrolled, named C0, C1, ...; its account is named "Sender".
 */
export async function startedCampaign(
  ws: TestWorkspace,
  options: {
    contacts?: number;
    settings?: Record<string, unknown>;
    workflow?: ReturnType<typeof sequence>;
    contactInput?: Record<string, unknown>;
  } = {},
) {
  const account = await factory.emailAccount(ws, { name: "Sender" });
  const contacts: Contact.Contact[] = [];
  for (let i = 0; i < (options.contacts ?? 3); i++)
    contacts.push(await factory.contact(ws, { firstName: `C${i}`, ...options.contactInput }));
  const campaign = await ws.as(() =>
    Campaign.create({
      name: "Engine",
      emailAccountId: account.id,
      settings: { timezone: "Europe/Paris", maxEmailsPerHour: 600, ...options.settings },
      workflow: options.workflow ?? sequence(),
    }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: contacts.map((c) => c.id) }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  return { campaign, contacts, account };
}

/** The campaign's enrolment rows as the engine leaves them, by contact id. */
export const campaignContactRows = (campaignId: string) =>
  Database.rows<{
    contact_id: string;
    status: string;
    current_node_id: string | null;
    next_run_at: Date | null;
    error: string | null;
    claimed_at: Date | null;
  }>(
    sql`SELECT contact_id, status, current_node_id, next_run_at, error, claimed_at FROM campaign_contact WHERE campaign_id = ${campaignId} ORDER BY contact_id`,
  );
