import * as Clock from "@fluenzr/core/clock";
import * as Database from "@fluenzr/core/database";
import * as Stats from "@fluenzr/core/stats";
import {
  apiClient,
  expectAuthFailures,
  expectError,
  expectOk,
  expectValidation,
  factory,
  ISO_UTC,
  useTestDatabase,
} from "@fluenzr/testing";
import { campaignWithContacts, emailEvents, History, type StatsCampaign, TWO_EMAILS, ZERO_COUNTERS } from "@fluenzr/testing/stats";
import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { beforeAll, describe, expect, it } from "vitest";

useTestDatabase();

const ROUTES = (id: string) => [
  `/v1/campaigns/${id}/stats`,
  `/v1/campaigns/${id}/stats/emails`,
  `/v1/campaigns/${id}/stats/accounts`,
  `/v1/campaigns/${id}/stats/timeline`,
  `/v1/campaigns/${id}/activity`,
];

describe("the seed's example numbers", () => {
  let seed: StatsCampaign;
  /** The seed's counters, as every view of them must show them. */
  const COUNTED = { sent: 450, delivered: 445, opened: 178, clicked: 45, replied: 23, bounced: 5, unsubscribed: 3 };
  /** The seed's history records opens and clicks without judging them (docs/machine-events.md): neither human nor machine. */
  const UNJUDGED = { humanOpened: 0, machineOpened: 0, humanClicked: 0, machineClicked: 0 };

  beforeAll(async () => {
    // 500 enrolled; 450 emails sent (300 first emails, 150 follow-ups), 445 delivered, 5 bounced,
    // 178 opened (each one to three times), 45 clicked (twice each), 23 replied, 3 unsubscribed.
    seed = await campaignWithContacts({ contacts: 500, timezone: "Europe/Paris" });
    const [first, second] = [seed.contacts.slice(0, 300), seed.contacts.slice(300, 450)];
    const history = new History(seed.ws.id, seed.campaign.id);
    await history.record([
      ...emailEvents(first, "node_2", { sent: 300, delivered: 296, bounced: 4, opened: 120, clicked: 30, replied: 15, unsubscribed: 2 }),
      ...emailEvents(second, "node_4", { sent: 150, delivered: 149, bounced: 1, opened: 58, clicked: 15, replied: 8, unsubscribed: 1 }),
    ]);
  }, 120_000);

  it("GET /stats answers the seed's global statistics exactly", async () => {
    const api = apiClient(undefined, seed.ws.key);
    const res = await api.get(`/v1/campaigns/${seed.campaign.id}/stats`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: {
        totalContacts: 500,
        ...COUNTED,
        openRate: 40.0,
        clickRate: 10.1,
        replyRate: 5.2,
        bounceRate: 1.1,
        unsubscribeRate: 0.7,
        ...UNJUDGED_RATES,
      },
    });
    // The keys in the seed's order, then the additions.
    expect(Object.keys(res.body.data)).toEqual([...SEED_ORDER, ...Object.keys(UNJUDGED_RATES)]);
  });

  it("the campaign object shows the same counters", async () => {
    const api = apiClient(undefined, seed.ws.key);
    const campaign = expectOk(await api.get(`/v1/campaigns/${seed.campaign.id}`));
    expect(campaign.stats).toEqual({ totalContacts: 500, ...COUNTED, ...UNJUDGED });
    const list = expectOk(await api.get("/v1/campaigns"));
    expect(list[0].stats).toEqual(campaign.stats);
  });

  it("counts every event in the activity feed but each email once in the counters", async () => {
    const [row] = await Database.rows<{ opens: number; clicks: number }>(sql`
      SELECT count(*) FILTER (WHERE type = 'opened')::int AS opens, count(*) FILTER (WHERE type = 'clicked')::int AS clicks
      FROM event WHERE campaign_id = ${seed.campaign.id}`);
    expect(row!.opens).toBeGreaterThan(178);
    expect(row!.clicks).toBe(90);
  });

  it("the timeline's days add up to the global counters", async () => {
    const api = apiClient(undefined, seed.ws.key);
    const days = expectOk<Array<Record<string, number | string>>>(
      await api.get(`/v1/campaigns/${seed.campaign.id}/stats/timeline`, { query: { from: "2025-01-16", to: "2025-01-31" } }),
    );
    expect(days.map((d) => d.date)).toEqual(Array.from({ length: 16 }, (_, i) => `2025-01-${String(16 + i).padStart(2, "0")}`));
    const sum = (key: string) => days.reduce((n, d) => n + (d[key] as number), 0);
    const metrics = ["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"];
    expect(Object.fromEntries(metrics.map((m) => [m, sum(m)]))).toEqual(COUNTED);
    // Sends a minute apart from 09:00 UTC (10:00 in Paris), replies a day later.
    expect(days[0]).toMatchObject({ date: "2025-01-16", sent: 450, replied: 0 });
    expect(days[1]).toMatchObject({ date: "2025-01-17", sent: 0, replied: 23 });
  });

  it("GET /stats/emails answers the seed's per-email example exactly", async () => {
    const ctx = await campaignWithContacts({ contacts: 500 });
    await new History(ctx.ws.id, ctx.campaign.id).record([
      ...emailEvents(ctx.contacts, "node_2", { sent: 500, delivered: 500, opened: 178, clicked: 45, replied: 15 }),
      ...emailEvents(
        ctx.contacts,
        "node_4",
        { sent: 350, delivered: 350, opened: 98, clicked: 12, replied: 8 },
        { start: new Date("2025-01-21T09:00:00Z") },
      ),
    ]);
    const res = await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/emails`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: [
        {
          nodeId: "node_2",
          emailNumber: 1,
          subject: "{{firstName}}, quick question",
          sent: 500,
          opened: 178,
          openRate: 35.6,
          clicked: 45,
          clickRate: 9.0,
          replied: 15,
          replyRate: 3.0,
          ...UNJUDGED_RATES,
          path: [],
        },
        {
          nodeId: "node_4",
          emailNumber: 2,
          subject: "Following up on my message",
          sent: 350,
          opened: 98,
          openRate: 28.0,
          clicked: 12,
          clickRate: 3.4,
          replied: 8,
          replyRate: 2.3,
          ...UNJUDGED_RATES,
          path: [],
        },
      ],
    });
  }, 120_000);
});

/** Machine opens and clicks (docs/machine-events.md), after the seed's fields: zero where nothing was judged. */
const UNJUDGED_RATES = { humanOpened: 0, humanOpenRate: 0, machineOpened: 0, humanClicked: 0, humanClickRate: 0, machineClicked: 0 };

/** The engagement fields, in the seed's order: the campaign's stats and each email's. */
const ENGAGEMENT = ["opened", "openRate", "clicked", "clickRate", "replied", "replyRate"];

const SEED_ORDER = ["totalContacts", "sent", "delivered", ...ENGAGEMENT, "bounced", "bounceRate", "unsubscribed", "unsubscribeRate"];

describe("GET /v1/campaigns/:id/stats", () => {
  it("answers zeros, not NaN, for a campaign that sent nothing", async () => {
    const ctx = await campaignWithContacts({ contacts: 2 });
    const data = expectOk(await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats`));
    // Two contacts; every count and rate 0 (the seed's and the human/machine additions).
    expect(data).toEqual(
      Object.fromEntries([...SEED_ORDER, ...Object.keys(UNJUDGED_RATES)].map((key) => [key, key === "totalContacts" ? 2 : 0])),
    );
  });

  it("rates over delivered are 0 when everything bounced; the bounce rate is over sent", async () => {
    const ctx = await campaignWithContacts({ contacts: 3 });
    await new History(ctx.ws.id, ctx.campaign.id).record(emailEvents(ctx.contacts, "node_2", { sent: 3, bounced: 3 }));
    const data = expectOk(await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats`));
    expect(data).toMatchObject({ sent: 3, delivered: 0, bounced: 3, bounceRate: 100, openRate: 0, replyRate: 0 });
  });

  it("reads the counters, never the events", () => {
    const dialect = new PgDialect();
    for (const query of [Stats.Read.globalQuery("ws_x", "cmp_x"), Stats.Read.byEmailQuery("ws_x", "cmp_x")]) {
      const text = dialect.sqlToQuery(query).sql;
      expect(text).toMatch(/\bcampaign_stat\b/);
      expect(text).not.toMatch(/\bevent\b/);
    }
  });
});

describe("GET /v1/campaigns/:id/stats/emails", () => {
  it("lists every email node in sequence order, zeros for emails not sent yet, whatever the node array's order", async () => {
    const [start, first, delay, second, end] = TWO_EMAILS.nodes;
    const third = { id: "node_6", type: "email" as const, data: { subject: "Last one", body: "Bye", trackOpens: true, trackClicks: true } };
    const workflow = {
      nodes: [end!, third, second!, delay!, first!, start!],
      edges: [
        { from: "node_1", to: "node_2" },
        { from: "node_2", to: "node_3" },
        { from: "node_3", to: "node_4" },
        { from: "node_4", to: "node_6" },
        { from: "node_6", to: "node_5" },
      ],
    };
    const ctx = await campaignWithContacts({ contacts: 4, workflow });
    await new History(ctx.ws.id, ctx.campaign.id).record(emailEvents(ctx.contacts, "node_2", { sent: 4, delivered: 4, opened: 1 }));
    const data = expectOk(await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/emails`));
    expect(data.map((e: { nodeId: string; emailNumber: number; subject: string }) => [e.emailNumber, e.nodeId, e.subject])).toEqual([
      [1, "node_2", "{{firstName}}, quick question"],
      [2, "node_4", "Following up on my message"],
      [3, "node_6", "Last one"],
    ]);
    expect(data[0]).toMatchObject({ sent: 4, opened: 1, openRate: 25 });
    for (const email of data.slice(1)) {
      expect(email).toEqual({ ...email, sent: 0, opened: 0, openRate: 0, clicked: 0, clickRate: 0, replied: 0, replyRate: 0 });
    }
    for (const email of data) {
      expect(Object.keys(email)).toEqual([
        "nodeId",
        "emailNumber",
        "subject",
        "sent",
        ...ENGAGEMENT,
        ...Object.keys(UNJUDGED_RATES),
        "path",
      ]);
    }
  });

  it("lists a branching workflow's emails in topological order (yes branch first), each with its path", async () => {
    const email = (id: string, subject?: string) => ({ id, type: "email" as const, data: { ...(subject ? { subject } : {}), body: "Hi" } });
    const workflow = {
      nodes: [
        { id: "start", type: "start" as const },
        email("first", "Hello"),
        { id: "opened", type: "condition" as const, data: { event: "opened" as const, withinDays: 3 } },
        email("no1"),
        email("yes1", "Glad you looked"),
        email("both", "Either way"),
        { id: "end", type: "end" as const },
      ],
      edges: [
        { from: "start", to: "first" },
        { from: "first", to: "opened" },
        { from: "opened", to: "no1", when: "no" as const },
        { from: "opened", to: "yes1", when: "yes" as const },
        { from: "no1", to: "both" },
        { from: "yes1", to: "both" },
        { from: "both", to: "end" },
      ],
    };
    const ctx = await campaignWithContacts({ contacts: 2, workflow: workflow as never });
    const data = expectOk(await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/emails`));
    expect(
      data.map((e: { nodeId: string; emailNumber: number; subject: string; path: unknown }) => [
        e.emailNumber,
        e.nodeId,
        e.subject,
        e.path,
      ]),
    ).toEqual([
      [1, "first", "Hello", []],
      [2, "yes1", "Glad you looked", [{ nodeId: "opened", event: "opened", answer: "yes" }]],
      [3, "no1", "Re: Hello", [{ nodeId: "opened", event: "opened", answer: "no" }]],
      [4, "both", "Either way", []],
    ]);
  });

  it("answers an empty list for a campaign without a workflow", async () => {
    const ctx = await campaignWithContacts({ workflow: null });
    expect(expectOk(await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/emails`))).toEqual([]);
  });
});

