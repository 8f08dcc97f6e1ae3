import { MAX_BODY_BYTES } from "@fluenzr/functions/api/app";
import { apiClient, counts, expectError, factory, SEED_WORKFLOW, useTestDatabase } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

/**
 * Bugs found by the black-box audit of issue 17, each shown failing before its fix: ids that
 * cannot exist, `totalContacts` after a contact is deleted, rate-limit headers on a 413, and
 * `Idempotency-Key` on every create.
 */

useTestDatabase();

async function setup() {
  const ws = await factory.workspace({ rateLimit: 1_000_000 });
  const account = await factory.emailAccount(ws);
  const api = apiClient(undefined, ws.key);
  return { ws, account, api };
}

describe("ids that cannot exist answer 404 before any SQL, on every resource", () => {
  const ids = ["%00", "cmp_%00", "con_%00", "grp_%00", "acc_%00", "x", "cmp_ok%00ok"];
  const routes: Array<[string, (id: string) => string, unknown?]> = [
    ["GET", (id) => `/v1/campaigns/${id}`],
    ["PUT", (id) => `/v1/campaigns/${id}`, { name: "x" }],
    ["DELETE", (id) => `/v1/campaigns/${id}`],
    ["POST", (id) => `/v1/campaigns/${id}/start`],
    ["GET", (id) => `/v1/campaigns/${id}/contacts`],
    ["GET", (id) => `/v1/campaigns/${id}/stats`],
    ["GET", (id) => `/v1/campaigns/${id}/stats/emails`],
    ["GET", (id) => `/v1/campaigns/${id}/stats/timeline`],
    ["GET", (id) => `/v1/campaigns/${id}/activity`],
    ["GET", (id) => `/v1/contacts/${id}`],
    ["GET", (id) => `/v1/groups/${id}`],
    ["GET", (id) => `/v1/email-accounts/${id}`],
  ];
  it.each(routes.flatMap(([method, path, body]) => ids.map((id) => [method, path(id), body] as const)))(
    "%s %s",
    async (method, path, body) => {
      const { api } = await setup();
      expectError(await api.request(method, path, { body }), 404, "NOT_FOUND");
    },
  );

  it("a campaign id of the wrong kind (a contact's) is 404", async () => {
    const { ws, api } = await setup();
    const contact = await factory.contact(ws);
    expectError(await api.get(`/v1/campaigns/${contact.id}/stats`), 404, "NOT_FOUND");
  });
});

describe("deleting an enrolled contact keeps totalContacts right", () => {
  it("enrol A and B, delete both: totalContacts is 0 and start answers 409 (SPEC §2)", async () => {
    const { ws, account, api } = await setup();
    const campaign = (await api.post("/v1/campaigns", { name: "Gone", emailAccountId: account.id, workflow: SEED_WORKFLOW })).body.data;
    const a = await factory.contact(ws);
    const b = await factory.contact(ws);
    expect((await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [a.id, b.id] })).body.data.added).toBe(2);

    expect((await api.delete(`/v1/contacts/${a.id}`)).status).toBe(200);
    expect((await api.get(`/v1/campaigns/${campaign.id}`)).body.data.stats.totalContacts).toBe(1);
    expect((await api.get(`/v1/campaigns/${campaign.id}/stats`)).body.data.totalContacts).toBe(1);

    expect((await api.delete(`/v1/contacts/${b.id}`)).status).toBe(200);
    expect((await api.get(`/v1/campaigns/${campaign.id}`)).body.data.stats.totalContacts).toBe(0);
    const res = await api.post(`/v1/campaigns/${campaign.id}/start`);
    expectError(res, 409, "CONFLICT", { details: expect.arrayContaining([{ path: "contacts", message: "no contacts are enrolled" }]) });
    expect((await api.get(`/v1/campaigns/${campaign.id}`)).body.data.status).toBe("draft");
  });

  it("a contact enrolled in two campaigns lowers both counters; other campaigns are untouched", async () => {
    const { ws, account, api } = await setup();
    const create = async (name: string) =>
      (await api.post("/v1/campaigns", { name, emailAccountId: account.id, workflow: SEED_WORKFLOW })).body.data.id as string;
    const [one, two, other] = [await create("One"), await create("Two"), await create("Other")];
    const shared = await factory.contact(ws);
    const kept = await factory.contact(ws);
    await api.post(`/v1/campaigns/${one}/contacts`, { contactIds: [shared.id, kept.id] });
    await api.post(`/v1/campaigns/${two}/contacts`, { contactIds: [shared.id] });
    await api.post(`/v1/campaigns/${other}/contacts`, { contactIds: [kept.id] });
    await api.delete(`/v1/contacts/${shared.id}`);
    const total = async (id: string) => (await api.get(`/v1/campaigns/${id}`)).body.data.stats.totalContacts;
    expect([await total(one), await total(two), await total(other)]).toEqual([1, 0, 1]);
  });
});

describe("rate-limit headers on every response to an authenticated key", () => {
  it("a 413 to a known key carries X-RateLimit-* (the key is checked before the body's size)", async () => {
    const { api } = await setup();
    const res = await api.request("POST", "/v1/contacts", {
      rawBody: JSON.stringify({ email: "a@b.co", pad: "x".repeat(MAX_BODY_BYTES) }),
    });
    expectError(res, 413, "PAYLOAD_TOO_LARGE");
    expect(res.headers.get("x-ratelimit-limit")).toBe("1000000");
    expect(Number(res.headers.get("x-ratelimit-remaining"))).toBeGreaterThan(0);
    expect(res.headers.get("x-ratelimit-reset")).toMatch(/^\d+$/);
  });

  it("a large body without a key answers 401, not 413", async () => {
    const { api } = await setup();
    const res = await api.request("POST", "/v1/contacts", { key: null, rawBody: "x".repeat(MAX_BODY_BYTES + 1) });
    expectError(res, 401, "UNAUTHORIZED");
  });
});

describe("Idempotency-Key is honoured on every create", () => {
  const creates: Array<[string, (n: string) => Record<string, unknown>, (ws: string) => Promise<number>]> = [
    ["/v1/groups", (n) => ({ name: `Group ${n}` }), async (ws) => (await counts(ws)).groups],
    ["/v1/contacts", (n) => ({ email: `idem-${n}@example.org` }), async (ws) => (await counts(ws)).contacts],
    ["/v1/contacts/bulk", (n) => ({ contacts: [{ email: `bulk-${n}@example.org` }] }), async (ws) => (await counts(ws)).contacts],
    ["/v1/email-accounts", (n) => ({ email: `sender-${n}@example.org`, name: "Sender" }), async (ws) => (await counts(ws)).accounts],
  ];
  it.each(creates)("POST %s: a repeat replays the first answer and creates nothing more", async (path, body, count) => {
    const { ws, api } = await setup();
    const before = await count(ws.id);
    const headers = { "idempotency-key": `create-${path}` };
    const first = await api.post(path, body("1"), { headers });
    expect(first.status).toBeLessThan(300);
    const again = await api.post(path, body("1"), { headers });
    expect(again.status).toBe(first.status);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await count(ws.id)).toBe(before + 1);
    const reused = await api.post(path, body("2"), { headers });
    expectError(reused, 409, "CONFLICT", { details: [{ path: "Idempotency-Key", message: expect.any(String) }] });
    expect(await count(ws.id)).toBe(before + 1);
  });
});
