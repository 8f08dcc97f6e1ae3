import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { Replies } from "@fluenzr/core/tracking";
import { isFreeMail } from "@fluenzr/core/util/free-mail";
import { factory, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { TWO_EMAILS } from "./sent-campaign";

/**
 * `stopOnCompanyReply` (#13): a human reply from a contact of domain D stops every other contact
 * of D in the campaign, each with a `stopped` event naming the reply; free-mail domains are no
 * company.
 */

useTestDatabase();

let engine: TestEngine | undefined;
afterEach(() => {
  engine?.restore();
  engine = undefined;
});

const PEOPLE = ["alice@acme.io", "bob@acme.io", "carol@ACME.io", "dan@other.io", "eve@gmail.com", "frank@gmail.com"];

async function sent(stopOnCompanyReply: boolean | undefined) {
  engine = testEngine({ start: "2026-01-12T09:00:00Z" });
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const byEmail = new Map<string, string>();
  for (const email of PEOPLE) byEmail.set(email, (await factory.contact(ws, { email, firstName: email.split("@")[0] })).id);
  const campaign = await ws.as(() =>
    Campaign.create({
      name: "company",
      emailAccountId: account.id,
      settings: { maxEmailsPerHour: 600, ...(stopOnCompanyReply === undefined ? {} : { stopOnCompanyReply }) },
      workflow: TWO_EMAILS,
    }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [...byEmail.values()] }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  await engine.runMinute();
  expect(engine.mailer.sent).toHaveLength(PEOPLE.length);
  const statuses = async () => {
    const rows = await Database.rows<{ contact_id: string; status: string }>(
      sql`SELECT contact_id, status FROM campaign_contact WHERE campaign_id = ${campaign.id}`,
    );
    const byId = new Map(rows.map((r) => [r.contact_id, r.status]));
    return Object.fromEntries(PEOPLE.map((e) => [e, byId.get(byEmail.get(e)!)]));
  };
  const reply = (email: string, automatic = false) =>
    ws.as(() => Replies.report(campaign.id, { contactId: byEmail.get(email)!, subject: "Re: hi", text: "Not interested", automatic }));
  return { ws, campaign, byEmail, statuses, reply };
}

describe("stop the whole company on a reply", () => {
  it("a human reply stops the other contacts of its domain (any case), each with an event naming the reply; free mail never counts", async () => {
    const { ws, campaign, byEmail, statuses, reply } = await sent(true);
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.settings.stopOnCompanyReply).toBe(true);
    await reply("dan@other.io", true); // automatic: nothing
    const { messageId } = await reply("alice@acme.io");
    expect(await statuses()).toEqual({
      "alice@acme.io": "replied",
      "bob@acme.io": "completed",
      "carol@ACME.io": "completed",
      "dan@other.io": "in_progress",
      "eve@gmail.com": "in_progress",
      "frank@gmail.com": "in_progress",
    });
    const events = await Database.rows<{ contact_id: string; metadata: Record<string, unknown> }>(
      sql`SELECT contact_id, metadata FROM event WHERE campaign_id = ${campaign.id} AND type = 'stopped' ORDER BY contact_id`,
    );
    expect(events.map((e) => e.contact_id).sort()).toEqual([byEmail.get("bob@acme.io"), byEmail.get("carol@ACME.io")].sort());
    for (const e of events) {
      expect(e.metadata).toEqual({
        reason: "company_reply",
        domain: "acme.io",
        reply: { contactId: byEmail.get("alice@acme.io"), messageId, subject: "Re: hi", receivedAt: expect.any(String) },
      });
    }
    // A gmail.com reply is one person's: the other gmail.com contact goes on.
    await reply("eve@gmail.com");
    expect((await statuses())["frank@gmail.com"]).toBe("in_progress");
    // Only dan and frank get the follow-up.
    engine!.clock.advance(4 * 24 * 3_600_000); // past the 3 business days, inside Friday's window
    await engine!.run(5);
    const followUps = engine!.mailer.sent.slice(PEOPLE.length).map((m) => m.to);
    expect(followUps.sort()).toEqual(["dan@other.io", "frank@gmail.com"]);
  }, 60_000);

  it("is off by default: a reply stops only its own contact", async () => {
    const { ws, campaign, statuses, reply } = await sent(undefined);
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.settings.stopOnCompanyReply).toBe(false);
    await reply("alice@acme.io");
    expect(await statuses()).toMatchObject({ "alice@acme.io": "replied", "bob@acme.io": "in_progress", "carol@ACME.io": "in_progress" });
  });

  it("knows common free-mail domains from the maintained list, and company domains are not on it", () => {
    for (const d of ["gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.fr", "gmx.de", "web.de", "orange.fr", "icloud.com", "proton.me"])
      expect(isFreeMail(d), d).toBe(true);
    for (const d of ["acme.io", "google.com", "microsoft.com", "fluenzr.com"]) expect(isFreeMail(d), d).toBe(false);
  });
});
