import * as Activity from "@fluenzr/core/activity";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import { Budget } from "@fluenzr/core/sending";
import { ALWAYS_OPEN, factory, linear, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";

useTestDatabase();

/** Monday 09:00 UTC. */
const MONDAY = "2026-01-12T09:00:00Z";
const DAY = 86_400_000;

let engine: TestEngine;
afterEach(() => engine?.restore());

/** First email, one day, a threaded follow-up without its own subject. */
const TWO_STEPS = linear([
  { id: "first", email: { subject: "Hello {{firstName}}", body: "Hi {{firstName}}. {{unsubscribeUrl}}" } },
  { id: "wait", delay: { days: 1 } },
  { id: "second", email: { body: "Following up, {{firstName}}. {{unsubscribeUrl}}" } },
]);

async function campaignWith(
  ws: factory.TestWorkspace,
  accounts: EmailAccount.EmailAccount[],
  options: { contacts: number; name?: string; workflow?: ReturnType<typeof linear>; maxEmailsPerHour?: number },
) {
  const contacts: Awaited<ReturnType<typeof factory.contact>>[] = [];
  for (let i = 0; i < options.contacts; i++) contacts.push(await factory.contact(ws, { firstName: `C${i}` }));
  const campaign = await ws.as(() =>
    Campaign.create({
      name: options.name ?? "Mailboxes",
      emailAccountIds: accounts.map((a) => a.id),
      settings: { ...ALWAYS_OPEN, maxEmailsPerHour: options.maxEmailsPerHour ?? 6000 },
      workflow: options.workflow ?? TWO_STEPS,
    }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: contacts.map((c) => c.id) }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  return { campaign, contacts };
}

const from = (email: { from: { email: string } }) => email.from.email;
const header = (email: { headers: Array<{ name: string; value: string }> }, name: string) =>
  email.headers.find((h) => h.name === name)?.value;
const countBy = <T>(items: T[], key: (t: T) => string) => {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
};

describe("mailboxes", () => {
  it("spreads first emails over the accounts, and threads each follow-up from the same account", async () => {
    engine = testEngine({ start: MONDAY });
    const ws = await factory.workspace();
    const accounts = [
      await factory.emailAccount(ws, { email: "a@acme.example", name: "A" }),
      await factory.emailAccount(ws, { email: "b@acme.example", name: "B" }),
      await factory.emailAccount(ws, { email: "c@acme.example", name: "C" }),
    ];
    const { campaign } = await campaignWith(ws, accounts, { contacts: 9 });
    expect(campaign).toMatchObject({ emailAccountId: accounts[0]!.id, emailAccountIds: accounts.map((a) => a.id) });
    await engine.runMinute();
    const firsts = [...engine.mailer.sent];
    expect(firsts).toHaveLength(9);
    expect(countBy(firsts, from)).toEqual({ "a@acme.example": 3, "b@acme.example": 3, "c@acme.example": 3 });
    for (const email of firsts) {
      expect(header(email, "In-Reply-To")).toBeUndefined();
      expect(header(email, "Message-ID")).toBeUndefined();
    }

    engine.clock.advance(DAY);
    await engine.runMinute();
    const follow = engine.mailer.sent.slice(9);
    expect(follow).toHaveLength(9);
    for (const email of follow) {
      const first = firsts.find((f) => f.to === email.to)!;
      expect(from(email)).toBe(from(first));
      expect(email.subject).toBe(`Re: ${first.subject}`);
      expect(header(email, "In-Reply-To")).toBe(`<${first.messageId}@email.amazonses.com>`);
      expect(header(email, "References")).toBe(`<${first.messageId}@email.amazonses.com>`);
    }
  });

  it("keeps an account under its daily cap across campaigns; a capped account holds back no other", async () => {
    engine = testEngine({ start: MONDAY });
    const ws = await factory.workspace();
    const shared = await factory.emailAccount(ws, { email: "shared@acme.example", dailyLimit: 5 });
    const other = await factory.emailAccount(ws, { email: "other@acme.example", dailyLimit: 1000 });
    const one = await campaignWith(ws, [shared], { contacts: 8, name: "one", workflow: TWO_STEPS });
    const two = await campaignWith(ws, [shared, other], { contacts: 8, name: "two", workflow: TWO_STEPS });
    await engine.run(30);
    const today = engine.mailer.sent.filter((e) => e.at < Date.parse(MONDAY) + DAY);
    const bySender = countBy(today, from);
    expect(bySender["shared@acme.example"]).toBe(5);
    // Campaign two's contacts all got their first email: the shared account's cap held none back.
    const sentTwo = today.filter((e) => e.tags.campaign === two.campaign.id);
    expect(new Set(sentTwo.map((e) => e.to)).size).toBe(8);
    expect(today.filter((e) => e.tags.campaign === one.campaign.id).length).toBeLessThanOrEqual(5);
    const account = await ws.as(() => EmailAccount.fromID(shared.id));
    expect(await Budget.today(account!, new Date(engine.clock.now()))).toEqual({ sent: 5, cap: 5, remaining: 0 });

    // The next UTC day the shared account sends again: the 3 contacts of campaign one it could not
    // reach on Monday (campaign two's went from the other account, which had more room).
    engine.clock.set(new Date(Date.parse(MONDAY) + DAY - 9 * 3_600_000)); // Tuesday 00:00 UTC
    await engine.run(10);
    const tuesday = engine.mailer.sent.filter((e) => e.at >= Date.parse(MONDAY) + DAY - 9 * 3_600_000);
    expect(countBy(tuesday, from)).toEqual({ "shared@acme.example": 3 });
    expect(new Set(engine.mailer.sent.filter((e) => e.tags.campaign === one.campaign.id).map((e) => e.to)).size).toBe(8);
  });

  it("ramps a warming-up account day by day, and keeps its minimum gap", async () => {
    engine = testEngine({ start: MONDAY });
    const ws = await factory.workspace();
    const warming = await factory.emailAccount(ws, {
      email: "warm@acme.example",
      dailyLimit: 100,
      warmup: { enabled: true, startPerDay: 2, incrementPerDay: 3 },
      minSecondsBetweenEmails: 300,
    });
    expect(warming.warmup).toEqual({ enabled: true, startPerDay: 2, incrementPerDay: 3, startedAt: new Date(MONDAY) });
    const single = linear([{ id: "only", email: { subject: "Hi", body: "Hi. {{unsubscribeUrl}}" } }]);
    await campaignWith(ws, [warming], { contacts: 20, workflow: single });
    const perDay: number[] = [];
    for (let day = 0; day < 3; day++) {
      engine.clock.set(new Date(Date.parse(MONDAY) + day * DAY));
      const before = engine.mailer.sent.length;
      await engine.run(120);
      perDay.push(engine.mailer.sent.length - before);
    }
    // Day 0 (Monday): 2, day 1: 5, day 2: 8.
    expect(perDay).toEqual([2, 5, 8]);
    const times = engine.mailer.sent.map((e) => e.at).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(300_000);
  });

  it("moves a contact whose account left the campaign to another, in a new thread, and says so in the feed", async () => {
    engine = testEngine({ start: MONDAY });
    const ws = await factory.workspace();
    const a = await factory.emailAccount(ws, { email: "a@acme.example" });
    const b = await factory.emailAccount(ws, { email: "b@acme.example" });
    const { campaign } = await campaignWith(ws, [a, b], { contacts: 2 });
    await engine.runMinute();
    const firsts = [...engine.mailer.sent];
    expect(countBy(firsts, from)).toEqual({ "a@acme.example": 1, "b@acme.example": 1 });

    await ws.as(() => Campaign.transition(campaign.id, "pause"));
    await ws.as(() => Campaign.update(campaign.id, { emailAccountIds: [b.id] }));
    await ws.as(() => Campaign.transition(campaign.id, "resume"));
    engine.clock.advance(DAY);
    await engine.runMinute();
    const follow = engine.mailer.sent.slice(2);
    expect(follow.map(from)).toEqual(["b@acme.example", "b@acme.example"]);
    const moved = follow.find((e) => e.to === firsts.find((f) => from(f) === "a@acme.example")!.to)!;
    const stayed = follow.find((e) => e !== moved)!;
    expect(header(moved, "In-Reply-To")).toBeUndefined();
    expect(moved.subject).toMatch(/^Hello C\d$/);
    expect(header(stayed, "In-Reply-To")).toMatch(/@email\.amazonses\.com>$/);
    expect(stayed.subject).toMatch(/^Re: Hello C\d$/);

    const [event] = await Database.rows<{ type: string; metadata: Record<string, string> }>(
      sql`SELECT type, metadata FROM event WHERE campaign_id = ${campaign.id} AND type = 'reassigned'`,
    );
    expect(event).toEqual({ type: "reassigned", metadata: { fromEmailAccountId: a.id, toEmailAccountId: b.id } });
    expect(Activity.EVENT_TYPES).toContain("reassigned");
  });

  it("claims past the contacts of an account that cannot send now: they never hold back the others", async () => {
    engine = testEngine({ start: MONDAY });
    const ws = await factory.workspace();
    const a = await factory.emailAccount(ws, { email: "a@acme.example" });
    const b = await factory.emailAccount(ws, { email: "b@acme.example" });
    // One email a minute: the tick claims one step at a time.
    const { campaign } = await campaignWith(ws, [a, b], { contacts: 4, maxEmailsPerHour: 60 });
    await engine.run(4);
    expect(countBy(engine.mailer.sent, from)).toEqual({ "a@acme.example": 2, "b@acme.example": 2 });
    // The next day account a must wait (a gap of a day), and its contacts are due first.
    await ws.as(() => EmailAccount.update(a.id, { minSecondsBetweenEmails: 86_400 }));
    await Database.rows(sql`
      UPDATE campaign_contact SET next_run_at = next_run_at - CASE WHEN email_account_id = ${a.id} THEN interval '2 hours' ELSE interval '1 hour' END
      WHERE campaign_id = ${campaign.id}`);
    engine.clock.advance(DAY - 30 * 60_000);
    await engine.run(5);
    const follow = engine.mailer.sent.slice(4);
    expect(follow.map(from)).toEqual(["b@acme.example", "b@acme.example"]);
  });
});
