import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import { createApp } from "@fluenzr/functions/api/app";
import {
  type ApiClient,
  apiClient,
  expectError,
  expectOk,
  factory,
  onServer,
  roundTripCounter,
  SEED_WORKFLOW,
  useTestDatabase,
} from "@fluenzr/testing";
import { startWsProxy } from "@fluenzr/testing/ws-proxy";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import ws from "ws";

/**
 * A write's API key costs no round trip of its own (#16): the key's statement rides on the BEGIN
 * of the write's transaction (`keyOnBegin`, api/middleware/auth.ts). What a write answers must
 * not move: 401 for a missing, unknown or revoked key before anything else (a bad body's 400,
 * a large body's 413), 429 past the limit with its headers, and nothing written when refused.
 */

const db = useTestDatabase();

interface Fixture {
  ws: factory.TestWorkspace;
  api: ApiClient;
  accountId: string;
  contactId: string;
  groupId: string;
  campaignId: string;
}

async function fixture(options: { rateLimit?: number } = {}): Promise<Fixture> {
  const ws = await factory.workspace(options);
  const api = apiClient(undefined, ws.key);
  const account = await factory.emailAccount(ws);
  const contact = await factory.contact(ws);
  const group = await factory.group(ws);
  const f = { ws, api, accountId: account.id, contactId: contact.id, groupId: group.id, campaignId: "" };
  f.campaignId = (await draft(f)).id;
  return f;
}

const draft = (f: Pick<Fixture, "ws" | "accountId">) =>
  f.ws.as(() => Campaign.create({ name: "Writes", emailAccountId: f.accountId, workflow: SEED_WORKFLOW as never }));

/**
 * Writes whose key rides on BEGIN: `path` makes what the write needs afresh when it must (`n` is
 * new each call), `body` is a valid body, `invalid` one answered 400.
 */
interface Write {
  name: string;
  method: string;
  path: (f: Fixture) => string | Promise<string>;
  body?: (f: Fixture, n: number) => unknown;
  invalid?: unknown;
}
const WRITES: Write[] = [
  {
    name: "create a contact",
    method: "POST",
    path: () => "/v1/contacts",
    body: (_, n) => ({ email: `w${n}@example.org` }),
    invalid: { email: "nope" },
  },
  {
    name: "update a contact",
    method: "PUT",
    path: (f) => `/v1/contacts/${f.contactId}`,
    body: (_, n) => ({ firstName: `W${n}` }),
    invalid: { firstName: 7 },
  },
  {
    name: "add a contact to groups",
    method: "POST",
    path: (f) => `/v1/contacts/${f.contactId}/groups`,
    body: (f) => ({ groupIds: [f.groupId] }),
    invalid: { groupIds: "x" },
  },
  { name: "delete a contact", method: "DELETE", path: async (f) => `/v1/contacts/${(await factory.contact(f.ws)).id}` },
  {
    name: "update a campaign",
    method: "PUT",
    path: (f) => `/v1/campaigns/${f.campaignId}`,
    body: (_, n) => ({ name: `W${n}` }),
    invalid: { name: "" },
  },
  {
    name: "add contacts to a campaign",
    method: "POST",
    path: (f) => `/v1/campaigns/${f.campaignId}/contacts`,
    body: (f) => ({ contactIds: [f.contactId] }),
    invalid: { contactIds: "x" },
  },
  { name: "delete a campaign", method: "DELETE", path: async (f) => `/v1/campaigns/${(await draft(f)).id}` },
  {
    name: "import contacts",
    method: "POST",
    path: () => "/v1/contacts/bulk",
    body: (f, n) => ({ contacts: [{ email: `bulk${n}@example.org` }], groupIds: [f.groupId] }),
    invalid: { contacts: "x" },
  },
  {
    name: "start a campaign",
    method: "POST",
    path: async (f) => {
      const campaign = await draft(f);
      await f.ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [f.contactId] }));
      return `/v1/campaigns/${campaign.id}/start`;
    },
  },
  {
    name: "create a campaign",
    method: "POST",
    path: () => "/v1/campaigns",
    body: (f, n) => ({ name: `Writes ${n}`, emailAccountId: f.accountId, workflow: SEED_WORKFLOW }),
    invalid: { name: "" },
  },
  {
    name: "create a group",
    method: "POST",
    path: () => "/v1/groups",
    body: (_, n) => ({ name: `Writes ${n}` }),
    invalid: { name: "" },
  },
  {
    name: "add tags to a contact",
    method: "POST",
    path: (f) => `/v1/contacts/${f.contactId}/tags`,
    body: (_, n) => ({ tags: [`t${n}`] }),
    invalid: { tags: "x" },
  },
  {
    name: "remove tags from a contact",
    method: "DELETE",
    path: (f) => `/v1/contacts/${f.contactId}/tags`,
    body: (_, n) => ({ tags: [`t${n - 1}`] }),
    invalid: { tags: "x" },
  },
];
const WITH_BODY = WRITES.filter((w) => w.body && w.invalid);

