import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import { applySesEvent } from "@fluenzr/core/tracking";
import { Subscriptions } from "@fluenzr/core/webhook";
import * as Records from "@fluenzr/local/records";
import { factory, type TestEngine, type TestWorkspace, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { about, TWO_EMAILS } from "./sent-campaign";

/**
 * The deliverability guard per email account (#13): an account's hard bounces and complaints are
 * counted over its last 200 sent emails in every campaign; crossing its own limit pauses the
 * account, which then sends nothing anywhere (a campaign rotating through it uses its other
 * accounts) until resumed.
 */

useTestDatabase();

let engine: TestEngine | undefined;
afterEach(() => {
  engine?.restore();
  engine = undefined;
});

/** Campaigns whose guard never trips (100%): only the account's can. */
const LENIENT = { maxEmailsPerHour: 6000, maxBounceRate: 100, maxComplaintRate: 100 };

async function started(ws: TestWorkspace, accountIds: string[], contacts: number, name: string) {
  const ids: string[] = [];
  for (let i = 0; i < contacts; i++) ids.push((await factory.contact(ws, { firstName: `${name}${i}` })).id);
  const campaign = await ws.as(() => Campaign.create({ name, emailAccountIds: accountIds, settings: LENIENT, workflow: TWO_EMAILS }));
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: ids }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  return campaign;
}

const sentOf = (e: TestEngine, campaignId: string) =>
  Promise.all(e.mailer.sent.filter((m) => m.tags.campaign === campaignId).map(async (m) => (await Records.sentEmail(m.tags.message!))!));

describe("deliverability guard per email account", () => {
  it("pauses the account across its campaigns at the bounce that crosses its limit; it sends nowhere until resumed", async () => {
    engine = testEngine({ start: "2026-01-12T09:00:00Z" });
    const ws = await factory.workspace();
    await ws.as(() => Subscriptions.create({ url: "https://93.184.216.34/hook", events: ["email_account.paused"] }));
    const account = await factory.emailAccount(ws);
    const one = await started(ws, [account.id], 15, "one");
    const two = await started(ws, [account.id], 15, "two");
    await engine.runMinute();
    const [a, b] = [await sentOf(engine, one.id), await sentOf(engine, two.id)];
    expect([a.length, b.length]).toEqual([15, 15]);
    const get = () => ws.as(async () => (await EmailAccount.fromID(account.id))!);

    // 1 of the account's 30 (3.33%): under 5%.
    await applySesEvent(about("bounce-permanent", a[0]!, "2026-01-12T09:02:00.000Z"));
    expect((await get()).sendingStatus).toBe("active");
    // 2 of 30 (6.67%) across the two campaigns, though each campaign alone is at 1 of 15.
    await applySesEvent(about("bounce-permanent", b[0]!, "2026-01-12T09:02:01.000Z"));
    const paused = await get();
    expect(paused).toMatchObject({
      sendingStatus: "paused",
      pausedReason: { code: "BOUNCE_RATE", rate: 6.67, threshold: 5, at: expect.any(String) },
    });
    const events = await Database.rows<{ campaign_id: string; message_id: string; metadata: Record<string, unknown> }>(
      sql`SELECT campaign_id, message_id, metadata FROM event WHERE type = 'account_paused' AND workspace_id = ${ws.id}`,
    );
    expect(events).toEqual([
      {
        campaign_id: two.id,
        message_id: b[0]!.messageId,
        metadata: { emailAccountId: account.id, ...paused.pausedReason, sent: 30, bounced: 2, complained: 0 },
      },
    ]);
    const hooks = await Database.rows<{ body: string }>(sql`SELECT body FROM webhook_event WHERE type = 'email_account.paused'`);
    expect(hooks.map((h) => JSON.parse(h.body).data)).toEqual([
      {
        emailAccount: { id: account.id, email: account.email, name: account.name, sendingStatus: "paused" },
        reason: "BOUNCE_RATE",
        pausedReason: paused.pausedReason,
      },
    ]);
    // The campaigns stay active (their own limits were not crossed) but nothing goes out from the account.
    for (const c of [one, two]) expect((await ws.as(() => Campaign.fromID(c.id)))!.status).toBe("active");
    const before = engine.mailer.sent.length;
    // Past the follow-ups' 3 business days (Friday 09:02, inside the window), then minute by minute.
    engine.clock.advance(4 * 24 * 3_600_000);
    await engine.run(5);
    expect(engine.mailer.sent.length).toBe(before);

    // Resumed: the follow-ups go out, and the old window's bounces no longer count.
    await ws.as(() => EmailAccount.resume(account.id));
    await applySesEvent(about("bounce-permanent", a[1]!, "2026-01-12T09:03:00.000Z"));
    expect((await get()).sendingStatus).toBe("active");
    await engine.run(5);
    expect(engine.mailer.sent.length - before).toBe(30 - 3); // every follow-up but the three bounced contacts'
  }, 120_000);

  it("rotation skips a paused account: the campaign sends from its others; with only paused accounts it sends nothing", async () => {
    engine = testEngine({ start: "2026-01-12T09:00:00Z" });
    const ws = await factory.workspace();
    const [paused, healthy] = [await factory.emailAccount(ws), await factory.emailAccount(ws)];
    const reason = { code: "COMPLAINT_RATE", rate: 0.5, threshold: 0.3, at: "2026-01-12T08:00:00.000Z" };
    await Database.rows(
      sql`UPDATE email_account SET paused_reason = ${JSON.stringify(reason)}::jsonb, paused_at = now() WHERE id = ${paused.id}`,
    );
    const rotating = await started(ws, [paused.id, healthy.id], 6, "rot");
    const stuck = await started(ws, [paused.id], 4, "stuck");
    await engine.run(3);
    const fromRotating = engine.mailer.sent.filter((m) => m.tags.campaign === rotating.id);
    expect(fromRotating).toHaveLength(6);
    expect(new Set(fromRotating.map((m) => m.from.email))).toEqual(new Set([healthy.email]));
    expect(engine.mailer.sent.filter((m) => m.tags.campaign === stuck.id)).toHaveLength(0);
    expect((await ws.as(() => Campaign.fromID(stuck.id)))!.status).toBe("active");
    await ws.as(() => EmailAccount.resume(paused.id));
    await engine.run(3);
    expect(engine.mailer.sent.filter((m) => m.tags.campaign === stuck.id)).toHaveLength(4);
  }, 60_000);

  it("follows the account's own limits: a complaint past its maxComplaintRate", async () => {
    engine = testEngine({ start: "2026-01-12T09:00:00Z" });
    const ws = await factory.workspace();
    const strict = await factory.emailAccount(ws, { maxComplaintRate: 5, maxBounceRate: 50 });
    const c = await started(ws, [strict.id], 20, "strict");
    await engine.runMinute();
    const sent = await sentOf(engine, c.id);
    await applySesEvent(about("complaint", sent[0]!, "2026-01-12T09:02:00.000Z")); // 5%: the limit, not past it
    expect((await ws.as(() => EmailAccount.fromID(strict.id)))!.sendingStatus).toBe("active");
    await applySesEvent(about("complaint", sent[1]!, "2026-01-12T09:02:01.000Z"));
    expect((await ws.as(() => EmailAccount.fromID(strict.id)))!.pausedReason).toMatchObject({
      code: "COMPLAINT_RATE",
      rate: 10,
      threshold: 5,
    });
  }, 60_000);
});
