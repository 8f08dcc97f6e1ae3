import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { tick } from "@fluenzr/core/sending";
import { Replies } from "@fluenzr/core/tracking";
import { campaignContactRows, engineSuite, factory, fork, sequence, startedCampaign } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * Holidays and skipped dates (#14 part 4) and the out-of-office hold (#13 part 3) through the
 * real engine: tick, queue, sender, settle, on a virtual clock.
 */
const startEngine = engineSuite();

const dueOf = async (campaignId: string) =>
  new Map(
    (await campaignContactRows(campaignId)).map((r) => [r.contact_id, r.next_run_at && Database.toDate(r.next_run_at).toISOString()]),
  );

describe("holidays and skipped dates", () => {
  it("sends nothing on a skipped date (campaign timezone), and the tick claims nothing", async () => {
    // Monday 12 January 2026 09:00 Paris is skipped: the first emails go on Tuesday at 09:00.
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 3, settings: { skipDates: ["2026-01-12"] } });
    expect(await tick(campaign.id)).toEqual({ claimed: 0, reason: "window-closed" });
    await engine.run(30);
    engine.clock.set(new Date("2026-01-12T16:58:00Z")); // 17:58 Paris, the window's last minutes
    await engine.run(2);
    expect(engine.mailer.sent).toHaveLength(0);
    engine.clock.set(new Date("2026-01-13T08:00:00Z"));
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(3);
    // The next step: 3 business days after Tuesday is Friday (no holiday in between).
    expect([...(await dueOf(campaign.id)).values()]).toEqual(Array(3).fill("2026-01-16T08:00:00.000Z"));
  });

  it("business-day delays pass over public holidays of the country; contact mode reads each contact's own date", async () => {
    // Wednesday 23 December 2026, 09:00 Paris. FR: Christmas is Friday 25th.
    const engine = startEngine({ start: "2026-12-23T08:00:00Z" });
    const ws = await factory.workspace();
    const paris = await factory.contact(ws, { firstName: "P", timezone: "Europe/Paris" });
    const tokyo = await factory.contact(ws, { firstName: "T", timezone: "Asia/Tokyo" });
    const account = await factory.emailAccount(ws);
    const campaign = await ws.as(() =>
      Campaign.create({
        name: "Holidays",
        emailAccountId: account.id,
        settings: { timezone: "Europe/Paris", timezoneMode: "contact", maxEmailsPerHour: 600, holidays: { country: "fr" } },
        workflow: sequence(2, { days: 1, businessDays: true }),
      }),
    );
    expect(campaign.settings.holidays).toEqual({ country: "FR" });
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [paris.id, tokyo.id] }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));
    // 09:00 in Paris, 17:00 in Tokyo: both windows are open.
    await engine.runMinute();
    expect(engine.mailer.sent.map((e) => e.to).sort()).toEqual([paris.email, tokyo.email].sort());
    const due = await dueOf(campaign.id);
    // + 1 business day from Wednesday: Thursday 24th (not a French public holiday).
    expect(due.get(paris.id)).toBe("2026-12-24T08:00:00.000Z");
    expect(due.get(tokyo.id)).toBe("2026-12-24T08:00:00.000Z"); // 17:00 Tokyo, still open

    // Skip the 24th too: paused, updated, resumed. A due step on a skipped day is not sent.
    await ws.as(() => Campaign.transition(campaign.id, "pause"));
    await ws.as(() => Campaign.update(campaign.id, { settings: { skipDates: ["2026-12-24"] } }));
    await ws.as(() => Campaign.transition(campaign.id, "resume"));
    engine.clock.set(new Date("2026-12-24T08:00:00Z"));
    await engine.run(60);
    expect(engine.mailer.sent).toHaveLength(2);
    // Deferred to each contact's next send day: Monday 28th (25th Christmas, then the weekend).
    const after = await dueOf(campaign.id);
    expect(after.get(paris.id)).toBe("2026-12-28T08:00:00.000Z");
    expect(after.get(tokyo.id)).toBe("2026-12-28T00:00:00.000Z"); // 09:00 Tokyo
  });
  it("a condition's business days pass over holidays too: its deadline is a business-day delay", async () => {
    // Wednesday 23 December 2026, 09:00 Paris; Christmas (Friday 25th) is a French holiday.
    const engine = startEngine({ start: "2026-12-23T08:00:00Z" });
    const ws = await factory.workspace();
    const email = (subject: string) => ({ subject, body: "Hello {{firstName}}. {{unsubscribeUrl}}" });
    const { campaign } = await startedCampaign(ws, {
      contacts: 1,
      settings: { holidays: { country: "FR" } },
      workflow: fork(
        { id: "e1", email: email("First") },
        { id: "c1", condition: { event: "opened", withinDays: 2, businessDays: true } },
        { yes: { id: "yes", email: email("Yes") }, no: { id: "no", email: email("No") } },
      ),
    });
    await engine.run(5);
    expect(engine.mailer.sent.map((e) => e.subject)).toEqual(["First"]);
    // Thursday 24th, (25th Christmas, the weekend), Monday 28th: "no" at 09:00 Paris on the 28th.
    expect([...(await dueOf(campaign.id)).values()]).toEqual(["2026-12-28T08:00:00.000Z"]);
  });
});

