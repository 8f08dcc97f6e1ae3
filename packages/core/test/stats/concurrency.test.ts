import * as Activity from "@fluenzr/core/activity";
import * as Database from "@fluenzr/core/database";
import * as Stats from "@fluenzr/core/stats";
import { onServer, useTestDatabase } from "@fluenzr/testing";
import { campaignWithContacts } from "@fluenzr/testing/stats";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * Counters under contention, on PostgreSQL (PGlite has one connection: nothing runs at once).
 * Webhook deliveries (an event and one bump per transaction) and senders (a batch: several
 * events and bumps of different nodes per transaction) update one campaign at once from many
 * connections; some transactions roll back. Every committed increment is counted, none twice.
 */
useTestDatabase({ max: 24 });

const NODES = ["node_2", "node_4"];
const BUCKETS = ["2025-05-01T10:00:00Z", "2025-05-01T10:15:00Z", "2025-05-01T10:30:00Z"].map((t) => new Date(t));
const TYPES = ["delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"] as const;

describe.skipIf(!onServer)("counters under concurrency (PostgreSQL)", () => {
  it("lose no increment and count no rolled-back one", async () => {
    const ctx = await campaignWithContacts({ contacts: 1 });
    const campaignId = ctx.campaign.id;
    const contactId = ctx.contacts[0]!.id;
    const expected = new Map<string, number>();
    const add = (node: string, bucket: Date, counter: string, n: number) => {
      for (const key of [`node|${node}|${counter}`, `bucket|${bucket.toISOString()}|${counter}`])
        expected.set(key, (expected.get(key) ?? 0) + n);
    };
    let seed = 1;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    let events = 0;

    const webhook = async (w: number) => {
      for (let i = 0; i < 60; i++) {
        const [node, at, type] = [pick(NODES), pick(BUCKETS), pick(TYPES)];
        const rollback = i % 10 === 9;
        try {
          await Database.transaction(async () => {
            await Activity.record({
              workspaceId: ctx.ws.id,
              campaignId,
              contactId,
              nodeId: node,
              type,
              occurredAt: at,
              providerKey: `w${w}-${i}`,
            });
            await Stats.bump(campaignId, node, at, { [type]: 1 });
            if (rollback) throw new Error("rollback");
          });
          add(node, at, type, 1);
          events++;
        } catch (error) {
          if (!rollback) throw error;
        }
      }
    };
    const sender = async (s: number) => {
      for (let i = 0; i < 30; i++) {
        // A batch holds several emails of both nodes, like sending/progress.ts.
        const batch = NODES.map((node) => ({ node, at: pick(BUCKETS), n: 1 + Math.floor(random() * 5) }));
        if (random() < 0.5) batch.reverse();
        await Database.transaction(async () => {
          for (const b of batch) {
            await Activity.record({
              workspaceId: ctx.ws.id,
              campaignId,
              contactId,
              nodeId: b.node,
              type: "sent",
              occurredAt: b.at,
              providerKey: `s${s}-${i}-${b.node}`,
            });
            await Stats.bump(campaignId, b.node, b.at, { sent: b.n });
          }
        });
        for (const b of batch) add(b.node, b.at, "sent", b.n);
        events += batch.length;
      }
    };
    await Promise.all([...Array.from({ length: 16 }, (_, w) => webhook(w)), ...Array.from({ length: 8 }, (_, s) => sender(s))]);

    const totals = await Database.rows<Record<string, string | number>>(sql`
      SELECT node_id, sum(sent)::int AS sent, sum(delivered)::int AS delivered, sum(opened)::int AS opened, sum(clicked)::int AS clicked,
             sum(replied)::int AS replied, sum(bounced)::int AS bounced, sum(unsubscribed)::int AS unsubscribed
      FROM campaign_stat WHERE campaign_id = ${campaignId} GROUP BY node_id`);
    const buckets = await Database.rows<Record<string, string | number | Date>>(sql`
      SELECT bucket, sum(sent)::int AS sent, sum(delivered)::int AS delivered, sum(opened)::int AS opened, sum(clicked)::int AS clicked,
             sum(replied)::int AS replied, sum(bounced)::int AS bounced, sum(unsubscribed)::int AS unsubscribed
      FROM campaign_stat_bucket WHERE campaign_id = ${campaignId} GROUP BY bucket`);
    const actual = new Map<string, number>();
    for (const row of totals)
      for (const c of ["sent", ...TYPES]) if (Number(row[c])) actual.set(`node|${row.node_id}|${c}`, Number(row[c]));
    for (const row of buckets) {
      const bucket = Database.toDate(row.bucket).toISOString();
      for (const c of ["sent", ...TYPES]) if (Number(row[c])) actual.set(`bucket|${bucket}|${c}`, Number(row[c]));
    }
    expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));
    const [count] = await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM event WHERE campaign_id = ${campaignId}`);
    expect(count!.n).toBe(events);

    // What the API reads agrees: global counters, per email, and the timeline.
    const global = await ctx.ws.as(() => Stats.global(campaignId));
    const sum = (prefix: string, counter: string) =>
      [...expected].filter(([k]) => k.startsWith(prefix) && k.endsWith(`|${counter}`)).reduce((n, [, v]) => n + v, 0);
    expect(global).toMatchObject({
      sent: sum("node|", "sent"),
      opened: sum("node|", "opened"),
      unsubscribed: sum("node|", "unsubscribed"),
    });
    const timeline = await ctx.ws.as(() => Stats.timeline(campaignId, { from: "2025-05-01", to: "2025-05-01", interval: "hour" }));
    expect(timeline.find((p) => p.date === "2025-05-01T10:00")).toMatchObject({
      sent: sum("bucket|", "sent"),
      clicked: sum("bucket|", "clicked"),
    });
  }, 120_000);
});