describe("GET /v1/campaigns/:id/stats/timeline", () => {
  it("answers every bucket with the seven metrics, the campaign's local dates", async () => {
    const ctx = await campaignWithContacts({ contacts: 2, timezone: "Asia/Kathmandu" });
    // 18:15Z is 00:00 the next day in Kathmandu (+05:45); 18:00Z is still 23:45 the same day.
    await ctx.ws.as(async () => {
      await Stats.bump(ctx.campaign.id, "node_2", new Date("2025-03-10T18:00:00Z"), { sent: 1 });
      await Stats.bump(ctx.campaign.id, "node_2", new Date("2025-03-10T18:15:00Z"), { sent: 2, opened: 1 });
    });
    const res = await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/timeline`, {
      query: { from: "2025-03-09", to: "2025-03-12", interval: "day" },
    });
    expect(res.body).toEqual({
      success: true,
      data: [
        { date: "2025-03-09", ...ZERO_COUNTERS },
        { date: "2025-03-10", ...ZERO_COUNTERS, sent: 1 },
        { date: "2025-03-11", ...ZERO_COUNTERS, sent: 2, opened: 1 },
        { date: "2025-03-12", ...ZERO_COUNTERS },
      ],
    });
    expect(Object.keys(res.body.data[0])).toEqual(["date", ...Object.keys(ZERO_COUNTERS)]);
  });

  it("defaults to days from the campaign's start (or creation) to now", async () => {
    const ctx = await campaignWithContacts({ contacts: 1, timezone: "America/New_York" });
    await Database.rows(
      sql`UPDATE campaign SET created_at = '2025-01-10T12:00:00Z', started_at = '2025-01-12T15:00:00Z' WHERE id = ${ctx.campaign.id}`,
    );
    const restore = Clock.install(() => Date.parse("2025-01-15T03:20:00Z")); // 22:20 on the 14th in New York
    try {
      const days = expectOk(await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/timeline`));
      expect(days.map((d: { date: string }) => d.date)).toEqual(["2025-01-12", "2025-01-13", "2025-01-14"]);
      await Database.rows(sql`UPDATE campaign SET started_at = NULL WHERE id = ${ctx.campaign.id}`);
      const weeks = expectOk(
        await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/timeline`, { query: { interval: "week" } }),
      );
      expect(weeks.map((d: { date: string }) => d.date)).toEqual(["2025-01-06", "2025-01-13"]);
      // A campaign older than the bucket limit: its latest 1,000 hours, up to the current one.
      await Database.rows(sql`UPDATE campaign SET created_at = '2020-01-01T00:00:00Z' WHERE id = ${ctx.campaign.id}`);
      const hours = expectOk(
        await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/stats/timeline`, { query: { interval: "hour" } }),
      );
      expect(hours).toHaveLength(1000);
      expect(hours[999].date).toBe("2025-01-14T22:00");
    } finally {
      restore();
    }
  });

  it("answers 400 with the path of each invalid parameter", async () => {
    const ctx = await campaignWithContacts();
    const api = apiClient(undefined, ctx.ws.key);
    const path = `/v1/campaigns/${ctx.campaign.id}/stats/timeline`;
    expectValidation(await api.get(path, { query: { interval: "month" } }), { interval: "must be hour, day or week" });
    expectValidation(await api.get(path, { query: { from: "yesterday", to: "2025-13-01" } }), ["from", "to"]);
    expectValidation(await api.get(path, { query: { from: "2025-02-30" } }), ["from"]);
    expectValidation(await api.get(path, { query: { from: "2025-01-10", to: "2025-01-10T00:00:00Z" } }), {
      from: "must be before to (2025-01-10T00:00:00.000Z)",
    });
    expectValidation(await api.get(path, { query: { to: "2000-01-01" } }), ["to"]);
    // 1,000 buckets are fine, 1,001 are not.
    expect((await api.get(path, { query: { from: "2025-01-01T00:00:00Z", to: "2025-02-11T16:00:00Z", interval: "hour" } })).status).toBe(
      200,
    );
    expectValidation(await api.get(path, { query: { from: "2025-01-01T00:00:00Z", to: "2025-02-11T16:00:01Z", interval: "hour" } }), [
      "interval",
    ]);
    expectValidation(await api.get(path, { query: { from: "1900-01-01", to: "2025-01-01", interval: "day" } }), ["interval"]);
  });

  it("reads an offset whose + arrived as a space, and local times in the campaign's zone", async () => {
    const ctx = await campaignWithContacts({ timezone: "Europe/Paris" });
    const api = apiClient(undefined, ctx.ws.key);
    const path = `/v1/campaigns/${ctx.campaign.id}/stats/timeline`;
    const raw = await api.get(`${path}?from=2025-01-10T00:00:00+01:00&to=2025-01-10T03:00:00+01:00&interval=hour`);
    expect(expectOk(raw).map((d: { date: string }) => d.date)).toEqual(["2025-01-10T00:00", "2025-01-10T01:00", "2025-01-10T02:00"]);
    const local = await api.get(path, { query: { from: "2025-01-10T00:00", to: "2025-01-10T02:00", interval: "hour" } });
    expect(expectOk(local).map((d: { date: string }) => d.date)).toEqual(["2025-01-10T00:00", "2025-01-10T01:00"]);
  });
});

