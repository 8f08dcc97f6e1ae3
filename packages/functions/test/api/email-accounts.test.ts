import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import { Subscriptions } from "@fluenzr/core/webhook";
import {
  type ApiClient,
  apiClient,
  apiSuite,
  counts,
  expectAuthFailures,
  expectError,
  expectOk,
  expectPage,
  expectValidation,
  FIELDS,
  factory,
  ISO_UTC,
} from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";

const s = apiSuite();

const stored = (w: factory.TestWorkspace, id: string) => w.as(() => EmailAccount.fromID(id));

describe("POST /v1/email-accounts", () => {
  it("creates a verified account: 201 with exactly the documented fields and defaults", async () => {
    const res = await s.api.post("/v1/email-accounts", {
      email: " Sales@Acme.example ",
      name: " Sales ",
      status: "failed",
      workspaceId: s.other.id,
    });
    const data = expectOk(res, 201);
    expect(Object.keys(data).sort()).toEqual(FIELDS.emailAccount);
    expect(data).toEqual({
      id: expect.stringMatching(/^acc_[0-9a-z]{26}$/),
      email: "Sales@Acme.example",
      name: "Sales",
      replyTo: null,
      dailyLimit: 200,
      warmup: { enabled: false, startPerDay: 5, incrementPerDay: 3, startedAt: null },
      minSecondsBetweenEmails: 0,
      maxBounceRate: 5,
      maxComplaintRate: 0.3,
      status: "verified",
      sendingStatus: "active",
      createdAt: expect.stringMatching(ISO_UTC),
      updatedAt: data.createdAt,
    });
    expect(res.text).not.toContain(s.other.id);
    expect(expectOk(await s.api.get(`/v1/email-accounts/${data.id}`))).toEqual({ ...data, today: { sent: 0, cap: 200, remaining: 200 } });
  });

  it("keeps replyTo and dailyLimit", async () => {
    const data = expectOk(
      await s.api.post("/v1/email-accounts", { email: "ceo@acme.example", name: "CEO", replyTo: "inbox@acme.example", dailyLimit: 10000 }),
      201,
    );
    expect(data).toMatchObject({ email: "ceo@acme.example", replyTo: "inbox@acme.example", dailyLimit: 10000, status: "verified" });
  });

  it("answers 409 on a duplicate email (case-insensitive) and writes nothing; another workspace may use it", async () => {
    const { w, api } = await s.fresh();
    expectOk(await api.post("/v1/email-accounts", { email: "dup@acme.example", name: "A" }), 201);
    expectError(await api.post("/v1/email-accounts", { email: "DUP@acme.EXAMPLE", name: "B" }), 409, "CONFLICT", {
      message: "An email account for DUP@acme.EXAMPLE already exists",
      details: [{ path: "email", message: "already exists" }],
    });
    expect((await counts(w.id)).accounts).toBe(1);
    expectOk(await apiClient(s.app, s.other.key).post("/v1/email-accounts", { email: "dup@acme.example", name: "Theirs" }), 201);
  });

  it("stores the identity's status: pending while SES has not verified it, refreshed on GET", async () => {
    EmailAccount.Identity.install(async () => "pending");
    let id: string;
    try {
      const data = expectOk(await s.api.post("/v1/email-accounts", { email: "new@pending.example", name: "P" }), 201);
      expect(data.status).toBe("pending");
      id = data.id;
      expect((await stored(s.ws, id))?.status).toBe("pending");
    } finally {
      EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
    }
    expect(expectOk(await s.api.get(`/v1/email-accounts/${id}`)).status).toBe("verified");
    expect((await stored(s.ws, id))?.status).toBe("verified");
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["no email", { name: "A" }, { email: expect.any(String) }],
    ["an invalid email", { email: "nope", name: "A" }, { email: "must be a valid email address" }],
    ["no name", { email: "a@b.co" }, { name: expect.any(String) }],
    ["a blank name", { email: "a@b.co", name: " " }, { name: "is required" }],
    ["an invalid replyTo", { email: "a@b.co", name: "A", replyTo: "x" }, { replyTo: "must be a valid email address" }],
    ["a zero dailyLimit", { email: "a@b.co", name: "A", dailyLimit: 0 }, { dailyLimit: "must be at least 1" }],
    ["a huge dailyLimit", { email: "a@b.co", name: "A", dailyLimit: 10001 }, { dailyLimit: "must be at most 10000" }],
    ["a fractional dailyLimit", { email: "a@b.co", name: "A", dailyLimit: 1.5 }, { dailyLimit: "must be an integer" }],
    ["a string dailyLimit", { email: "a@b.co", name: "A", dailyLimit: "10" }, { dailyLimit: expect.any(String) }],
    ["a zero warm-up start", { email: "a@b.co", name: "A", warmup: { startPerDay: 0 } }, { "warmup.startPerDay": "must be at least 1" }],
    [
      "a negative warm-up increment",
      { email: "a@b.co", name: "A", warmup: { incrementPerDay: -1 } },
      { "warmup.incrementPerDay": "must be at least 0" },
    ],
    ["a string warm-up switch", { email: "a@b.co", name: "A", warmup: { enabled: "yes" } }, { "warmup.enabled": "must be true or false" }],
    ["a warm-up that is not an object", { email: "a@b.co", name: "A", warmup: true }, { warmup: expect.any(String) }],
    ["a negative gap", { email: "a@b.co", name: "A", minSecondsBetweenEmails: -5 }, { minSecondsBetweenEmails: "must be 0 or more" }],
    [
      "a gap over a day",
      { email: "a@b.co", name: "A", minSecondsBetweenEmails: 86401 },
      { minSecondsBetweenEmails: "must be at most 86400" },
    ],
  ])("answers 400 for %s and writes nothing", async (_, body, details) => {
    const { w, api } = await s.fresh();
    expectValidation(await api.post("/v1/email-accounts", body), details);
    expect((await counts(w.id)).accounts).toBe(0);
  });
});

