import { createHash } from "node:crypto";
import * as Auth from "@fluenzr/core/auth";
import { Identity } from "@fluenzr/core/email-account";
import * as Idempotency from "@fluenzr/core/idempotency";
import * as Scheduler from "@fluenzr/core/scheduler";
import type { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import { apiClient, DEFAULT_SETTINGS, factory, SEED_WORKFLOW, type TestWorkspace, useTestDatabase } from "@fluenzr/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { BRANCHING_WORKFLOW } from "../../src/api/examples";
import { setInFlightWait } from "../../src/api/middleware/idempotency";

useTestDatabase();

const scheduler = () => Scheduler.use() as MemoryScheduler;

async function setup() {
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const api = apiClient(undefined, ws.key);
  const create = (body: Record<string, unknown> = {}) =>
    api.post("/v1/campaigns", { name: "Q1 2025 Prospecting", emailAccountId: account.id, workflow: SEED_WORKFLOW, ...body });
  return { ws, account, api, create };
}

async function startable(ctx: Awaited<ReturnType<typeof setup>>, body: Record<string, unknown> = {}) {
  const campaign = (await ctx.create(body)).body.data;
  const contact = await factory.contact(ctx.ws);
  await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [contact.id] });
  return { campaign, contact };
}

describe("POST /v1/campaigns", () => {
  it("creates a draft with default settings and zero counters", async () => {
    const { create, account } = await setup();
    const res = await create({ description: "3 email sequence" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      name: "Q1 2025 Prospecting",
      description: "3 email sequence",
      status: "draft",
      emailAccountId: account.id,
      settings: DEFAULT_SETTINGS,
      stats: { totalContacts: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 0, bounced: 0, unsubscribed: 0 },
      startedAt: null,
    });
    expect(res.body.data.id).toMatch(/^cmp_[0-9a-z]{26}$/);
    expect(res.body.data.workflow.nodes[3].data).toEqual({
      subject: "Following up on my message",
      body: "{{firstName}},\n\nI'm following up...",
      trackOpens: true,
      trackClicks: true,
    });
  });

  it.each([
    [{ name: "" }, "name"],
    [{ emailAccountId: undefined }, "emailAccountId"],
    [{ settings: { sendDays: ["monday", "funday"] } }, "settings.sendDays[1]"],
    [{ settings: { sendDays: [] } }, "settings.sendDays"],
    [{ settings: { sendDays: ["monday", "Monday"] } }, "settings.sendDays"],
    [{ settings: { sendHoursStart: 24 } }, "settings.sendHoursStart"],
    [{ settings: { sendHoursStart: 9.5 } }, "settings.sendHoursStart"],
    [{ settings: { sendHoursEnd: 0 } }, "settings.sendHoursEnd"],
    [{ settings: { sendHoursStart: 10, sendHoursEnd: 10 } }, "settings.sendHoursEnd"],
    [{ settings: { timezone: "Europe/Pariss" } }, "settings.timezone"],
    [{ settings: { maxEmailsPerHour: 0 } }, "settings.maxEmailsPerHour"],
    [{ settings: { maxEmailsPerHour: 10001 } }, "settings.maxEmailsPerHour"],
    [{ settings: { maxBounceRate: 0 } }, "settings.maxBounceRate"],
    [{ settings: { maxBounceRate: 101 } }, "settings.maxBounceRate"],
    [{ settings: { maxBounceRate: "5" } }, "settings.maxBounceRate"],
    [{ settings: { maxComplaintRate: -1 } }, "settings.maxComplaintRate"],
    [{ settings: { stopOnCompanyReply: "yes" } }, "settings.stopOnCompanyReply"],
    [{ settings: { holidays: { country: "XX" } } }, "settings.holidays.country"],
    [{ settings: { holidays: { country: "FR", region: "BY" } } }, "settings.holidays.region"],
    [{ settings: { holidays: { region: "BY" } } }, "settings.holidays.country"],
    [{ settings: { holidays: ["FR"] } }, "settings.holidays"],
    [{ settings: { holidays: "FR" } }, "settings.holidays"],
    [{ settings: { skipDates: "2026-12-25" } }, "settings.skipDates"],
    [{ settings: { skipDates: ["2026-12-25", "2026-02-30"] } }, "settings.skipDates[1]"],
    [{ settings: { skipDates: ["25/12/2026"] } }, "settings.skipDates[0]"],
    [{ settings: { outOfOfficeHoldDays: 0 } }, "settings.outOfOfficeHoldDays"],
    [{ settings: { outOfOfficeHoldDays: 91 } }, "settings.outOfOfficeHoldDays"],
    [{ workflow: { nodes: [{ id: "s", type: "start" }], edges: "x" } }, "workflow.edges"],
    [{ workflow: { ...SEED_WORKFLOW, edges: [{ from: "node_1", to: "node_9" }] } }, "workflow.edges[0].to"],
    // Conditions: the node named by its path (a missing "no" edge; a condition before any email).
    [{ workflow: { ...BRANCHING_WORKFLOW, edges: BRANCHING_WORKFLOW.edges.filter((e) => e.to !== "wait") } }, "workflow.nodes[2]"],
    [
      {
        workflow: {
          nodes: [...SEED_WORKFLOW.nodes, { id: "c", type: "condition", data: { event: "opened", withinDays: 1 } }],
          edges: [
            { from: "node_1", to: "c" },
            { from: "c", to: "node_2", when: "yes" },
            { from: "c", to: "node_2", when: "no" },
            ...SEED_WORKFLOW.edges.slice(1),
          ],
        },
      },
      "workflow.nodes[5]",
    ],
    [
      { workflow: { ...BRANCHING_WORKFLOW, edges: [...BRANCHING_WORKFLOW.edges, { from: "last", to: "done", when: "yes" }] } },
      "workflow.edges[10].when",
    ],
  ])("answers 400 with the field path for %j", async (body, path) => {
    const { create } = await setup();
    const res = await create(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it("names the regions of the country when the region is unknown", async () => {
    const { create } = await setup();
    const res = await create({ settings: { holidays: { country: "DE", region: "XX" } } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual({ path: "settings.holidays.region", message: expect.stringMatching(/one of .*BY.*/) });
  });

  it("keeps holidays (country and region as the calendar spells them) and skipped dates sorted, once each; null clears", async () => {
    const { create, api } = await setup();
    const res = await create({
      settings: {
        holidays: { country: "de", region: "by" },
        skipDates: ["2026-12-31", "2026-12-24", "2026-12-31"],
        outOfOfficeHoldDays: 14,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.settings).toMatchObject({
      holidays: { country: "DE", region: "BY" },
      skipDates: ["2026-12-24", "2026-12-31"],
      outOfOfficeHoldDays: 14,
    });
    const put = await api.put(`/v1/campaigns/${res.body.data.id}`, { settings: { holidays: null } });
    expect(put.status).toBe(200);
    expect(put.body.data.settings).toMatchObject({ holidays: null, skipDates: ["2026-12-24", "2026-12-31"], outOfOfficeHoldDays: 14 });
  });

  it("accepts day names in any case and keeps them in week order", async () => {
    const { create } = await setup();
    const res = await create({ settings: { sendDays: ["Friday", "monday"], timezone: "Asia/Kathmandu" } });
    expect(res.status).toBe(201);
    expect(res.body.data.settings).toMatchObject({ sendDays: ["monday", "friday"], timezone: "Asia/Kathmandu" });
  });

  it("answers 404 for another workspace's email account", async () => {
    const { create } = await setup();
    const other = await factory.emailAccount(await factory.workspace());
    const res = await create({ emailAccountId: other.id });
    expect(res.status).toBe(404);
    expect(res.body.error.details).toEqual([{ path: "emailAccountId", message: "no email account with this id" }]);
  });

  it("honours Idempotency-Key: the same request replays, another request conflicts", async () => {
    const { create } = await setup();
    const headers = { "idempotency-key": "create-q1" };
    const first = await create({ headers } as never);
    void first;
    const a = await setupIdempotent();
    expect(a.replay.status).toBe(201);
    expect(a.replay.body.data.id).toBe(a.first.body.data.id);
    expect(a.replay.headers.get("idempotent-replayed")).toBe("true");
    expect(a.other.status).toBe(409);
    expect(a.list.body.meta.total).toBe(1);
  });
});

describe("Idempotency-Key while the first request is in flight", () => {
  const body = (accountId: string) => ({ name: "Once", emailAccountId: accountId });
  /** What the middleware records when the first request with the key begins. */
  const beginFirst = (ws: TestWorkspace, key: string, json: unknown) =>
    Idempotency.begin(
      ws.id,
      key,
      "POST /v1/campaigns",
      createHash("sha256")
        .update(`POST /v1/campaigns\n${JSON.stringify(json)}`)
        .digest("hex"),
    );

  it("parallel requests with one key create one campaign, and both get its result", async () => {
    const { api, account } = await setup();
    const headers = { "idempotency-key": "parallel-1" };
    const [a, b] = await Promise.all([
      api.post("/v1/campaigns", body(account.id), { headers }),
      api.post("/v1/campaigns", body(account.id), { headers }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.data.id).toBe(b.body.data.id);
    expect((await api.get("/v1/campaigns")).body.meta.total).toBe(1);
  });

  it("a repeat waits for the first request's result", async () => {
    const { ws, api, account } = await setup();
    expect(await beginFirst(ws, "slow-1", body(account.id))).toEqual({ kind: "new" });
    const stored = { success: true, data: { id: "cmp_from_the_first_request" } };
    setTimeout(() => void Idempotency.complete(ws.id, "slow-1", 201, stored), 300);
    // The stored answer is a stand-in written by the test, not a campaign: not checked against the document.
    const repeat = await api.post("/v1/campaigns", body(account.id), { headers: { "idempotency-key": "slow-1" }, unchecked: true });
    expect(repeat.status).toBe(201);
    expect(repeat.body).toEqual(stored);
    expect(repeat.headers.get("idempotent-replayed")).toBe("true");
  });

  it("a repeat still waiting after the bound gets 409 with Retry-After", async () => {
    const { ws, api, account } = await setup();
    await beginFirst(ws, "stuck-1", body(account.id));
    const previous = setInFlightWait(200);
    try {
      const repeat = await api.post("/v1/campaigns", body(account.id), { headers: { "idempotency-key": "stuck-1" } });
      expect(repeat.status).toBe(409);
      expect(repeat.headers.get("retry-after")).toBe("1");
      expect(repeat.body.error.details).toEqual([
        { path: "Idempotency-Key", message: "A request with this Idempotency-Key is still being processed" },
      ]);
    } finally {
      setInFlightWait(previous);
    }
  });
});

async function setupIdempotent() {
  const { api, account } = await setup();
  const body = { name: "Once", emailAccountId: account.id };
  const headers = { "idempotency-key": "key-1" };
  const first = await api.post("/v1/campaigns", body, { headers });
  const replay = await api.post("/v1/campaigns", body, { headers });
  const other = await api.post("/v1/campaigns", { ...body, name: "Twice" }, { headers });
  const list = await api.get("/v1/campaigns");
  return { first, replay, other, list };
}

describe("reading campaigns", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    ctx = await setup();
    for (const name of ["Charlie", "alpha", "Bravo"]) await ctx.create({ name });
  });

  it("lists with paging, sort and status filter, without the workflow", async () => {
    const page = await ctx.api.get("/v1/campaigns", { query: { perPage: 2, sort: "name", order: "asc" } });
    expect(page.status).toBe(200);
    expect(page.body.meta).toEqual({ page: 1, perPage: 2, total: 3, totalPages: 2 });
    expect(page.body.data.map((c: { name: string }) => c.name)).toEqual(["Bravo", "Charlie"]);
    expect(page.body.data[0].workflow).toBeUndefined();
    const second = await ctx.api.get("/v1/campaigns", { query: { perPage: 2, page: 2, sort: "name", order: "asc" } });
    expect(second.body.data.map((c: { name: string }) => c.name)).toEqual(["alpha"]);
    const beyond = await ctx.api.get("/v1/campaigns", { query: { page: 9 } });
    expect(beyond.body).toMatchObject({ data: [], meta: { total: 3, totalPages: 1 } });
    const active = await ctx.api.get("/v1/campaigns", { query: { status: "active" } });
    expect(active.body.meta.total).toBe(0);
  });

  it.each([
    [{ status: "running" }, "status"],
    [{ sort: "email" }, "sort"],
    [{ order: "up" }, "order"],
    [{ perPage: 101 }, "perPage"],
    [{ page: 0 }, "page"],
  ])("rejects the query %j with its parameter's name", async (query, path) => {
    const res = await ctx.api.get("/v1/campaigns", { query });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe(path);
  });

  it("gets one with its workflow", async () => {
    const id = (await ctx.api.get("/v1/campaigns")).body.data[0].id;
    const res = await ctx.api.get(`/v1/campaigns/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.data.workflow.edges).toHaveLength(4);
  });
});

describe("PUT /v1/campaigns/:id", () => {
  it("merges settings key by key (the seed's example)", async () => {
    const ctx = await setup();
    const campaign = (await ctx.create({ settings: { timezone: "Europe/Paris", sendHoursStart: 8 } })).body.data;
    const res = await ctx.api.put(`/v1/campaigns/${campaign.id}`, { name: "Q1 2025 Prospecting - v2", settings: { maxEmailsPerHour: 50 } });
    expect(res.status).toBe(200);
    expect(res.body.data.name).toBe("Q1 2025 Prospecting - v2");
    expect(res.body.data.settings).toEqual({ ...DEFAULT_SETTINGS, sendHoursStart: 8, timezone: "Europe/Paris", maxEmailsPerHour: 50 });
  });

  it("checks the merged settings: an end before the stored start is refused", async () => {
    const ctx = await setup();
    const campaign = (await ctx.create({ settings: { sendHoursStart: 10 } })).body.data;
    const res = await ctx.api.put(`/v1/campaigns/${campaign.id}`, { settings: { sendHoursEnd: 9 } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: "settings.sendHoursEnd", message: "sendHoursEnd (9) must be greater than sendHoursStart (10)" },
    ]);
  });

  it("refuses changes to an active campaign, naming its status", async () => {
    const ctx = await setup();
    const { campaign } = await startable(ctx);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
    const res = await ctx.api.put(`/v1/campaigns/${campaign.id}`, { name: "x" });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/Campaign is active/);
  });

  it("refuses a workflow that removes a node where contacts of a paused campaign wait", async () => {
    const ctx = await setup();
    const { campaign } = await startable(ctx);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/pause`);
    const shorter = {
      nodes: [SEED_WORKFLOW.nodes[0], SEED_WORKFLOW.nodes[3], SEED_WORKFLOW.nodes[4]],
      edges: [
        { from: "node_1", to: "node_4" },
        { from: "node_4", to: "node_5" },
      ],
    };
    const res = await ctx.api.put(`/v1/campaigns/${campaign.id}`, { workflow: shorter });
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual([
      { path: "workflow.nodes", message: 'node "node_2" still has contacts waiting on it', nodeId: "node_2" },
    ]);
    const kept = {
      ...SEED_WORKFLOW,
      nodes: SEED_WORKFLOW.nodes.map((n) => (n.id === "node_4" ? { ...n, data: { subject: "New", body: "B" } } : n)),
    };
    expect((await ctx.api.put(`/v1/campaigns/${campaign.id}`, { workflow: kept })).status).toBe(200);
  });
});

describe("status machine", () => {
  it("start → pause → resume → archive, with the schedule following", async () => {
    const ctx = await setup();
    const { campaign } = await startable(ctx, { settings: { timezone: "Europe/Paris" } });
    const started = await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
    expect(started.status).toBe(200);
    expect(started.body.data.status).toBe("active");
    expect(started.body.data.startedAt).toEqual(expect.any(String));
    expect(await scheduler().get(campaign.id)).toEqual({
      enabled: true,
      expression: "cron(* 9-17 ? * MON,TUE,WED,THU,FRI *)",
      timezone: "Europe/Paris",
    });

    const contacts = await ctx.api.get(`/v1/campaigns/${campaign.id}/contacts`);
    expect(contacts.body.data[0]).toMatchObject({ status: "pending", currentNodeId: "node_2", nextSendAt: expect.any(String) });

    expect((await ctx.api.post(`/v1/campaigns/${campaign.id}/pause`)).body.data.status).toBe("paused");
    expect((await scheduler().get(campaign.id))?.enabled).toBe(false);
    const resumed = await ctx.api.post(`/v1/campaigns/${campaign.id}/resume`);
    expect(resumed.body.data).toMatchObject({ status: "active", startedAt: started.body.data.startedAt });
    expect((await scheduler().get(campaign.id))?.enabled).toBe(true);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/pause`);
    const archived = await ctx.api.post(`/v1/campaigns/${campaign.id}/archive`);
    expect(archived.body.data).toMatchObject({ status: "archived", archivedAt: expect.any(String) });
    expect(await scheduler().get(campaign.id)).toBeUndefined();
  });

  it.each([
    ["pause", "draft", /Cannot pause a campaign that is draft/],
    ["resume", "draft", /Cannot resume a campaign that is draft/],
  ])("refuses %s from %s with 409 naming the status", async (action, _status, message) => {
    const ctx = await setup();
    const campaign = (await ctx.create()).body.data;
    const res = await ctx.api.post(`/v1/campaigns/${campaign.id}/${action}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(message);
    expect(res.body.error.details[0]).toEqual({ path: "status", message: expect.stringMatching(/^is draft/) });
  });

  it("refuses to start without contacts, workflow or a verified account, listing every reason", async () => {
    const ctx = await setup();
    const campaign = (await ctx.create({ workflow: null })).body.data;
    Identity.install(async () => "pending");
    const pendingAccount = await factory.emailAccount(ctx.ws);
    Identity.install(Identity.alwaysVerified);
    await ctx.api.put(`/v1/campaigns/${campaign.id}`, { emailAccountId: pendingAccount.id });
    Identity.install(async () => "pending");
    try {
      const res = await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
      expect(res.status).toBe(409);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(["emailAccountId", "workflow", "contacts"]);
    } finally {
      Identity.install(Identity.alwaysVerified);
    }
    const emailless = {
      nodes: [
        { id: "s", type: "start" },
        { id: "e", type: "end" },
      ],
      edges: [{ from: "s", to: "e" }],
    };
    await ctx.api.put(`/v1/campaigns/${campaign.id}`, { workflow: emailless });
    const res = await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
    expect(res.body.error.details).toContainEqual({ path: "workflow.nodes", message: "the workflow has no email node" });
  });

  it("lets one of two concurrent starts win; the other gets 409", async () => {
    const ctx = await setup();
    const { campaign } = await startable(ctx);
    const results = await Promise.all([1, 2, 3].map(() => ctx.api.post(`/v1/campaigns/${campaign.id}/start`)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(scheduler().calls.filter((c) => c.campaignId === campaign.id && c.op === "put")).toHaveLength(1);
  });

  it("deletes drafts only", async () => {
    const ctx = await setup();
    const draft = (await ctx.create()).body.data;
    expect((await ctx.api.delete(`/v1/campaigns/${draft.id}`)).body).toEqual({ success: true, data: { id: draft.id, deleted: true } });
    expect((await ctx.api.get(`/v1/campaigns/${draft.id}`)).status).toBe(404);
    const { campaign } = await startable(ctx);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
    expect((await ctx.api.delete(`/v1/campaigns/${campaign.id}`)).status).toBe(409);
  });
});

describe("campaign contacts", () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let ws: TestWorkspace;
  beforeAll(async () => {
    ctx = await setup();
    ws = ctx.ws;
  });

  it("adds by ids: added, skipped (enrolled or not active) and errors (unknown or foreign ids)", async () => {
    const campaign = (await ctx.create()).body.data;
    const [a, b] = [await factory.contact(ws), await factory.contact(ws)];
    const unsubscribed = await factory.contact(ws, { status: "unsubscribed" });
    const foreign = await factory.contact(await factory.workspace());
    const first = await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [a.id] });
    expect(first.body.data).toEqual({ added: 1, skipped: 0, errors: [] });
    const res = await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, {
      contactIds: [a.id, b.id, unsubscribed.id, foreign.id, "con_doesnotexist"],
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      added: 1,
      skipped: 2,
      errors: [
        { id: "con_doesnotexist", code: "NOT_FOUND" },
        { id: foreign.id, code: "NOT_FOUND" },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      skippedContacts: [
        { id: a.id, reason: "already_enrolled" },
        { id: unsubscribed.id, reason: "unsubscribed" },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)),
    });
    expect((await ctx.api.get(`/v1/campaigns/${campaign.id}`)).body.data.stats.totalContacts).toBe(2);
  });

  it("adds by groups and by filters", async () => {
    const campaign = (await ctx.create()).body.data;
    const group = await factory.group(ws);
    const inGroup = [await factory.contact(ws, { groupIds: [group.id] }), await factory.contact(ws, { groupIds: [group.id] })];
    const fintech = await factory.contact(ws, { customFields: { sector: "Fintech" }, tags: ["vip"] });
    await factory.contact(ws, { customFields: { sector: "Retail" }, tags: ["vip"] });
    const byGroup = await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { groupIds: [group.id, "grp_unknown"] });
    expect(byGroup.body.data).toEqual({ added: 2, skipped: 0, errors: [{ id: "grp_unknown", code: "NOT_FOUND" }] });
    const byFilter = await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, {
      filters: { status: "active", customFields: { sector: "Fintech" }, tags: ["vip"] },
    });
    expect(byFilter.body.data).toEqual({ added: 1, skipped: 0, errors: [] });
    const listed = await ctx.api.get(`/v1/campaigns/${campaign.id}/contacts`, { query: { perPage: 10 } });
    expect(listed.body.data.map((r: { contactId: string }) => r.contactId).sort()).toEqual(
      [...inGroup.map((c) => c.id), fintech.id].sort(),
    );
    expect(listed.body.data[0]).toMatchObject({ status: "pending", currentNodeId: null, nextSendAt: null, error: null });
  });

  it("needs exactly one way of choosing contacts", async () => {
    const campaign = (await ctx.create()).body.data;
    const both = await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: ["con_a"], groupIds: ["grp_b"] });
    expect(both.status).toBe(400);
    expect(both.body.error.details[0].message).toBe("provide exactly one of contactIds, groupIds or filters");
    expect((await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, {})).status).toBe(400);
    expect((await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: ["nope"] })).body.error.details[0].path).toBe(
      "contactIds[0]",
    );
  });

  it("starts contacts added to an active campaign, removes them, and filters the list by status", async () => {
    const { campaign, contact } = await startable(ctx);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/start`);
    const late = await factory.contact(ws);
    await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [late.id] });
    const rows = (await ctx.api.get(`/v1/campaigns/${campaign.id}/contacts`, { query: { status: "pending" } })).body.data;
    expect(rows.find((r: { contactId: string }) => r.contactId === late.id)).toMatchObject({
      currentNodeId: "node_2",
      nextSendAt: expect.any(String),
    });
    const removed = await ctx.api.delete(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [late.id, "con_notenrolled"] });
    expect(removed.body.data).toEqual({ removed: 1 });
    const left = await ctx.api.get(`/v1/campaigns/${campaign.id}/contacts`);
    expect(left.body.data.map((r: { contactId: string }) => r.contactId)).toEqual([contact.id]);
    expect((await ctx.api.get(`/v1/campaigns/${campaign.id}/contacts`, { query: { status: "replied" } })).body.meta.total).toBe(0);
    expect((await ctx.api.get(`/v1/campaigns/${campaign.id}/contacts`, { query: { status: "asleep" } })).status).toBe(400);
  });

  it("refuses to add contacts to an archived campaign", async () => {
    const campaign = (await ctx.create()).body.data;
    await ctx.api.post(`/v1/campaigns/${campaign.id}/archive`);
    const res = await ctx.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [(await factory.contact(ws)).id] });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/archived/);
  });
});

describe("tenancy and auth on every campaign route", () => {
  const routes = (id: string): Array<[string, string, unknown?]> => [
    ["GET", `/v1/campaigns/${id}`],
    ["PUT", `/v1/campaigns/${id}`, { name: "x" }],
    ["DELETE", `/v1/campaigns/${id}`],
    ["POST", `/v1/campaigns/${id}/start`],
    ["POST", `/v1/campaigns/${id}/pause`],
    ["POST", `/v1/campaigns/${id}/resume`],
    ["POST", `/v1/campaigns/${id}/archive`],
    ["POST", `/v1/campaigns/${id}/contacts`, { contactIds: ["con_x"] }],
    ["DELETE", `/v1/campaigns/${id}/contacts`, { contactIds: ["con_x"] }],
    ["GET", `/v1/campaigns/${id}/contacts`],
  ];

  it("answers 404 for another workspace's campaign and leaves it untouched", async () => {
    const owner = await setup();
    const { campaign } = await startable(owner);
    const intruder = apiClient(undefined, (await factory.workspace()).key);
    for (const [method, path, body] of routes(campaign.id)) {
      const res = await intruder.request(method, path, { body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("NOT_FOUND");
    }
    const after = (await owner.api.get(`/v1/campaigns/${campaign.id}`)).body.data;
    expect(after).toMatchObject({ status: "draft", name: campaign.name, stats: { totalContacts: 1 } });
  });

  it("answers 401 without a key, with an invalid key and with a revoked key", async () => {
    const owner = await setup();
    const campaign = (await owner.create()).body.data;
    await Auth.revokeKey(owner.ws.keyId);
    for (const key of [null, "flz_sk_00000000000000000000000000000000", owner.ws.key]) {
      for (const [method, path, body] of [...routes(campaign.id), ["GET", "/v1/campaigns"], ["POST", "/v1/campaigns", {}]] as Array<
        [string, string, unknown?]
      >) {
        const res = await apiClient().request(method, path, { body, key });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
  });
});