/**
 * Round trips of each common write, BEGIN and COMMIT included (node-postgres and Neon's driver;
 * PGlite counts only its statements outside transactions). The key is in none of them as a
 * statement of its own. A write that changes these numbers changes them here, on purpose.
 */
const ROUND_TRIPS: Record<string, { server: number; pglite: number }> = {
  // BEGIN + key, suppression check, insert, re-read, outbox, COMMIT
  "create a contact": { server: 6, pglite: 0 },
  // BEGIN + key, update, re-read, outbox, COMMIT
  "update a contact": { server: 5, pglite: 0 },
  // BEGIN + key, lock, update, COMMIT, re-read
  "update a campaign": { server: 5, pglite: 1 },
  // BEGIN + key, lock, insert, COMMIT
  "add contacts to a campaign": { server: 4, pglite: 0 },
  // BEGIN + key, the contact, the groups, insert, re-read, COMMIT
  "add a contact to groups": { server: 6, pglite: 0 },
  // BEGIN + key, delete (one statement), outbox, COMMIT
  "delete a contact": { server: 4, pglite: 0 },
  // BEGIN + key, lock, delete, COMMIT
  "delete a campaign": { server: 4, pglite: 0 },
  // The groups (the key fused into it, Database.write), then BEGIN, four statements, COMMIT
  "import contacts": { server: 7, pglite: 1 },
  // The accounts SES is asked about (the key fused into it, Database.write), BEGIN, lock, the
  // accounts, the first steps, update, outbox, COMMIT, re-read
  "start a campaign": { server: 9, pglite: 2 },
  // No transaction: the key fused into the insert (Database.write), the accounts' check its condition
  "create a campaign": { server: 1, pglite: 1 },
  // No transaction: the key fused into the insert (Database.write)
  "create a group": { server: 1, pglite: 1 },
  // The key fused into the update, re-read
  "add tags to a contact": { server: 2, pglite: 2 },
  "remove tags from a contact": { server: 2, pglite: 2 },
};

/** The writes that honour `Idempotency-Key`. */
const IDEMPOTENT = ["create a contact", "import contacts", "add contacts to a campaign", "create a campaign", "create a group"];

/** Requests made so far (each write's values are new). */
let n = 0;

/** Round trips of one request of each write (the fewer of two: a minute's turn adds the key's roll to one). */
async function countWrites(f: Fixture, options: { idempotent?: boolean } = {}): Promise<Record<string, number>> {
  const counted: Record<string, number> = {};
  for (const write of WRITES.filter((w) => !options.idempotent || IDEMPOTENT.includes(w.name))) {
    const counts: number[] = [];
    for (let i = 0; i < 2; i++) {
      expectOk(await f.api.get("/v1/groups")); // opens the key's minute: its roll is not the write's
      const path = await write.path(f);
      const counter = roundTripCounter();
      const headers = options.idempotent ? { "idempotency-key": `rt-${n}` } : undefined;
      const res = await f.api.request(write.method, path, { body: write.body?.(f, n++), headers });
      counts.push(counter.count());
      expect(res.status, `${write.name}: ${res.text}`).toBeLessThan(300);
    }
    counted[write.name] = Math.min(...counts);
  }
  return counted;
}

const expected = (kind: "server" | "pglite") => Object.fromEntries(Object.entries(ROUND_TRIPS).map(([name, n]) => [name, n[kind]]));

/**
 * With an `Idempotency-Key`, two more: the key's record first (outside the transaction; the API
 * key fused into it, Database.write), and its completion after.
 */
const expectedIdempotent = (kind: "server" | "pglite") =>
  Object.fromEntries(IDEMPOTENT.map((name) => [name, ROUND_TRIPS[name]![kind] + 2]));

describe("a write's round trips: its transaction's, none for the key alone", () => {
  it(`through ${onServer ? "node-postgres" : "PGlite"}`, async () => {
    expect(await countWrites(await fixture())).toEqual(expected(onServer ? "server" : "pglite"));
  });

  it(`with an Idempotency-Key, through ${onServer ? "node-postgres" : "PGlite"}: its record carries the key`, async () => {
    expect(await countWrites(await fixture(), { idempotent: true })).toEqual(expectedIdempotent(onServer ? "server" : "pglite"));
  });

  it.skipIf(!onServer)("through Neon's driver over WebSocket (the key and BEGIN in one message)", async () => {
    const f = await fixture();
    const proxy = await startWsProxy();
    const neon = createNeonDatabase(db.handle().url!, { wsProxy: proxy.address, webSocketConstructor: ws, max: 3 });
    const local = Database.current();
    Database.install(neon);
    try {
      expect(await countWrites(f)).toEqual(expected("server"));
      expect(await countWrites(f, { idempotent: true })).toEqual(expectedIdempotent("server"));
    } finally {
      Database.install(local);
      await neon.close();
      await proxy.close();
    }
  });
});

