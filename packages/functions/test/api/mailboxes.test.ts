import { Identity } from "@fluenzr/core/email-account";
import {
  ALWAYS_OPEN,
  apiClient,
  expectAuthFailures,
  expectError,
  expectOk,
  expectValidation,
  factory,
  linear,
  type TestEngine,
  testEngine,
  useTestDatabase,
} from "@fluenzr/testing";
import { afterEach, describe, expect, it } from "vitest";

/** Campaigns with several sending accounts (#12), through the API. */

useTestDatabase();

let engine: TestEngine | undefined;
afterEach(() => {
  engine?.restore();
  engine = undefined;
});

const WORKFLOW = linear([
  { id: "first", email: { subject: "Hello {{firstName}}", body: "Hi. {{unsubscribeUrl}}" } },
  { id: "wait", delay: { days: 1 } },
  { id: "second", email: { body: "Following up. {{unsubscribeUrl}}" } },
]);
const ALWAYS = {
  ...ALWAYS_OPEN,
  maxEmailsPerHour: 600,
};

async function setup(accounts = 3) {
  const ws = await factory.workspace();
  const api = apiClient(undefined, ws.key);
  const ids: string[] = [];
  for (let i = 0; i < accounts; i++) ids.push((await factory.emailAccount(ws, { email: `s${i}@acme.example`, dailyLimit: 50 })).id);
  const create = (body: Record<string, unknown> = {}) =>
    api.post("/v1/campaigns", { name: "Rotation", emailAccountIds: ids, workflow: WORKFLOW, settings: ALWAYS, ...body });
  return { ws, api, ids, create };
}

describe("campaigns with several accounts", () => {
  it("take emailAccountIds and answer both fields (emailAccountId the first); emailAccountId alone is a list of one", async () => {
    const { create, ids } = await setup();
    const many = expectOk(await create(), 201);
    expect(many).toMatchObject({ emailAccountId: ids[0], emailAccountIds: ids });
    const one = expectOk(await create({ emailAccountIds: undefined, emailAccountId: ids[1] }), 201);
    expect(one).toMatchObject({ emailAccountId: ids[1], emailAccountIds: [ids[1]] });
    const both = expectOk(await create({ emailAccountId: ids[0] }), 201);
    expect(both.emailAccountIds).toEqual(ids);
  });

  it.each<[string, (ids: string[]) => Record<string, unknown>, string]>([
    ["neither field", () => ({ emailAccountIds: undefined }), "emailAccountId"],
    ["an empty list", () => ({ emailAccountIds: [] }), "emailAccountIds"],
    ["an account twice", (ids) => ({ emailAccountIds: [ids[0], ids[1], ids[0]] }), "emailAccountIds"],
    ["51 accounts", (ids) => ({ emailAccountIds: Array.from({ length: 51 }, (_, i) => `${ids[0]}${i}`) }), "emailAccountIds"],
    ["a malformed id", (ids) => ({ emailAccountIds: [ids[0], "con_x"] }), "emailAccountIds[1]"],
    ["not a list", (ids) => ({ emailAccountIds: ids[0] }), "emailAccountIds"],
    ["an emailAccountId that is not the first", (ids) => ({ emailAccountId: ids[1] }), "emailAccountId"],
  ])("answer 400 for %s, naming the field", async (_, body, path) => {
    const { create, ids } = await setup();
    const res = await create(body(ids));
    expectError(res, 400, "VALIDATION_ERROR", { message: expect.any(String), details: expect.any(Array) });
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it("answer 404 naming the position of another workspace's account, on create and update", async () => {
    const { create, ids, api } = await setup();
    const theirs = await factory.emailAccount(await factory.workspace());
    const res = await create({ emailAccountIds: [ids[0], theirs.id] });
    expectError(res, 404, "NOT_FOUND", {
      message: expect.any(String),
      details: [{ path: "emailAccountIds[1]", message: "no email account with this id" }],
    });
    const campaign = expectOk(await create(), 201);
    const put = await api.put(`/v1/campaigns/${campaign.id}`, { emailAccountIds: [theirs.id] });
    expectError(put, 404, "NOT_FOUND", {
      message: expect.any(String),
      details: [{ path: "emailAccountIds[0]", message: "no email account with this id" }],
    });
    expect(expectOk(await api.get(`/v1/campaigns/${campaign.id}`)).emailAccountIds).toEqual(ids);
  });

  it("change their list in draft and paused, not while active", async () => {
    const { ws, create, ids, api } = await setup();
    const campaign = expectOk(await create(), 201);
    const changed = expectOk(await api.put(`/v1/campaigns/${campaign.id}`, { emailAccountIds: [ids[2], ids[0]] }));
    expect(changed).toMatchObject({ emailAccountId: ids[2], emailAccountIds: [ids[2], ids[0]] });
    const contact = await factory.contact(ws);
    await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [contact.id] });
    expectOk(await api.post(`/v1/campaigns/${campaign.id}/start`));
    expectError(await api.put(`/v1/campaigns/${campaign.id}`, { emailAccountIds: [ids[1]] }), 409, "CONFLICT", {
      details: [{ path: "status", message: "is active" }],
    });
    expectOk(await api.post(`/v1/campaigns/${campaign.id}/pause`));
    expect(expectOk(await api.put(`/v1/campaigns/${campaign.id}`, { emailAccountIds: [ids[1]] })).emailAccountIds).toEqual([ids[1]]);
  });

  it("start only when every account is verified, naming the ones that are not", async () => {
    const { ws, api, ids } = await setup(1);
    Identity.install(async (email) => (email.endsWith("@unverified.example") ? "pending" : "verified"));
    try {
      const pending = await factory.emailAccount(ws, { email: "pending@unverified.example" });
      const campaign = expectOk(
        await api.post("/v1/campaigns", { name: "x", emailAccountIds: [ids[0], pending.id], workflow: WORKFLOW }),
        201,
      );
      const contact = await factory.contact(ws);
      await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [contact.id] });
      const res = await api.post(`/v1/campaigns/${campaign.id}/start`);
      expectError(res, 409, "CONFLICT", { message: expect.any(String), details: expect.any(Array) });
      expect(res.body.error.details).toContainEqual({ path: "emailAccountIds[1]", message: expect.stringMatching(/not verified/) });
    } finally {
      Identity.install(Identity.alwaysVerified);
    }
  });
});

