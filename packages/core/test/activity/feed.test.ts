import * as Activity from "@fluenzr/core/activity";
import * as Database from "@fluenzr/core/database";
import { useTestDatabase } from "@fluenzr/testing";
import { campaignWithContacts } from "@fluenzr/testing/stats";
import { type SQL, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

const { Feed } = Activity;

useTestDatabase();

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Index Cond"?: string;
  Plans?: PlanNode[];
}

/** The plan of `query` when the planner may not read event in any order but an index's. */
async function planOf(query: SQL): Promise<PlanNode> {
  return Database.transaction(async () => {
    await Database.rows(sql`SET LOCAL enable_seqscan = off`);
    await Database.rows(sql`SET LOCAL enable_bitmapscan = off`);
    const [row] = await Database.rows<{ "QUERY PLAN": unknown }>(sql`EXPLAIN (FORMAT JSON) ${query}`);
    const plan = row!["QUERY PLAN"];
    return (typeof plan === "string" ? JSON.parse(plan) : plan)[0].Plan as PlanNode;
  });
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe("the feed's statement", () => {
  const filters: Array<[string, Parameters<typeof Feed.pageQueryOf>[2]]> = [
    ["no filter", {}],
    ["type", { type: "opened" }],
    ["contact", { contactId: "con_x" }],
    ["time", { from: new Date("2025-01-01T00:00:00Z"), to: new Date("2025-02-01T00:00:00Z") }],
    ["type and time", { type: "clicked", from: new Date("2025-01-01T00:00:00Z") }],
  ];

  it.each(filters)("reads events in the feed indexes' order, never sorting them (%s)", async (_, filter) => {
    for (const after of [undefined, { at: "2025-01-10T10:00:00.123456Z", id: "evt_x" }]) {
      const plan = await planOf(Feed.pageQueryOf("ws_x", "cmp_x", filter, { limit: 21, offset: after ? 0 : 40, after }));
      const all = nodes(plan);
      for (const node of all.filter((n) => n["Node Type"] === "Sort")) {
        for (const child of node.Plans ?? []) expect(child["Relation Name"], "a sort over the event table").not.toBe("event");
      }
      const feedScans = all.filter((n) => n["Index Name"]?.startsWith("event_feed"));
      expect(feedScans.length).toBeGreaterThanOrEqual(2); // the page and the capped count
      if (after) expect(feedScans.some((n) => n["Index Cond"]?.includes("ROW(occurred_at, id) <"))).toBe(true);
    }
  });
});

describe("cursors", () => {
  it("round-trip, and anything else is refused", () => {
    const cursor = { offset: 40, at: "2025-01-10T10:00:00.123456Z", id: "evt_01m8bapj310bpq9tnw7b8dx0jx" };
    expect(Feed.decodeCursor(Feed.encodeCursor(cursor))).toEqual(cursor);
    for (const bad of [
      "",
      "!!!",
      Buffer.from("40|2025-01-10T10:00:00.123456Z").toString("base64url"),
      Buffer.from("x|2025-01-10T10:00:00.123456Z|evt_1").toString("base64url"),
      Buffer.from("40|2025-13-10T10:00:00.123456Z|evt_1").toString("base64url"),
      Buffer.from("40|2025-01-10T10:00:00.123456Z|evt_1'; DROP TABLE event; --").toString("base64url"),
      "A".repeat(500),
    ]) {
      expect(Feed.decodeCursor(bad), bad).toBeUndefined();
    }
  });

  it("keeps microseconds: events a microsecond apart are neither skipped nor repeated", async () => {
    const ctx = await campaignWithContacts({ contacts: 1 });
    const contactId = ctx.contacts[0]!.id;
    await Database.rows(sql`
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, node_id, type, occurred_at)
      SELECT 'evt_us' || g, ${ctx.ws.id}, ${ctx.campaign.id}, ${contactId}, 'node_2', 'opened',
             timestamptz '2025-01-01T00:00:00.000100Z' + g * interval '1 microsecond'
      FROM generate_series(1, 9) g`);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.ws.as(() => Activity.feed(ctx.campaign.id, { page: 1, perPage: 2, cursor }));
      seen.push(...page.data.map((e) => e.id));
      cursor = page.meta.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 9 }, (_, i) => `evt_us${9 - i}`));
  });
});