/** What a workspace holds that a write could have changed: rows and the campaign's and contact's state. */
async function state(f: Fixture) {
  const [row] = await Database.rows(sql`
    SELECT (SELECT count(*)::int FROM contact WHERE workspace_id = ${f.ws.id}) AS contacts,
           (SELECT count(*)::int FROM campaign_contact cc JOIN campaign c ON c.id = cc.campaign_id WHERE c.workspace_id = ${f.ws.id}) AS enrolled,
           (SELECT count(*)::int FROM webhook_event WHERE workspace_id = ${f.ws.id}) AS outbox,
           (SELECT count(*)::int FROM idempotency_key WHERE workspace_id = ${f.ws.id}) AS idempotency,
           (SELECT count(*)::int FROM contact_group WHERE workspace_id = ${f.ws.id}) AS groups,
           (SELECT string_agg(status, ',' ORDER BY id) FROM campaign WHERE workspace_id = ${f.ws.id}) AS campaigns,
           (SELECT row_to_json(c)::text FROM contact c WHERE id = ${f.contactId}) AS contact,
           (SELECT row_to_json(c)::text FROM campaign c WHERE id = ${f.campaignId}) AS campaign`);
  return row;
}

describe("a refused key on a write changes nothing", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it.each(WRITES)("$name: 401 for a missing, unknown or malformed key, before a bad body's 400", async (write) => {
    const path = await write.path(f);
    const before = await state(f);
    for (const key of [null, "flz_sk_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "not-a-key"]) {
      for (const body of [write.body?.(f, 1), write.invalid]) {
        const res = await f.api.request(write.method, path, { key, body });
        expectError(res, 401, "UNAUTHORIZED", { message: "Invalid or missing API key" });
        expect(res.headers.get("x-ratelimit-limit")).toBeNull();
      }
    }
    expect(await state(f)).toEqual(before);
  });

  it.each(WITH_BODY)("$name: a good key's bad body answers 400 with the rate-limit headers", async (write) => {
    const res = await f.api.request(write.method, await write.path(f), { body: write.invalid });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-ratelimit-limit")).toBe("1000");
  });

  it("a good key's write answers with the rate-limit headers, counted once", async () => {
    const w = await fixture({ rateLimit: 50 });
    const remaining: number[] = [];
    for (const write of WRITES) {
      const path = await write.path(w);
      const res = await w.api.request(write.method, path, { body: write.body?.(w, 100) });
      expect(res.status, res.text).toBeLessThan(300);
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
    }
    expect(remaining.map((r, i) => remaining[0]! - r + 1 - i)).toEqual(WRITES.map(() => 1));
  });

  it.each(WRITES)("$name: 429 past the limit, with Retry-After and the limit's headers", async (write) => {
    const w = await fixture({ rateLimit: 1 });
    const path = await write.path(w);
    expectOk(await w.api.get("/v1/groups"));
    const before = await state(w);
    for (const body of [write.body?.(w, 2), write.invalid]) {
      const res = await w.api.request(write.method, path, { body, headers: { "idempotency-key": `k-${write.name}` } });
      expectError(res, 429, "RATE_LIMITED", { message: "Rate limit of 1 requests per minute exceeded" });
      expect(res.headers.get("x-ratelimit-limit")).toBe("1");
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(res.headers.get("x-ratelimit-reset")).toMatch(/^\d+$/);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect(await state(w)).toEqual(before);
  });

  it.each(WITH_BODY)("$name: a key revoked while the request is in flight is refused, nothing written", async (write) => {
    const w = await fixture();
    const path = await write.path(w);
    const before = await state(w);
    // The request arrives with a good key; its body is still coming when the key is revoked.
    let release!: () => void;
    const arrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    const body = new ReadableStream({
      async pull(controller) {
        await arrived;
        controller.enqueue(new TextEncoder().encode(JSON.stringify(write.body!(w, 3))));
        controller.close();
      },
    });
    const app = createApp();
    const pending = app.request(path, {
      method: write.method,
      headers: { authorization: `Bearer ${w.ws.key}`, "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    await Auth.revokeKey(w.ws.keyId);
    release();
    const res = await pending;
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ success: false, error: { code: "UNAUTHORIZED", message: "Invalid or missing API key" } });
    expect(await state(w)).toEqual(before);
  });
});