describe("GET /v1/campaigns/:id/stats/accounts", () => {
  it("gives each account's sends for the campaign and its day across campaigns", async () => {
    engine = testEngine({ start: "2026-01-12T09:00:00Z" });
    const { ws, create, ids, api } = await setup();
    const campaign = expectOk(await create(), 201);
    const contacts = [];
    for (let i = 0; i < 6; i++) contacts.push(await factory.contact(ws, { firstName: `C${i}` }));
    await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: contacts.map((c) => c.id) });
    expect(expectOk(await api.get(`/v1/campaigns/${campaign.id}/stats/accounts`)).map((a: { sent: number }) => a.sent)).toEqual([0, 0, 0]);
    expectOk(await api.post(`/v1/campaigns/${campaign.id}/start`));
    await engine.runMinute();
    const rows = expectOk(await api.get(`/v1/campaigns/${campaign.id}/stats/accounts`));
    expect(rows).toEqual(
      ids.map((id, i) => ({
        emailAccountId: id,
        email: `s${i}@acme.example`,
        sent: 2,
        delivered: 0,
        bounced: 0,
        bounceRate: 0,
        replied: 0,
        replyRate: 0,
        todaySent: 2,
        todayCap: 50,
      })),
    );
    const account = expectOk(await api.get(`/v1/email-accounts/${ids[0]}`));
    expect(account.today).toEqual({ sent: 2, cap: 50, remaining: 48 });
  });

  it("answers 401 to bad keys", async () => {
    const { ws, create } = await setup(1);
    const campaign = expectOk(await create(), 201);
    await expectAuthFailures(apiClient(), "GET", `/v1/campaigns/${campaign.id}/stats/accounts`, {
      ws: ws,
    });
  });

  it("validates email-account warm-up on update too (400 with the path)", async () => {
    const { api, ids } = await setup(1);
    expectValidation(await api.put(`/v1/email-accounts/${ids[0]}`, { warmup: { incrementPerDay: "3" } }), {
      "warmup.incrementPerDay": "must be a number",
    });
  });
});
