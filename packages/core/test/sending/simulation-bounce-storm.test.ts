import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import { applySesEvent } from "@fluenzr/core/tracking";
import { Subscriptions } from "@fluenzr/core/webhook";
import * as Records from "@fluenzr/local/records";
import { engineSuite, factory, linear, prng } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { bounceStorm } from "./bounce-storm";

/**
 * A bounce storm: a list where one address in eight hard-bounces, sent at 10 emails a minute, each
 * bounce reported by SES a minute after its email. The campaign must pause at the first bounce
 * where the last 200 sent emails (at least 20) are past 5% bounced, as computed here from what
 * the mailer sent, send nothing more while paused, and send again once resumed, with the bounces
 * of the old window no longer counting. Its only account, guarded over the same emails with the
 * same default limits, pauses at the same bounce and is resumed too.
 */

const startEngine = engineSuite();

const SEED = Number(process.env.SIM_SEED ?? 20261204);

describe("simulation: bounce storm", () => {
  it("pauses at the first check past maxBounceRate, sends nothing more, and resumes on a new window", async () => {
    const random = prng(SEED);
    const engine = startEngine({ start: "2026-01-12T08:00:00Z" });
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    await ws.as(() => Subscriptions.create({ url: "https://93.184.216.34/hook", events: ["*"] }));
    const bad = new Set<string>();
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const contact = await factory.contact(ws, { firstName: `P${i}` });
      ids.push(contact.id);
      if (random() < 1 / 8) bad.add(contact.id);
    }
    const workflow = linear([{ id: "e1", email: { subject: "Hi {{firstName}}", body: "Hello" } }]);
    const campaign = await ws.as(() =>
      Campaign.create({
        name: "storm",
        emailAccountId: account.id,
        settings: { maxEmailsPerHour: 600, sendHoursStart: 0, sendHoursEnd: 24 },
        workflow,
      }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: ids }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));
    const status = async () => (await ws.as(() => Campaign.fromID(campaign.id)))!;

    // SES reports each minute's bounces; the campaign pauses exactly when the oracle's window crosses 5%.
    const { pausedAt, expectedAt, reported } = await bounceStorm(engine, bad, async () => (await status()).status === "paused");
    expect(pausedAt).toBeDefined();
    expect(pausedAt).toBe(expectedAt);
    const paused = await status();
    expect(paused.pausedReason).toMatchObject({ code: "BOUNCE_RATE", threshold: 5 });
    expect(paused.pausedReason!.rate).toBeGreaterThan(5);

    // Paused: nothing more goes out, whatever the time.
    const sentAtPause = engine.mailer.sent.length;
    await engine.run(120);
    expect(engine.mailer.sent.length).toBe(sentAtPause);

    // The campaign's only account saw the same 200 emails against the same default limit: the
    // account guard paused it at the same bounce (it would stop it in any other campaign too).
    const sender = (await ws.as(() => EmailAccount.fromID(account.id)))!;
    expect(sender).toMatchObject({ sendingStatus: "paused", pausedReason: { ...paused.pausedReason, at: expect.any(String) } });

    // Resumed (campaign and account): a new window; the old window's late bounces no longer count.
    await ws.as(() => Campaign.transition(campaign.id, "resume"));
    await ws.as(() => EmailAccount.resume(account.id));
    for (const email of engine.mailer.sent.slice(reported)) {
      const sent = (await Records.sentEmail(email.tags.message!))!;
      if (bad.has(sent.contactId)) await applySesEvent(Records.sesRecord("bounce", sent, new Date(engine.clock.now())));
    }
    expect((await status()).status).toBe("active");
    await engine.run(10);
    expect(engine.mailer.sent.length).toBeGreaterThan(sentAtPause);
    const events = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM event WHERE campaign_id = ${campaign.id} AND type = 'paused'`,
    );
    expect(Number(events[0]!.n)).toBe(1);
    // Outbound webhooks: one campaign.paused carrying the reason, then the resume.
    const hooks = await Database.rows<{ type: string; body: string }>(
      sql`SELECT type, body FROM webhook_event WHERE type IN ('campaign.paused', 'campaign.resumed') ORDER BY occurred_at`,
    );
    expect(hooks.map((h) => h.type)).toEqual(["campaign.paused", "campaign.resumed"]);
    expect(JSON.parse(hooks[0]!.body).data).toMatchObject({
      campaign: { id: campaign.id, status: "paused" },
      reason: "BOUNCE_RATE",
      pausedReason: paused.pausedReason,
    });
  }, 120_000);
});