describe("GET /v1/campaigns/:id/activity", () => {
  let ctx: StatsCampaign;
  beforeAll(async () => {
    ctx = await campaignWithContacts({ contacts: 12 });
    await new History(ctx.ws.id, ctx.campaign.id).record(
      emailEvents(ctx.contacts, "node_2", { sent: 12, delivered: 10, bounced: 2, opened: 6, clicked: 2, replied: 1 }),
    );
  });

  it("answers the seed's event objects, newest first", async () => {
    const res = await apiClient(undefined, ctx.ws.key).get(`/v1/campaigns/${ctx.campaign.id}/activity`, {
      query: { type: "opened", perPage: 1 },
    });
    const [event] = expectOk(res);
    expect(Object.keys(event)).toEqual(["id", "type", "contactId", "contactEmail", "emailNodeId", "messageId", "timestamp", "metadata"]);
    // The last of contact 5's three opens (1 + 5 % 3) is the latest open.
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_[0-9a-z]{26}$/),
      type: "opened",
      contactId: ctx.contacts[5]!.id,
      contactEmail: ctx.contacts[5]!.email,
      emailNodeId: "node_2",
      messageId: null, // these recorded events are not tied to sent emails; see the local system test
      timestamp: "2025-01-16T10:25:00.000Z",
      metadata: { ip: "192.168.1.1", userAgent: "Mozilla/5.0" },
    });
    expect(event.timestamp).toMatch(ISO_UTC);
    expect(res.body.meta).toEqual({ page: 1, perPage: 1, total: 12, totalPages: 12, nextCursor: expect.any(String) });
  });

  it("pages with the cursor without duplicates or gaps, and agrees with page numbers", async () => {
    const api = apiClient(undefined, ctx.ws.key);
    const path = `/v1/campaigns/${ctx.campaign.id}/activity`;
    const all = expectOk(await api.get(path, { query: { perPage: 100 } }));
    expect(all).toHaveLength(12 + 10 + 2 + 12 + 4 + 1);
    const order = (e: { timestamp: string; id: string }) => `${e.timestamp}|${e.id}`;
    expect(all.map(order)).toEqual(all.map(order).sort().reverse());

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      const res = await api.get(path, { query: { perPage: 7, cursor } });
      const data = expectOk(res);
      expect(res.body.meta).toMatchObject({ page, perPage: 7, total: 41, totalPages: 6 });
      const byPage = expectOk(await api.get(path, { query: { perPage: 7, page } }));
      expect(byPage).toEqual(data);
      seen.push(...data.map((e: { id: string }) => e.id));
      cursor = res.body.meta.nextCursor ?? undefined;
      if (!cursor) {
        expect(page).toBe(6);
        break;
      }
    }
    expect(seen).toEqual(all.map((e: { id: string }) => e.id));
  });

  it("keeps its place when new events arrive between pages", async () => {
    const other = await campaignWithContacts({ contacts: 3 });
    const history = new History(other.ws.id, other.campaign.id);
    await history.record(emailEvents(other.contacts, "node_2", { sent: 3 }));
    const api = apiClient(undefined, other.ws.key);
    const path = `/v1/campaigns/${other.campaign.id}/activity`;
    const first = await api.get(path, { query: { perPage: 2 } });
    await history.record(
      emailEvents(other.contacts, "node_2", { sent: 3, delivered: 3 }, { start: new Date("2025-02-01T00:00:00Z") }).filter(
        (e) => e.type === "delivered",
      ),
    );
    const second = await api.get(path, { query: { perPage: 2, cursor: first.body.meta.nextCursor } });
    expect([...expectOk(first), ...expectOk(second)].map((e: { type: string }) => e.type)).toEqual(["sent", "sent", "sent"]);
    expect(second.body.meta).toMatchObject({ page: 2, nextCursor: null });
  });

  it("a cursor wins over page", async () => {
    const api = apiClient(undefined, ctx.ws.key);
    const path = `/v1/campaigns/${ctx.campaign.id}/activity`;
    const first = await api.get(path, { query: { perPage: 5 } });
    const second = await api.get(path, { query: { perPage: 5, page: 1 } });
    const next = await api.get(path, { query: { perPage: 5, page: 7, cursor: first.body.meta.nextCursor } });
    expect(next.body.meta.page).toBe(2);
    expect(expectOk(next).map((e: { id: string }) => e.id)).not.toEqual(expectOk(second).map((e: { id: string }) => e.id));
    const page2 = await api.get(path, { query: { perPage: 5, page: 2 } });
    expect(expectOk(next)).toEqual(expectOk(page2));
  });

  it("filters by type, contact and time, together", async () => {
    const api = apiClient(undefined, ctx.ws.key);
    const path = `/v1/campaigns/${ctx.campaign.id}/activity`;
    const get = async (query: Record<string, string>) => expectOk(await api.get(path, { query: { perPage: "100", ...query } }));
    const types = (events: Array<{ type: string }>) => events.map((e) => e.type);
    expect(types(await get({ type: "bounced" }))).toEqual(["bounced", "bounced"]);
    expect(types(await get({ type: "clicked" }))).toHaveLength(4);
    const contact = ctx.contacts[1]!.id;
    const mine = await get({ contactId: contact });
    expect(types(mine)).toEqual(["clicked", "clicked", "opened", "opened", "delivered", "sent"]);
    expect(new Set(mine.map((e: { contactId: string }) => e.contactId))).toEqual(new Set([contact]));
    expect(types(await get({ contactId: contact, type: "opened" }))).toEqual(["opened", "opened"]);
    // Sends are a minute apart from 09:00: [09:03, 09:05) holds the sends of contacts 3 and 4 and their deliveries.
    const window = await get({ from: "2025-01-16T09:03:00Z", to: "2025-01-16T09:05:00Z" });
    expect(window.map((e: { contactId: string; type: string }) => [e.contactId, e.type])).toEqual([
      [ctx.contacts[4]!.id, "delivered"],
      [ctx.contacts[4]!.id, "sent"],
      [ctx.contacts[3]!.id, "delivered"],
      [ctx.contacts[3]!.id, "sent"],
    ]);
    expect(types(await get({ from: "2025-01-16T09:03:00Z", to: "2025-01-16T09:05:00Z", type: "sent" }))).toEqual(["sent", "sent"]);
    expect(await get({ from: "2025-01-18" })).toEqual([]);
    expect(await get({ contactId: (await factory.contact(ctx.ws)).id })).toEqual([]);
    const res = await api.get(path, { query: { type: "replied" } });
    expect(res.body.meta).toEqual({ page: 1, perPage: 20, total: 1, totalPages: 1, nextCursor: null });
  });

  it("answers 400 with the path of each invalid parameter", async () => {
    const api = apiClient(undefined, ctx.ws.key);
    const path = `/v1/campaigns/${ctx.campaign.id}/activity`;
    expectValidation(await api.get(path, { query: { type: "viewed" } }), ["type"]);
    expectValidation(await api.get(path, { query: { contactId: "grp_123" } }), ["contactId"]);
    expectValidation(await api.get(path, { query: { cursor: "bm90IGEgY3Vyc29y" } }), { cursor: "is not a cursor from meta.nextCursor" });
    expectValidation(await api.get(path, { query: { perPage: 101, page: 0 } }), ["perPage", "page"]);
    expectValidation(await api.get(path, { query: { from: "2025-01-02", to: "2025-01-01" } }), ["from"]);
    expectValidation(await api.get(path, { query: { from: "soon" } }), ["from"]);
  });

  it("counts the total up to 10,000 events and leaves it out beyond, paging on by cursor", async () => {
    const big = await campaignWithContacts({ contacts: 1 });
    const contactId = big.contacts[0]!.id;
    await Database.rows(sql`
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, node_id, type, occurred_at)
      SELECT 'evt_big' || lpad(g::text, 6, '0'), ${big.ws.id}, ${big.campaign.id}, ${contactId}, 'node_2', 'opened',
             timestamptz '2025-01-01T00:00:00Z' + (g / 3) * interval '1 second'
      FROM generate_series(1, 10001) g`);
    const api = apiClient(undefined, big.ws.key);
    const path = `/v1/campaigns/${big.campaign.id}/activity`;
    const first = await api.get(path, { query: { perPage: 100 } });
    expect(first.body.meta).toEqual({ page: 1, perPage: 100, nextCursor: expect.any(String) });
    const filtered = await api.get(path, { query: { perPage: 100, to: "2025-01-01T00:00:01Z" } });
    expect(filtered.body.meta).toEqual({ page: 1, perPage: 100, total: 2, totalPages: 1, nextCursor: null });
    // Ties on the timestamp (three events a second) are ordered by id, across page boundaries too.
    let cursor = first.body.meta.nextCursor;
    const ids = expectOk(first).map((e: { id: string }) => e.id);
    for (let i = 0; i < 3; i++) {
      const res = await api.get(path, { query: { perPage: 100, cursor } });
      ids.push(...expectOk(res).map((e: { id: string }) => e.id));
      cursor = res.body.meta.nextCursor;
      expect(res.body.meta.page).toBe(i + 2);
    }
    expect(ids).toEqual(Array.from({ length: 400 }, (_, i) => `evt_big${String(10001 - i).padStart(6, "0")}`));
    const deep = await api.get(path, { query: { perPage: 100, page: 100 } });
    expect(expectOk(deep).map((e: { id: string }) => e.id)).toEqual(
      Array.from({ length: 100 }, (_, i) => `evt_big${String(10001 - 9900 - i).padStart(6, "0")}`),
    );
    const last = await api.get(path, { query: { perPage: 100, page: 101 } });
    expect(expectOk(last).map((e: { id: string }) => e.id)).toEqual(["evt_big000001"]);
    expect(last.body.meta).toEqual({ page: 101, perPage: 100, nextCursor: null });
    const beyond = await api.get(path, { query: { perPage: 100, page: 102 } });
    expect(beyond.body).toEqual({ success: true, data: [], meta: { page: 102, perPage: 100, nextCursor: null } });
  });

  it("shows the address the email went to, and keeps a deleted contact's events", async () => {
    const one = await campaignWithContacts({ contacts: 2 });
    const [kept, gone] = one.contacts as [{ id: string; email: string }, { id: string; email: string }];
    await Database.rows(sql`
      INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject, status, unsubscribe_token_hash, created_at)
      VALUES ('msg_stats1', ${one.ws.id}, ${one.campaign.id}, ${gone.id}, 'node_2', ${one.campaign.emailAccountId}, 'Old.Address@example.org', 's', 'sent', 'h-stats1', now())`);
    await Database.rows(sql`
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, message_id, node_id, type, occurred_at)
      VALUES ('evt_stats1', ${one.ws.id}, ${one.campaign.id}, ${gone.id}, 'msg_stats1', 'node_2', 'delivered', '2025-01-01T10:00:00Z'),
             ('evt_stats2', ${one.ws.id}, ${one.campaign.id}, ${kept.id}, NULL, 'node_2', 'replied', '2025-01-01T09:00:00Z')`);
    const api = apiClient(undefined, one.ws.key);
    expect((await api.delete(`/v1/contacts/${gone.id}`)).status).toBe(200);
    const events = expectOk(await api.get(`/v1/campaigns/${one.campaign.id}/activity`));
    expect(events.map((e: { contactId: string; contactEmail: string }) => [e.contactId, e.contactEmail])).toEqual([
      [gone.id, "Old.Address@example.org"],
      [kept.id, kept.email],
    ]);
  });

  it("documents stats/emails and stats/timeline as arrays, as the server and the seed answer them", async () => {
    const doc = (await apiClient().get("/v1/openapi.json")).body;
    for (const [path, item] of [
      ["/v1/campaigns/{id}/stats/emails", "EmailStats"],
      ["/v1/campaigns/{id}/stats/timeline", "TimelinePoint"],
    ]) {
      const data = doc.paths[path!].get.responses["200"].content["application/json"].schema.properties.data;
      expect(data).toEqual({ type: "array", items: { $ref: `#/components/schemas/${item}` } });
    }
  });
});