describe("GET /v1/email-accounts", () => {
  let client: ApiClient;
  const made: EmailAccount.EmailAccount[] = [];
  beforeAll(async () => {
    const { w, api } = await s.fresh();
    client = api;
    for (const [email, name] of [
      ["b@list.example", "Zed"],
      ["C@list.example", "Amy"],
      ["a@list.example", "Max"],
    ])
      made.push(await factory.emailAccount(w, { email, name }));
  });

  it("lists newest first with paging meta", async () => {
    const data = expectPage(await client.get("/v1/email-accounts"), { page: 1, perPage: 20, total: 3, totalPages: 1 });
    expect(data).toEqual(JSON.parse(JSON.stringify([...made].reverse())));
    const page = expectPage(await client.get("/v1/email-accounts", { query: { perPage: 1, page: 3 } }), {
      page: 3,
      perPage: 1,
      total: 3,
      totalPages: 3,
    });
    expect(page.map((a) => a.email)).toEqual(["b@list.example"]);
  });

  it.each<[Record<string, string>, string[]]>([
    [{ sort: "email", order: "asc" }, ["a@list.example", "b@list.example", "C@list.example"]],
    [{ sort: "name", order: "desc" }, ["b@list.example", "a@list.example", "C@list.example"]],
    [{ status: "verified", sort: "createdAt", order: "asc" }, ["b@list.example", "C@list.example", "a@list.example"]],
    [{ status: "pending" }, []],
  ])("%j", async (query, expected) => {
    const data = expectPage(await client.get("/v1/email-accounts", { query }), {
      page: 1,
      perPage: 20,
      total: expected.length,
      totalPages: expected.length ? 1 : 0,
    });
    expect(data.map((a) => a.email)).toEqual(expected);
  });

  it.each<[Record<string, string>, Record<string, string>]>([
    [{ status: "active" }, { status: "must be one of pending, verified, failed" }],
    [{ sort: "dailyLimit" }, { sort: "must be one of createdAt, updatedAt, email, name" }],
    [
      { perPage: "0", order: "random" },
      { perPage: "must be at least 1", order: "must be asc or desc" },
    ],
  ])("answers 400 to the query %j", async (query, details) => {
    expectValidation(await client.get("/v1/email-accounts", { query }), details);
  });
});