describe("out-of-office hold", () => {
  async function sentOnce(settings: Record<string, unknown> = {}) {
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" }); // Monday 09:00 Paris
    const ws = await factory.workspace();
    const started = await startedCampaign(ws, { contacts: 2, settings, workflow: sequence(3) });
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(2);
    return { engine, ws, ...started };
  }

  it("holds the next step until the first send day after the return date, and shows holdUntil", async () => {
    const { engine, ws, campaign, contacts } = await sentOnce();
    const [away, other] = contacts as [(typeof contacts)[0], (typeof contacts)[0]];
    // Thursday: the reply says back on Friday 23 January; the next email was due Thursday 15th.
    engine.clock.set(new Date("2026-01-13T10:00:00Z"));
    await ws.as(() =>
      Replies.report(campaign.id, {
        contactId: away.id,
        subject: "Réponse automatique : Step 1",
        text: "Bonjour, je suis en congés et serai de retour le 23 janvier.",
        automatic: true,
      }),
    );
    const due = await dueOf(campaign.id);
    expect(due.get(away.id)).toBe("2026-01-26T08:00:00.000Z"); // Monday 26th 09:00 Paris
    expect(due.get(other.id)).toBe("2026-01-15T08:00:00.000Z");
    const listed = await ws.as(() => Campaign.Enrolment.list(campaign.id, { page: 1, perPage: 20 }));
    const held = listed.data.find((c) => c.contactId === away.id)!;
    expect(held).toMatchObject({
      status: "in_progress",
      holdUntil: new Date("2026-01-26T08:00:00Z"),
      nextSendAt: new Date("2026-01-26T08:00:00Z"),
    });
    expect(listed.data.find((c) => c.contactId === other.id)!.holdUntil).toBeNull();
    // The feed's reply says what it did.
    const [event] = await Database.rows<{ metadata: Record<string, unknown> }>(
      sql`SELECT metadata FROM event WHERE contact_id = ${away.id} AND type = 'replied'`,
    );
    expect(event!.metadata).toMatchObject({ automatic: true, returnDate: "2026-01-23", holdUntil: "2026-01-26T08:00:00.000Z" });

    engine.clock.set(new Date("2026-01-15T08:00:00Z"));
    await engine.run(5);
    expect(engine.mailer.sent.filter((e) => e.to === other.email)).toHaveLength(2);
    expect(engine.mailer.sent.filter((e) => e.to === away.email)).toHaveLength(1);
    engine.clock.set(new Date("2026-01-26T08:00:00Z"));
    await engine.runMinute();
    expect(engine.mailer.sent.filter((e) => e.to === away.email)).toHaveLength(2);
    // Once passed, the hold no longer shows; the following step counts from the send as usual.
    const later = await ws.as(() => Campaign.Enrolment.list(campaign.id, { page: 1, perPage: 20 }));
    expect(later.data.find((c) => c.contactId === away.id)!.holdUntil).toBeNull();
    expect((await dueOf(campaign.id)).get(away.id)).toBe("2026-01-29T08:00:00.000Z");
  });

  it("a step already claimed when the reply arrives is given back and waits for the hold", async () => {
    const { engine, ws, campaign, contacts } = await sentOnce({ outOfOfficeHoldDays: 10 });
    const away = contacts[0]!;
    engine.clock.set(new Date("2026-01-15T08:00:00Z"));
    await tick(campaign.id); // claimed and queued, not sent yet
    expect((await campaignContactRows(campaign.id)).every((r) => r.claimed_at !== null)).toBe(true);
    await ws.as(() => Replies.report(campaign.id, { contactId: away.id, text: "I am out of the office.", automatic: true }));
    await engine.runMinute(); // the queue is delivered: the held one is deferred
    expect(engine.mailer.sent.filter((e) => e.to === away.email)).toHaveLength(1);
    expect(engine.mailer.sent).toHaveLength(3);
    // No date: 10 days after Thursday 15th 09:00 → Sunday 25th → Monday 26th 09:00.
    expect((await dueOf(campaign.id)).get(away.id)).toBe("2026-01-26T08:00:00.000Z");
  });

  it("'no longer with the company' stops the sequence as left_company; the campaign completes", async () => {
    const { engine, ws, campaign, contacts } = await sentOnce();
    await ws.as(() =>
      Replies.report(campaign.id, {
        contactId: contacts[0]!.id,
        text: "Herr Beispiel ist nicht mehr bei der Firma. Bitte wenden Sie sich an info@example.de.",
        automatic: true,
      }),
    );
    await ws.as(() => Replies.report(campaign.id, { contactId: contacts[1]!.id, text: "Not interested", automatic: false }));
    const rows = await campaignContactRows(campaign.id);
    expect(new Map(rows.map((r) => [r.contact_id, r.status]))).toEqual(
      new Map([
        [contacts[0]!.id, "left_company"],
        [contacts[1]!.id, "replied"],
      ]),
    );
    expect(rows.every((r) => r.next_run_at === null)).toBe(true);
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.status).toBe("completed");
    const listed = await ws.as(() => Campaign.Enrolment.list(campaign.id, { page: 1, perPage: 20, status: "left_company" }));
    expect(listed.data.map((c) => c.contactId)).toEqual([contacts[0]!.id]);
    await engine.run(3);
  });
});