describe("auth and tenancy", () => {
  it("answers 401 for a missing, invalid or revoked key on every route", async () => {
    const ctx = await campaignWithContacts();
    for (const path of ROUTES(ctx.campaign.id)) {
      await expectAuthFailures(apiClient(), "GET", path, { ws: ctx.ws });
    }
  });

  it("answers 404 for another workspace's campaign and for unknown ids, on every route", async () => {
    const ctx = await campaignWithContacts({ contacts: 1 });
    await new History(ctx.ws.id, ctx.campaign.id).record(emailEvents(ctx.contacts, "node_2", { sent: 1 }));
    const stranger = apiClient(undefined, (await factory.workspace()).key);
    for (const path of [...ROUTES(ctx.campaign.id), ...ROUTES("cmp_unknown")]) {
      const res = await stranger.get(path);
      expectError(res, 404, "NOT_FOUND");
      expect(res.text).not.toContain("node_2");
    }
  });
});

describe("OpenAPI", () => {
  it("documents the four routes, their query parameters and the feed's meta", async () => {
    const doc = (await apiClient().get("/v1/openapi.json")).body;
    const params = (path: string) => doc.paths[path].get.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`).sort();
    expect(params("/v1/campaigns/{id}/stats")).toEqual(["path:id"]);
    expect(params("/v1/campaigns/{id}/stats/emails")).toEqual(["path:id"]);
    expect(params("/v1/campaigns/{id}/stats/timeline")).toEqual(["path:id", "query:from", "query:interval", "query:to"]);
    expect(params("/v1/campaigns/{id}/activity")).toEqual(
      ["path:id", "query:contactId", "query:cursor", "query:from", "query:page", "query:perPage", "query:to", "query:type"].sort(),
    );
    const activity = doc.paths["/v1/campaigns/{id}/activity"].get;
    expect(activity.responses["401"]).toBeDefined();
    const named = (schema: { $ref: string }) => doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")];
    const meta = named(activity.responses["200"].content["application/json"].schema.properties.meta);
    expect(meta.required.sort()).toEqual(["nextCursor", "page", "perPage"]);
    const event = named(activity.responses["200"].content["application/json"].schema.properties.data.items);
    expect(Object.keys(event.properties)).toEqual([
      "id",
      "type",
      "contactId",
      "contactEmail",
      "emailNodeId",
      "messageId",
      "timestamp",
      "metadata",
    ]);
  });
});