describe("PUT /v1/email-accounts/:id", () => {
  it("updates name, replyTo and dailyLimit; the email cannot be changed", async () => {
    const account = await factory.emailAccount(s.ws, { replyTo: "r@acme.example" });
    const data = expectOk(
      await s.api.put(`/v1/email-accounts/${account.id}`, { name: " Renamed ", dailyLimit: 50, email: "other@acme.example" }),
    );
    expect(data).toEqual({
      ...JSON.parse(JSON.stringify(account)),
      name: "Renamed",
      dailyLimit: 50,
      updatedAt: expect.stringMatching(ISO_UTC),
    });
    expect(Date.parse(data.updatedAt)).toBeGreaterThan(Date.parse(data.createdAt));
    expect(expectOk(await s.api.put(`/v1/email-accounts/${account.id}`, { replyTo: null })).replyTo).toBeNull();
    expect(await stored(s.ws, account.id)).toMatchObject({ email: account.email, name: "Renamed", dailyLimit: 50, replyTo: null });
  });

  it("turns warm-up on (its day 0 is now), tunes it, and off; sets the minimum gap; today follows the cap", async () => {
    const account = await factory.emailAccount(s.ws, { dailyLimit: 40 });
    const on = expectOk(
      await s.api.put(`/v1/email-accounts/${account.id}`, { warmup: { enabled: true, startPerDay: 4 }, minSecondsBetweenEmails: 90 }),
    );
    expect(on).toMatchObject({
      warmup: { enabled: true, startPerDay: 4, incrementPerDay: 3, startedAt: expect.stringMatching(ISO_UTC) },
      minSecondsBetweenEmails: 90,
    });
    expect(expectOk(await s.api.get(`/v1/email-accounts/${account.id}`)).today).toEqual({ sent: 0, cap: 4, remaining: 4 });
    // Tuning a running warm-up keeps its day 0.
    const tuned = expectOk(await s.api.put(`/v1/email-accounts/${account.id}`, { warmup: { enabled: true, incrementPerDay: 10 } }));
    expect(tuned.warmup).toEqual({ ...on.warmup, incrementPerDay: 10 });
    const off = expectOk(await s.api.put(`/v1/email-accounts/${account.id}`, { warmup: { enabled: false } }));
    expect(off.warmup).toEqual({ enabled: false, startPerDay: 4, incrementPerDay: 10, startedAt: null });
    expect(expectOk(await s.api.get(`/v1/email-accounts/${account.id}`)).today).toEqual({ sent: 0, cap: 40, remaining: 40 });
  });

  it.each<[Record<string, unknown>, Record<string, string>]>([
    [{ warmup: { startPerDay: 10001 } }, { "warmup.startPerDay": "must be at most 10000" }],
    [{ minSecondsBetweenEmails: 1.5 }, { minSecondsBetweenEmails: "must be an integer" }],
    [{ name: "" }, { name: "is required" }],
    [{ dailyLimit: -1 }, { dailyLimit: "must be at least 1" }],
    [{ replyTo: "not-an-email" }, { replyTo: "must be a valid email address" }],
    [{ maxBounceRate: 0 }, { maxBounceRate: "must be at least 0.01" }],
    [{ maxComplaintRate: "high" }, { maxComplaintRate: "must be a number" }],
  ])("answers 400 to %j and changes nothing", async (body, details) => {
    const account = await factory.emailAccount(s.ws);
    expectValidation(await s.api.put(`/v1/email-accounts/${account.id}`, body), details);
    expect(await stored(s.ws, account.id)).toEqual(account);
  });
});

/** What the deliverability guard writes when it pauses an account (its checks: core/test/tracking/account-guard.test.ts). */
const REASON = { code: "BOUNCE_RATE", rate: 6.5, threshold: 5, at: "2026-01-12T10:00:00.000Z" };
const pause = (id: string) =>
  Database.rows(sql`UPDATE email_account SET paused_reason = ${JSON.stringify(REASON)}::jsonb, paused_at = now() WHERE id = ${id}`);

