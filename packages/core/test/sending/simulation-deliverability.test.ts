import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import { SesAccount, sweep } from "@fluenzr/core/sending";
import { engineSuite, factory, linear, prng, type TestWorkspace } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { bounceStorm } from "./bounce-storm";

/**
 * Deliverability at scale (#13), beside the campaign bounce storm: an email account shared by two
 * campaigns in a bounce storm, and SES pausing the whole account and resuming it.
 */

const startEngine = engineSuite();

const SEED = Number(process.env.SIM_SEED ?? 20261204);

afterEach(async () => {
  SesAccount.install(undefined);
  await Database.rows(sql`DELETE FROM ses_account`);
});

async function campaignsOn(ws: TestWorkspace, accountId: string, names: string[], contacts: number, settings: Record<string, unknown>) {
  const out: Array<{ id: string; contacts: string[] }> = [];
  for (const name of names) {
    const ids: string[] = [];
    for (let i = 0; i < contacts; i++) ids.push((await factory.contact(ws, { firstName: `${name}${i}` })).id);
    const campaign = await ws.as(() =>
      Campaign.create({
        name,
        emailAccountId: accountId,
        settings: { sendHoursStart: 0, sendHoursEnd: 24, ...settings },
        workflow: linear([{ id: "e1", email: { subject: "Hi {{firstName}}", body: "Hello" } }]),
      }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: ids }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));
    out.push({ id: campaign.id, contacts: ids });
  }
  return out;
}

describe("simulation: deliverability across campaigns", () => {
  it("an account bounce storm over two campaigns pauses the account at the first check past its limit; nothing more goes out; resume works", async () => {
    const random = prng(SEED);
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" });
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    // Campaign limits out of reach: only the account's (default 5%) decides, over both campaigns.
    const [one, two] = await campaignsOn(ws, account.id, ["one", "two"], 150, {
      maxEmailsPerHour: 300,
      maxBounceRate: 60,
      maxComplaintRate: 60,
    });
    const bad = new Set([...one!.contacts, ...two!.contacts].filter(() => random() < 1 / 8));
    const getAccount = async () => (await ws.as(() => EmailAccount.fromID(account.id)))!;

    // SES reports each minute's bounces; the account pauses exactly when the oracle's window crosses 5%.
    const { pausedAt } = await bounceStorm(engine, bad, async () => (await getAccount()).sendingStatus === "paused");
    expect(pausedAt).toBeDefined();
    const paused = await getAccount();
    expect(paused.pausedReason).toMatchObject({ code: "BOUNCE_RATE", threshold: 5 });
    // Both campaigns sent from it before the pause, and both stay active.
    const byCampaign = (id: string) => engine.mailer.sent.filter((m) => m.tags.campaign === id).length;
    expect(byCampaign(one!.id)).toBeGreaterThan(0);
    expect(byCampaign(two!.id)).toBeGreaterThan(0);
    for (const c of [one!, two!]) expect((await ws.as(() => Campaign.fromID(c.id)))!.status).toBe("active");

    const atPause = engine.mailer.sent.length;
    await engine.run(120);
    expect(engine.mailer.sent.length).toBe(atPause);

    await ws.as(() => EmailAccount.resume(account.id));
    await engine.run(10);
    expect(engine.mailer.sent.length).toBeGreaterThan(atPause);
    const [events] = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM event WHERE workspace_id = ${ws.id} AND type = 'account_paused'`,
    );
    expect(Number(events!.n)).toBe(1);
  }, 180_000);

  it("SES pauses the account mid-send and resumes it: nothing is dispatched meanwhile, nothing fails, every contact gets one email", async () => {
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" });
    let sesSending = true;
    SesAccount.install(async () => ({ sendingEnabled: sesSending, enforcementStatus: sesSending ? "HEALTHY" : "SHUTDOWN" }));
    // SES refuses every send while it has paused the account, as SES does.
    let refused = 0;
    engine.mailer.decide = () => {
      if (sesSending) return "ok";
      refused++;
      return "account";
    };
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws, { dailyLimit: 1000 });
    const campaigns = await campaignsOn(ws, account.id, ["a", "b", "c"], 80, { maxEmailsPerHour: 120 });
    const everyone = campaigns.flatMap((c) => c.contacts);
    const sentAt: number[] = [];
    // Between two sweeps: the first refused sends find out (GetAccount) before the sweeper does.
    const PAUSE = 12;
    const RESUME = 42;
    for (let minute = 0; minute < 120; minute++) {
      if (minute === PAUSE) sesSending = false;
      if (minute === RESUME) sesSending = true;
      // The sweeper runs every 5 minutes, as deployed.
      if (minute % 5 === 0) await sweep();
      const before = engine.mailer.sent.length;
      await engine.run(1);
      for (let i = before; i < engine.mailer.sent.length; i++) sentAt.push(minute);
    }
    // While SES had paused sending nothing was accepted (the refusals deferred their steps)...
    expect(sentAt.filter((m) => m >= PAUSE && m < RESUME)).toEqual([]);
    // ...the first refusals asked SES and stopped dispatch: one minute's sends at most, not retries...
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(6);
    // ...and dispatch came back by itself on the first sweep after SES resumed.
    expect(Math.min(...sentAt.filter((m) => m >= RESUME))).toBeLessThanOrEqual(RESUME + 5);
    const to = engine.mailer.sent.map((m) => m.tags.contact!);
    expect(new Set(to).size).toBe(to.length);
    expect(new Set(to)).toEqual(new Set(everyone));
    for (const c of campaigns) expect((await ws.as(() => Campaign.fromID(c.id)))!.status).toBe("completed");
    const [failed] = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM campaign_contact WHERE workspace_id = ${ws.id} AND status = 'failed'`,
    );
    expect(Number(failed!.n)).toBe(0);
  }, 180_000);
});
