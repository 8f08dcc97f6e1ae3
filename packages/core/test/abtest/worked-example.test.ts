import * as Activity from "@fluenzr/core/activity";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as Stats from "@fluenzr/core/stats";
import { Replies } from "@fluenzr/core/tracking";
import { engineSuite, factory, linear, MONDAY_9_PARIS, startedCampaign } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * The worked A/B example, through the real engine (tick, queue, sender, counters): two subject
 * lines, replies to 2 % of variant "a" and 6 % of variant "b". Once each has 150 emails sent, the
 * one-sided two-proportion z-test at 0.95 decides "b"; every contact reaching the node after
 * that gets "b", and each threaded follow-up answers the subject its contact actually got.
 */

const startEngine = engineSuite();

const A = { id: "a", subject: "Quick question, {{firstName}}", body: "Hello {{firstName|there}}. {{unsubscribeUrl}}" };
const B = { id: "b", subject: "{{firstName}}, 10 minutes?", body: "Hi {{firstName|there}}. {{unsubscribeUrl}}" };

const workflow = linear([
  { id: "pitch", email: { variants: [A, B], abTest: { metric: "replyRate", minSentPerVariant: 150 } } },
  { id: "wait", delay: { days: 3, businessDays: true } },
  { id: "bump", email: { body: "Any thoughts, {{firstName|there}}? {{unsubscribeUrl}}" } },
]);

const variantsOf = (campaignId: string) =>
  Database.rows<{ contact_id: string; node_id: string; variant_id: string | null; subject: string }>(
    sql`SELECT contact_id, node_id, variant_id, subject FROM message WHERE campaign_id = ${campaignId} ORDER BY created_at, id`,
  );

describe("A/B test, worked example", () => {
  it("2 % vs 6 % reply rates: decides b, sends b to every later contact, follow-ups answer the variant sent", async () => {
    const engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign, contacts, account } = await startedCampaign(ws, { contacts: 400, workflow, settings: { maxEmailsPerHour: 3000 } });
    // One account sends all 500 today (its default cap is lower).
    await Database.rows(sql`UPDATE email_account SET daily_limit = 1000, warmup_enabled = false WHERE id = ${account.id}`);

    // Wave 1: 400 contacts, split by the deterministic draw (about half each).
    await engine.run(10);
    const wave1 = await variantsOf(campaign.id);
    expect(wave1).toHaveLength(400);
    const byVariant = { a: wave1.filter((m) => m.variant_id === "a"), b: wave1.filter((m) => m.variant_id === "b") };
    expect(byVariant.a.length + byVariant.b.length).toBe(400);
    for (const list of Object.values(byVariant)) expect(list.length).toBeGreaterThanOrEqual(150);
    // Each got its variant's subject, rendered.
    const firstName = new Map(contacts.map((c) => [c.id, c.firstName]));
    for (const m of byVariant.b) expect(m.subject).toBe(`${firstName.get(m.contact_id)}, 10 minutes?`);

    // Replies: 2 % of a's contacts, 6 % of b's (reported as an integration would).
    const replied = new Set<string>();
    for (const [variant, share] of [
      ["a", 0.02],
      ["b", 0.06],
    ] as const) {
      const list = byVariant[variant];
      for (const m of list.slice(0, Math.round(list.length * share))) {
        await ws.as(() => Replies.report(campaign.id, { contactId: m.contact_id, automatic: false }));
        replied.add(m.contact_id);
      }
    }
    let stats = await ws.as(() => Stats.byEmail(campaign.id));
    const pitch = stats.find((s) => s.nodeId === "pitch")!;
    expect(pitch.variants!.map((x) => [x.id, x.sent, x.replyRate])).toEqual([
      ["a", byVariant.a.length, Stats.rate(Math.round(byVariant.a.length * 0.02), byVariant.a.length)],
      ["b", byVariant.b.length, Stats.rate(Math.round(byVariant.b.length * 0.06), byVariant.b.length)],
    ]);
    expect(pitch.variants![0]!.replyRate).toBeCloseTo(2, 0);
    expect(pitch.variants![1]!.replyRate).toBeCloseTo(6, 0);
    // Decided when the next contact reaches the node, not before.
    expect(pitch).toMatchObject({ winner: null, decidedAt: null });

    // Wave 2: 100 more contacts, all of them get the winner.
    const later: Awaited<ReturnType<typeof factory.contact>>[] = [];
    for (let i = 0; i < 100; i++) later.push(await factory.contact(ws, { firstName: `L${i}` }));
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: later.map((c) => c.id) }));
    const decidedFrom = engine.clock.now();
    await engine.run(5);
    const wave2 = (await variantsOf(campaign.id)).filter((m) => later.some((c) => c.id === m.contact_id));
    expect(wave2).toHaveLength(100);
    expect(new Set(wave2.map((m) => m.variant_id))).toEqual(new Set(["b"]));

    stats = await ws.as(() => Stats.byEmail(campaign.id));
    const decided = stats.find((s) => s.nodeId === "pitch")!;
    expect(decided.winner).toBe("b");
    expect(new Date(decided.decidedAt!).getTime()).toBeGreaterThanOrEqual(decidedFrom);
    expect(decided.variants!.map((x) => [x.id, x.winner])).toEqual([
      ["a", false],
      ["b", true],
    ]);
    expect(decided.variants!.find((x) => x.id === "b")!.sent).toBe(byVariant.b.length + 100);
    expect(decided.sent).toBe(500);

    // One activity event, with what it was decided on.
    const events = await ws.as(() => Activity.feed(campaign.id, { type: "ab_winner", page: "1", perPage: "10" } as never));
    expect(events.data).toHaveLength(1);
    expect(events.data[0]).toMatchObject({
      type: "ab_winner",
      emailNodeId: "pitch",
      metadata: {
        winner: "b",
        metric: "replyRate",
        variants: [
          { id: "a", sent: byVariant.a.length, successes: Math.round(byVariant.a.length * 0.02) },
          { id: "b", sent: byVariant.b.length, successes: Math.round(byVariant.b.length * 0.06) },
        ],
      },
    });
    expect((events.data[0]!.metadata as { confidence: number }).confidence).toBeGreaterThanOrEqual(0.95);

    // Stable once decided: more sends change nothing about it.
    await engine.run(2);
    const [winner] = await Database.rows<{ variant_id: string; decided_at: Date | string }>(
      sql`SELECT variant_id, decided_at FROM ab_test_winner WHERE campaign_id = ${campaign.id}`,
    );
    expect(winner!.variant_id).toBe("b");
    expect(Database.toDate(winner!.decided_at).toISOString()).toBe(decided.decidedAt);

    // Three business days later: each follow-up answers the subject its contact got.
    engine.clock.set(new Date("2026-01-15T09:00:00Z"));
    await engine.run(15);
    const all = await variantsOf(campaign.id);
    const bumps = all.filter((m) => m.node_id === "bump");
    const pitches = new Map(all.filter((m) => m.node_id === "pitch").map((m) => [m.contact_id, m]));
    expect(bumps.length).toBe(500 - replied.size);
    for (const bump of bumps) {
      expect(bump.variant_id).toBeNull();
      expect(bump.subject).toBe(`Re: ${pitches.get(bump.contact_id)!.subject}`);
    }
    // Both variants' subjects are answered (a's only by wave 1).
    expect(new Set(bumps.map((b) => pitches.get(b.contact_id)!.variant_id))).toEqual(new Set(["a", "b"]));
  }, 240_000);
});
