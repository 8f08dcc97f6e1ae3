import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Message from "@fluenzr/core/message";
import { SendBatch, tick } from "@fluenzr/core/sending";
import { enginePerTest, factory, fork, linear, onServer, type TestWorkspace, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/** A new group of `n` new contacts (`<prefix><i>@example.org`, first names by the prefix's initial), imported at once. */
async function groupOf(ws: TestWorkspace, n: number, prefix: string) {
  const group = await factory.group(ws);
  const contacts = Array.from({ length: n }, (_, i) => ({
    email: `${prefix}${i}@example.org`,
    firstName: `${prefix[0]!.toUpperCase()}${i}`,
  }));
  await ws.as(() => Contact.bulk({ contacts, groupIds: [group.id] }));
  return group;
}

/**
 * Real races need a server with real connections: two ticks and four senders on one campaign,
 * every job delivered twice, all at once. Each step must be sent exactly once.
 */
describe.skipIf(!onServer)("concurrent ticks and senders (PostgreSQL)", () => {
  useTestDatabase({ max: 12 });
  const startEngine = enginePerTest();
  /** Every job delivered twice. */
  const racing = () => startEngine({ start: "2026-01-12T10:00:00Z", queue: { faults: { duplicate: 1 } } });

  it("send each step exactly once", async () => {
    const engine = racing();
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws, { dailyLimit: 10_000 });
    const group = await groupOf(ws, 300, "race");
    const campaign = await ws.as(() =>
      Campaign.create({
        name: "race",
        emailAccountId: account.id,
        settings: { sendDays: ["monday"], sendHoursStart: 0, sendHoursEnd: 24, maxEmailsPerHour: 6000 },
        workflow: linear(
          [
            { id: "a", email: { subject: "A {{firstName}}", body: "a" } },
            { id: "w", delay: { days: 0, hours: 1 } },
            { id: "b", email: { subject: "B {{firstName}}", body: "b" } },
          ],
          { start: "s", end: "e" },
        ),
      }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { groupIds: [group.id] }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));

    for (let minute = 0; minute < 120; minute++) {
      const consumers = Array.from({ length: 4 }, () => engine.queue.drain(SendBatch.handle));
      await Promise.all([tick(campaign.id), tick(campaign.id), ...consumers]);
      await Promise.all(Array.from({ length: 4 }, () => engine.queue.drain(SendBatch.handle)));
      engine.clock.advance(60_000);
      // Redeliver everything still in flight, as if visibility timed out.
      for (const m of engine.queue.messages) m.visibleAt = 0;
    }

    const keys = engine.mailer.sent.map((e) => `${e.tags.contact}/${e.tags.node}`);
    expect(keys).toHaveLength(600);
    expect(new Set(keys).size).toBe(600);
    const [counts] = await Database.rows<{ messages: number; open: number }>(sql`
      SELECT (SELECT count(*)::int FROM message WHERE campaign_id = ${campaign.id} AND status = 'sent') AS messages,
             (SELECT count(*)::int FROM campaign_contact WHERE campaign_id = ${campaign.id} AND status <> 'completed') AS open`);
    expect(counts).toEqual({ messages: 600, open: 0 });
    const after = await ws.as(() => Campaign.fromID(campaign.id));
    expect(after).toMatchObject({ status: "completed", stats: { sent: 600, totalContacts: 300 } });
    const perMinute = new Map<number, number>();
    for (const e of engine.mailer.sent) perMinute.set(e.at, (perMinute.get(e.at) ?? 0) + 1);
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(100);
  }, 300_000);

  it("keeps a shared account under its daily cap and its gap, whichever campaign sends", async () => {
    const engine = racing();
    const ws = await factory.workspace();
    const shared = await factory.emailAccount(ws, { dailyLimit: 150 });
    const gapped = await factory.emailAccount(ws, { dailyLimit: 10_000, minSecondsBetweenEmails: 60 });
    const campaigns: string[] = [];
    for (let c = 0; c < 3; c++) {
      const group = await groupOf(ws, 100, `share${c}-`);
      const campaign = await ws.as(() =>
        Campaign.create({
          name: `shared ${c}`,
          emailAccountIds: [shared.id, gapped.id],
          settings: { sendDays: ["monday"], sendHoursStart: 0, sendHoursEnd: 24, maxEmailsPerHour: 6000 },
          workflow: linear([{ id: "a", email: { subject: "A {{firstName}}", body: "a" } }], { start: "s", end: "e" }),
        }),
      );
      await ws.as(() => Campaign.Enrolment.add(campaign.id, { groupIds: [group.id] }));
      await ws.as(() => Campaign.transition(campaign.id, "start"));
      campaigns.push(campaign.id);
    }
    for (let minute = 0; minute < 20; minute++) {
      const consumers = Array.from({ length: 4 }, () => engine.queue.drain(SendBatch.handle));
      await Promise.all([...campaigns.flatMap((id) => [tick(id), tick(id)]), ...consumers]);
      await Promise.all(Array.from({ length: 4 }, () => engine.queue.drain(SendBatch.handle)));
      engine.clock.advance(60_000);
      for (const m of engine.queue.messages) m.visibleAt = 0;
    }
    const keys = engine.mailer.sent.map((e) => `${e.tags.campaign}/${e.tags.contact}`);
    expect(new Set(keys).size).toBe(keys.length);
    const bySender = (email: string) => engine.mailer.sent.filter((e) => e.from.email === email);
    expect(bySender(shared.email)).toHaveLength(150);
    const gaps = bySender(gapped.email).map((e) => e.at);
    expect(gaps.length).toBeGreaterThanOrEqual(15);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]! - gaps[i - 1]!).toBeGreaterThanOrEqual(60_000);
  }, 300_000);
  it("answers each waiting condition once, and right, while opens arrive during the answering", async () => {
    const engine = racing();
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws, { dailyLimit: 10_000 });
    const group = await groupOf(ws, 200, "branch");
    const email = (id: string) => ({ id, email: { subject: `${id} {{firstName}}`, body: id } });
    const campaign = await ws.as(() =>
      Campaign.create({
        name: "branch race",
        emailAccountId: account.id,
        settings: { sendDays: ["monday", "tuesday"], sendHoursStart: 0, sendHoursEnd: 24, maxEmailsPerHour: 6000, timezone: "UTC" },
        workflow: fork(
          email("a"),
          { id: "c", condition: { event: "opened", withinDays: 1 } },
          { yes: email("yes"), no: email("no") },
          {
            start: "s",
            end: "e",
          },
        ),
      }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { groupIds: [group.id] }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));

    // Every other contact opens its first email, at a random minute of the first hours, applied
    // while ticks and senders race (each job delivered twice).
    const opened = new Map<string, number>();
    for (let minute = 0; minute < 24 * 60 + 30; minute++) {
      const now = engine.clock.now();
      const opens = engine.mailer.sent
        .filter((e) => e.tags.node === "a" && Number(e.tags.contact!.at(-1)!.charCodeAt(0)) % 2 === 0 && !opened.has(e.tags.contact!))
        .filter((e) => now - e.at >= (e.at % 7) * 60_000 + 60_000);
      const consumers = Array.from({ length: 3 }, () => engine.queue.drain(SendBatch.handle));
      await Promise.all([
        tick(campaign.id),
        tick(campaign.id),
        ...consumers,
        ...opens.map(async (e) => {
          opened.set(e.tags.contact!, now);
          const at = new Date(now);
          const result = await Message.applyMilestone({
            messageId: e.tags.message!,
            sesMessageId: e.messageId,
            milestone: "opened",
            at,
            metadata: {},
            providerKey: `o:${e.tags.message}`,
          });
          expect(result).toBe("applied");
        }),
      ]);
      await Promise.all(Array.from({ length: 3 }, () => engine.queue.drain(SendBatch.handle)));
      engine.clock.advance(60_000);
      for (const m of engine.queue.messages) m.visibleAt = 0;
      // Quiet hours: jump ahead once every first email is out and the opens are in.
      if (minute > 30 && minute < 24 * 60 - 5) {
        engine.clock.advance((24 * 60 - 5 - minute) * 60_000);
        minute = 24 * 60 - 5;
      }
    }

    const second = engine.mailer.sent.filter((e) => e.tags.node !== "a");
    const keys = second.map((e) => e.tags.contact!);
    expect(new Set(keys).size, "one second email per contact").toBe(keys.length);
    expect(keys).toHaveLength(200);
    for (const e of second) expect(e.tags.node, e.tags.contact).toBe(opened.has(e.tags.contact!) ? "yes" : "no");
    // As soon as: no open waited for the deadline (a wake lost in a race would show here).
    const slowest = Math.max(...second.filter((e) => e.tags.node === "yes").map((e) => e.at - opened.get(e.tags.contact!)!));
    expect(slowest).toBeLessThanOrEqual(3 * 60_000);
    expect(opened.size).toBeGreaterThan(50);
    const after = await ws.as(() => Campaign.fromID(campaign.id));
    expect(after).toMatchObject({ status: "completed", stats: { sent: 400 } });
  }, 300_000);
});
