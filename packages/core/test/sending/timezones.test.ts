import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { cronExpression } from "@fluenzr/core/scheduler";
import { tick } from "@fluenzr/core/sending";
import { campaignContactRows, engineSuite, factory, linear, sequence } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";

/**
 * The recipient's timezone (#14): in `contact` mode each contact's window and business days are
 * its own timezone's (the campaign's when it has none). The oracle below is luxon on the
 * contact's zone, independent of the engine's schedule module.
 */
const startEngine = engineSuite();

const inWindow = (at: number, zone: string, start: number, end: number) => {
  const local = DateTime.fromMillis(at, { zone });
  return local.weekday <= 5 && local.hour >= start && local.hour < end;
};

async function contactModeCampaign(
  zones: Array<string | null>,
  options: { settings?: Record<string, unknown>; workflow?: ReturnType<typeof linear> } = {},
) {
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const contacts: Array<{ id: string; email: string }> = [];
  for (const [i, timezone] of zones.entries()) contacts.push(await factory.contact(ws, { firstName: `C${i}`, timezone }));
  const campaign = await ws.as(() =>
    Campaign.create({
      name: "Their time",
      emailAccountId: account.id,
      settings: { timezone: "Europe/Paris", timezoneMode: "contact", maxEmailsPerHour: 600, ...options.settings },
      workflow: options.workflow ?? sequence(),
    }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: contacts.map((c) => c.id) }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  return { ws, campaign, contacts };
}

describe("contact timezone mode", () => {
  it("stores each contact's first step at its own window's opening, and sends each inside it", async () => {
    // Monday 12 January 2026, 08:00Z: 09:00 in Paris, 17:00 in Tokyo, 03:00 in New York.
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" });
    const { campaign, contacts } = await contactModeCampaign(["Asia/Tokyo", "America/New_York", null]);
    const [tokyo, newYork, none] = contacts as [(typeof contacts)[0], (typeof contacts)[0], (typeof contacts)[0]];
    const due = new Map((await campaignContactRows(campaign.id)).map((r) => [r.contact_id, Database.toDate(r.next_run_at).toISOString()]));
    expect(due.get(tokyo.id)).toBe("2026-01-12T08:00:00.000Z"); // open now (17:00 Tokyo)
    expect(due.get(newYork.id)).toBe("2026-01-12T14:00:00.000Z"); // 09:00 New York
    expect(due.get(none.id)).toBe("2026-01-12T08:00:00.000Z"); // the campaign's zone: Paris, open

    await engine.runMinute();
    expect(engine.mailer.sent.map((e) => e.to).sort()).toEqual([tokyo.email, none.email].sort());
    // New York's step is not even claimed before its opening (the tick finds nothing due).
    engine.clock.set(new Date("2026-01-12T13:59:00Z"));
    expect(await tick(campaign.id)).toEqual({ claimed: 0 });
    engine.clock.set(new Date("2026-01-12T14:00:00Z"));
    await engine.runMinute();
    expect(engine.mailer.sent.map((e) => e.to)).toContain(newYork.email);

    // Next step: 3 business days later in the contact's zone, at its window (sequence(): 3 business days).
    const next = new Map((await campaignContactRows(campaign.id)).map((r) => [r.contact_id, Database.toDate(r.next_run_at).toISOString()]));
    expect(next.get(newYork.id)).toBe("2026-01-15T14:00:00.000Z"); // Thursday 09:00 New York
    expect(next.get(tokyo.id)).toBe("2026-01-15T08:00:00.000Z"); // Thursday 17:00 Tokyo
  });

  it("contacts added to an active campaign (by group, by filter) are due at their own zone's opening", async () => {
    startEngine({ start: "2026-01-12T08:00:00Z" }); // Monday 09:00 Paris
    const { ws, campaign } = await contactModeCampaign(["Europe/Paris"]);
    const group = await factory.group(ws);
    const lima = await factory.contact(ws, { timezone: "America/Lima", groupIds: [group.id] });
    const sydney = await factory.contact(ws, { timezone: "Australia/Sydney", groupIds: [group.id] });
    const kathmandu = await factory.contact(ws, { timezone: "Asia/Kathmandu", tags: ["np"] });
    const bare = await factory.contact(ws, { groupIds: [group.id] });
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { groupIds: [group.id] }));
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { filters: { timezone: "Asia/Kathmandu", tags: ["np"] } }));
    const due = new Map((await campaignContactRows(campaign.id)).map((r) => [r.contact_id, Database.toDate(r.next_run_at).toISOString()]));
    expect(due.get(lima.id)).toBe("2026-01-12T14:00:00.000Z"); // 09:00 Lima (UTC-5)
    expect(due.get(sydney.id)).toBe("2026-01-12T22:00:00.000Z"); // 19:00 in Sydney now: Tuesday 09:00 there
    expect(due.get(kathmandu.id)).toBe("2026-01-12T08:00:00.000Z"); // 13:45 Kathmandu: open now
    expect(due.get(bare.id)).toBe("2026-01-12T08:00:00.000Z"); // the campaign's zone, open now
  });

  it("a contact's late-claimed step outside its window is deferred to its next opening, not re-claimed every minute", async () => {
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" });
    const { campaign, contacts } = await contactModeCampaign(["Asia/Tokyo"], { settings: { sendHoursStart: 9, sendHoursEnd: 18 } });
    // Due at 17:59 Tokyo but only claimed and sent at 18:00 (the window has closed).
    await Database.rows(sql`UPDATE campaign_contact SET next_run_at = '2026-01-12T08:59:00Z' WHERE campaign_id = ${campaign.id}`);
    engine.clock.set(new Date("2026-01-12T09:00:00Z"));
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(0);
    const [row] = await campaignContactRows(campaign.id);
    expect(Database.toDate(row!.next_run_at).toISOString()).toBe("2026-01-13T00:00:00.000Z"); // Tuesday 09:00 Tokyo
    expect(row!.contact_id).toBe(contacts[0]!.id);
    expect(await tick(campaign.id)).toEqual({ claimed: 0 });
  });

  it("ticks every minute of the day (the union of its contacts' windows), and stays in the campaign's window otherwise", () => {
    const window = { sendDays: ["monday" as const], sendHoursStart: 9, sendHoursEnd: 18, timezone: "Europe/Paris" };
    expect(cronExpression(window)).toBe("cron(* 9-17 ? * MON *)");
    expect(cronExpression({ ...window, timezoneMode: "contact" })).toBe("cron(* * ? * * *)");
  });

  it("across New York's DST change, contacts in six zones (+05:45, southern hemisphere) never get an email outside their window", async () => {
    // From Thursday 5 March 2026: New York moves to summer time on the 8th, amid the sequence;
    // Sydney and Auckland are in their summer time, Kathmandu is +05:45.
    const zones = ["Asia/Kathmandu", "Australia/Sydney", "America/New_York", "Europe/Paris", "Pacific/Auckland", null];
    const engine = startEngine({ start: "2026-03-05T00:00:00Z" });
    const email = (n: number) => ({ subject: `Step ${n} {{firstName}}`, body: `Hello {{firstName}} {{unsubscribeUrl}}` });
    const workflow = linear([
      { id: "e1", email: email(1) },
      { id: "w2", delay: { days: 1, businessDays: true } },
      { id: "e2", email: email(2) },
      { id: "w3", delay: { days: 0, hours: 20 } },
      { id: "e3", email: email(3) },
      { id: "w4", delay: { days: 2, businessDays: true } },
      { id: "e4", email: email(4) },
    ]);
    const perZone = 4;
    const { campaign, contacts } = await contactModeCampaign(
      zones.flatMap((z) => Array.from({ length: perZone }, () => z)),
      { settings: { timezone: "America/Sao_Paulo", sendHoursStart: 8, sendHoursEnd: 17, maxEmailsPerHour: 120 }, workflow },
    );
    const zoneOf = new Map(contacts.map((c, i) => [c.email, zones[Math.floor(i / perZone)] ?? "America/Sao_Paulo"]));
    // Ten-minute steps over five weeks: windows open and close on the hour, so nothing is skipped.
    for (let i = 0; i < 5 * 7 * 144; i++) {
      await engine.runMinute();
      engine.clock.advance(10 * 60_000);
      if (i % 144 === 0) {
        const [open] = await Database.rows<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM campaign_contact WHERE campaign_id = ${campaign.id} AND status IN ('pending', 'in_progress')`,
        );
        if (!open!.n) break;
      }
    }
    const sent = engine.mailer.sent;
    expect(sent).toHaveLength(contacts.length * 4);
    const outside = sent.filter((e) => !inWindow(e.at, zoneOf.get(e.to)!, 8, 17));
    expect(outside.map((e) => `${e.to} ${DateTime.fromMillis(e.at, { zone: zoneOf.get(e.to)! }).toISO()}`)).toEqual([]);
    const keys = sent.map((e) => `${e.to}|${e.tags.node}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Business days in the contact's zone: the second email is on the next weekday (local) or later.
    for (const c of contacts) {
      const mine = sent.filter((e) => e.to === c.email).sort((a, b) => a.at - b.at);
      const zone = zoneOf.get(c.email)!;
      const first = DateTime.fromMillis(mine[0]!.at, { zone });
      const second = DateTime.fromMillis(mine[1]!.at, { zone });
      expect(second.startOf("day") > first.startOf("day")).toBe(true);
      expect(second.weekday).toBeLessThanOrEqual(5);
    }
  }, 240_000);
});