describe("POST /v1/email-accounts/:id/resume", () => {
  it("shows a paused account's pausedReason; resume clears it, starts a new window and tells webhooks", async () => {
    await s.ws.as(() => Subscriptions.create({ url: "https://93.184.216.34/hook", events: ["email_account.resumed"] }));
    const account = await factory.emailAccount(s.ws, { maxBounceRate: 2, maxComplaintRate: 0.1 });
    expect(account).toMatchObject({ maxBounceRate: 2, maxComplaintRate: 0.1, sendingStatus: "active" });
    await pause(account.id);
    const paused = expectOk(await s.api.get(`/v1/email-accounts/${account.id}`));
    expect(paused).toMatchObject({ sendingStatus: "paused", pausedReason: REASON });
    expect(
      expectOk(await s.api.get("/v1/email-accounts", { query: { perPage: 100 } })).find((a: { id: string }) => a.id === account.id),
    ).toMatchObject({ sendingStatus: "paused", pausedReason: REASON });
    const resumed = expectOk(await s.api.post(`/v1/email-accounts/${account.id}/resume`));
    expect(Object.keys(resumed).sort()).toEqual(FIELDS.emailAccount);
    expect(resumed).toMatchObject({ id: account.id, sendingStatus: "active" });
    const [row] = await Database.rows<{ guard_window_start: Date | string | null; paused_at: unknown }>(
      sql`SELECT guard_window_start, paused_at FROM email_account WHERE id = ${account.id}`,
    );
    expect(row!.guard_window_start).not.toBeNull();
    expect(row!.paused_at).toBeNull();
    const hooks = await Database.rows<{ body: string }>(
      sql`SELECT body FROM webhook_event WHERE type = 'email_account.resumed' AND workspace_id = ${s.ws.id}`,
    );
    expect(hooks.map((h) => JSON.parse(h.body).data.emailAccount)).toEqual([
      { id: account.id, email: account.email, name: account.name, sendingStatus: "active" },
    ]);
    // Resuming an account that is not paused changes nothing (no new window).
    expect(expectOk(await s.api.post(`/v1/email-accounts/${account.id}/resume`))).toEqual(resumed);
    const [again] = await Database.rows<{ guard_window_start: Date | string | null }>(
      sql`SELECT guard_window_start FROM email_account WHERE id = ${account.id}`,
    );
    expect(new Date(again!.guard_window_start!).getTime()).toBe(new Date(row!.guard_window_start!).getTime());
  });

  it("takes the limits on create and update", async () => {
    const created = expectOk(
      await s.api.post("/v1/email-accounts", { email: "limits@acme.example", name: "Limits", maxBounceRate: 3, maxComplaintRate: 0.2 }),
      201,
    );
    expect(created).toMatchObject({ maxBounceRate: 3, maxComplaintRate: 0.2 });
    expect(expectOk(await s.api.put(`/v1/email-accounts/${created.id}`, { maxBounceRate: 8 }))).toMatchObject({
      maxBounceRate: 8,
      maxComplaintRate: 0.2,
    });
  });

  it.each<[Record<string, unknown>, Record<string, string>]>([
    [{ email: "v@acme.example", name: "V", maxBounceRate: 101 }, { maxBounceRate: "must be at most 100" }],
    [{ email: "v@acme.example", name: "V", maxComplaintRate: -1 }, { maxComplaintRate: "must be at least 0.01" }],
  ])("answers 400 to the create body %j", async (body, details) => {
    expectValidation(await s.api.post("/v1/email-accounts", body), details);
  });
});

describe("tenancy and routes", () => {
  it.each([
    ["GET", undefined],
    ["PUT", { name: "Hacked", dailyLimit: 1 }],
  ])("%s another workspace's account: 404, unchanged", async (method, body) => {
    const theirs = await factory.emailAccount(s.other);
    const res = await s.api.request(method, `/v1/email-accounts/${theirs.id}`, { body });
    expectError(res, 404, "NOT_FOUND", { message: `Email account ${theirs.id} not found` });
    expect(await stored(s.other, theirs.id)).toEqual(theirs);
  });

  it("POST resume of another workspace's paused account: 404, still paused", async () => {
    const theirs = await factory.emailAccount(s.other);
    await pause(theirs.id);
    const before = await stored(s.other, theirs.id);
    expectError(await s.api.post(`/v1/email-accounts/${theirs.id}/resume`), 404, "NOT_FOUND");
    expect(await stored(s.other, theirs.id)).toEqual(before);
    expect(before!.sendingStatus).toBe("paused");
  });

  it.each(["nope", "acc_", "acc_%00", "con_01abc"])("a malformed id (%s) is a 404", async (id) => {
    expectError(await s.api.get(`/v1/email-accounts/${id}`), 404, "NOT_FOUND");
    expectError(await s.api.put(`/v1/email-accounts/${id}`, { name: "x" }), 404, "NOT_FOUND");
  });

  it("has no DELETE: a 404 envelope, and the account stays", async () => {
    const account = await factory.emailAccount(s.ws);
    expectError(await s.api.delete(`/v1/email-accounts/${account.id}`), 404, "NOT_FOUND", {
      message: `No route for DELETE /v1/email-accounts/${account.id}`,
    });
    expect(await stored(s.ws, account.id)).toEqual(account);
  });

  it.each([
    ["GET", "/v1/email-accounts", undefined],
    ["POST", "/v1/email-accounts", { email: "auth@acme.example", name: "Auth" }],
    ["GET", "/v1/email-accounts/ID", undefined],
    ["PUT", "/v1/email-accounts/ID", { name: "Auth" }],
    ["POST", "/v1/email-accounts/ID/resume", undefined],
  ])("%s %s answers 401 to every bad key and changes nothing", async (method, template, body) => {
    const account = await factory.emailAccount(s.ws);
    const before = await counts(s.ws.id);
    await expectAuthFailures(s.api, method, template.replace("ID", account.id), {
      ws: s.ws,
      body,
    });
    expect(await counts(s.ws.id)).toEqual(before);
    expect(await stored(s.ws, account.id)).toEqual(account);
  });
});
