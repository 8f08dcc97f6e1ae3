import { readFileSync } from "node:fs";
import * as Campaign from "@fluenzr/core/campaign";
import type * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Records from "@fluenzr/local/records";
import { factory, linear, type TestWorkspace, testEngine } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { onTestFinished } from "vitest";

/** Tracking suites' fixture: a campaign whose first emails went out, and SES records about them. */

export const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));

export const TWO_EMAILS = linear([
  { id: "node_2", email: { subject: "{{firstName}}, quick question", body: "Hello {{firstName}}" } },
  { id: "node_3", delay: { days: 3, businessDays: true } },
  { id: "node_4", email: { subject: "Following up", body: "Again" } },
]);

/** A started campaign whose first emails went out: their message ids, contacts and SES ids. */
export async function sentCampaign(contacts = 2, ws?: TestWorkspace) {
  const engine = testEngine({ start: "2026-01-12T09:00:00Z" });
  // Restored when the calling test ends. (Not a module-level afterEach: files sharing a worker
  // import this module once, so only the first file would have had it, and the virtual clock
  // of the others' campaigns would have stayed installed for the files after them.)
  onTestFinished(() => engine.restore());
  const workspace = ws ?? (await factory.workspace());
  const account = await factory.emailAccount(workspace);
  const people: Contact.Contact[] = [];
  for (let i = 0; i < contacts; i++) people.push(await factory.contact(workspace, { firstName: `P${i}` }));
  const campaign = await workspace.as(() =>
    Campaign.create({ name: "t", emailAccountId: account.id, settings: { maxEmailsPerHour: 600 }, workflow: TWO_EMAILS }),
  );
  await workspace.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: people.map((p) => p.id) }));
  await workspace.as(() => Campaign.transition(campaign.id, "start"));
  await engine.runMinute();
  const sent = await Promise.all(engine.mailer.sent.map(async (e) => (await Records.sentEmail(e.tags.message!))!));
  return { ws: workspace, campaign, people, sent, engine };
}

export const stats = (ws: TestWorkspace, id: string) => ws.as(async () => (await Campaign.fromID(id))!.stats);

export const ccStatus = async (campaignId: string, contactId: string) =>
  (
    await Database.rows<{ status: string }>(
      sql`SELECT status FROM campaign_contact WHERE campaign_id = ${campaignId} AND contact_id = ${contactId}`,
    )
  )[0]?.status;

/** A fixture record, pointed at one of our emails. */
export function about(name: string, email: Records.SentEmail, at: string) {
  const record = fixture(`ses-events/${name}.json`);
  record.mail.messageId = email.sesMessageId;
  record.mail.tags = {
    ...record.mail.tags,
    message: [email.messageId],
    campaign: [email.campaignId],
    contact: [email.contactId],
    node: [email.nodeId],
  };
  const detail = Object.keys(record).find((k) => k !== "eventType" && k !== "mail")!;
  if (record[detail] && typeof record[detail] === "object" && "timestamp" in record[detail]) record[detail].timestamp = at;
  return record;
}
