import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as Log from "@fluenzr/core/log";
import { SendBatch, SesAccount, sweep, tick } from "@fluenzr/core/sending";
import { engineSuite, factory, linear, MONDAY_9_PARIS } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";

/**
 * The SES account's own status (#13): the sweeper reads `GetAccount`; while SES has paused
 * sending nothing is dispatched in any campaign (no claims, queued steps wait, no retries burnt),
 * and dispatch resumes by itself on the sweep that sees SES sending again.
 */

const startEngine = engineSuite();

/** A scripted `GetAccount`, counting its calls. */
let ses = { sendingEnabled: true, enforcementStatus: "HEALTHY" as string | null };
let reads = 0;
afterEach(async () => {
  await Database.rows(sql`DELETE FROM ses_account`);
  SesAccount.install(undefined);
  ses = { sendingEnabled: true, enforcementStatus: "HEALTHY" };
  reads = 0;
});
const installReader = () =>
  SesAccount.install(async () => {
    reads++;
    return { ...ses };
  });

async function campaigns(n: number, contacts: number) {
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const out: Campaign.Campaign[] = [];
  for (let c = 0; c < n; c++) {
    const ids: string[] = [];
    for (let i = 0; i < contacts; i++) ids.push((await factory.contact(ws, { firstName: `C${c}P${i}` })).id);
    const campaign = await ws.as(() =>
      Campaign.create({
        name: `c${c}`,
        emailAccountId: account.id,
        settings: { maxEmailsPerHour: 300, sendHoursStart: 0, sendHoursEnd: 24 },
        workflow: linear([{ id: "e1", email: { subject: "Hi", body: "Hello" } }]),
      }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: ids }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));
    out.push(campaign);
  }
  return { ws, campaigns: out };
}

describe("SES account status", () => {
  it("stops dispatch everywhere while SES has paused sending, queued steps included, and resumes by itself", async () => {
    installReader();
    const engine = startEngine({ start: MONDAY_9_PARIS });
    const {
      ws,
      campaigns: [a, b],
    } = await campaigns(2, 12);
    await engine.runMinute(); // 5 a minute per campaign (300/hour)
    expect(engine.mailer.sent).toHaveLength(10);
    expect((await sweep()).sesSendingPaused).toBe(0);

    // Steps claimed and queued, then SES pauses the account and the sweeper sees it.
    engine.clock.advance(60_000);
    expect((await tick(a!.id)).claimed).toBeGreaterThan(0);
    ses = { sendingEnabled: false, enforcementStatus: "SHUTDOWN" };
    const lines: string[] = [];
    Log.setLevel("info");
    const restoreSink = Log.setSink((line) => lines.push(line));
    try {
      expect((await sweep()).sesSendingPaused).toBe(1);
    } finally {
      restoreSink();
      Log.setLevel(undefined);
    }
    expect(lines.some((l) => l.includes("SES has paused sending"))).toBe(true);
    expect(await SesAccount.current()).toMatchObject({ sendingEnabled: false, enforcementStatus: "SHUTDOWN" });
    // The queued jobs are deferred, not sent; the ticks claim nothing; no campaign is paused.
    await engine.queue.drain(SendBatch.handle);
    expect(await tick(b!.id)).toEqual({ claimed: 0, reason: "ses-paused" });
    await engine.run(30);
    expect(engine.mailer.sent).toHaveLength(10);
    for (const c of [a!, b!]) expect((await ws.as(() => Campaign.fromID(c.id)))!.status).toBe("active");
    const [claims] = await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM campaign_contact WHERE claimed_at IS NOT NULL`);
    expect(Number(claims!.n)).toBe(0);

    // SES sends again: the next sweep sees it, dispatch resumes without anyone resuming anything.
    ses = { sendingEnabled: true, enforcementStatus: "HEALTHY" };
    expect((await sweep()).sesSendingPaused).toBe(0);
    await engine.run(5);
    expect(engine.mailer.sent).toHaveLength(24);
    expect(new Set(engine.mailer.sent.map((m) => m.to)).size).toBe(24);
  }, 60_000);

  it("a send refused as SendingPaused asks SES: a paused account defers the step (no campaign paused); otherwise the campaign pauses", async () => {
    installReader();
    const engine = startEngine({ start: MONDAY_9_PARIS });
    const {
      ws,
      campaigns: [a],
    } = await campaigns(1, 3);
    ses = { sendingEnabled: false, enforcementStatus: "HEALTHY" };
    engine.mailer.next("account"); // the first send fails as SendingPausedException
    await engine.runMinute();
    expect(reads).toBeGreaterThanOrEqual(1);
    expect((await ws.as(() => Campaign.fromID(a!.id)))!).toMatchObject({ status: "active" });
    expect(await SesAccount.current()).toMatchObject({ sendingEnabled: false });
    const sentWhilePaused = engine.mailer.sent.length;
    await engine.run(3);
    expect(engine.mailer.sent.length).toBe(sentWhilePaused);
    ses = { sendingEnabled: true, enforcementStatus: "HEALTHY" };
    await sweep();
    await engine.run(2);
    expect(engine.mailer.sent).toHaveLength(3);

    // SES says the account sends: the refusal is about something else (identity, configuration set).
    const other = await campaigns(1, 2);
    engine.mailer.next("account");
    await engine.run(2);
    const paused = (await other.ws.as(() => Campaign.fromID(other.campaigns[0]!.id)))!;
    expect(paused.status).toBe("paused");
    expect(paused.pauseReason).toMatch(/SendingPausedException/);
  }, 60_000);

  it("keeps the last status when SES cannot be asked, and does nothing without a reader", async () => {
    expect((await sweep()).sesSendingPaused).toBe(0);
    expect(await SesAccount.current()).toBeUndefined();
    installReader();
    ses = { sendingEnabled: false, enforcementStatus: "PROBATION" };
    await sweep();
    SesAccount.install(async () => {
      throw new Error("network down");
    });
    expect((await sweep()).sesSendingPaused).toBe(1);
    expect(await SesAccount.current()).toMatchObject({ sendingEnabled: false, enforcementStatus: "PROBATION" });
  });
});
