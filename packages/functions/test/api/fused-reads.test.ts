import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import { createApp } from "@fluenzr/functions/api/app";
import {
  apiClient,
  expectError,
  expectOk,
  expectValidation,
  factory,
  onServer,
  roundTripCounter,
  SEED_WORKFLOW,
  useTestDatabase,
} from "@fluenzr/testing";
import { getRequestListener } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * The hot reads (GET a campaign, a contact, a campaign's statistics) authenticate, count the
 * request against the rate limit and read the resource in ONE statement. What they answer must
 * not change: 401 before anything for a wrong, missing or revoked key (whatever the id), 404
 * for a malformed id or another workspace's, 429 past the limit.
 */

const db = useTestDatabase();

let ws: factory.TestWorkspace;
let other: factory.TestWorkspace;
const ids = { campaign: "", contact: "", otherCampaign: "", otherContact: "" };
const ROUTES = {
  campaign: (id: string) => `/v1/campaigns/${id}`,
  contact: (id: string) => `/v1/contacts/${id}`,
  stats: (id: string) => `/v1/campaigns/${id}/stats`,
  list: (status: string) => `/v1/campaigns?status=${status}&sort=name&order=asc`,
};
const mine = () => ({
  campaign: ROUTES.campaign(ids.campaign),
  contact: ROUTES.contact(ids.contact),
  stats: ROUTES.stats(ids.campaign),
  list: ROUTES.list("draft"),
});

beforeAll(async () => {
  [ws, other] = [await factory.workspace(), await factory.workspace()];
  for (const [w, suffix] of [
    [ws, ""],
    [other, "other"],
  ] as const) {
    const account = await factory.emailAccount(w);
    const contact = await factory.contact(w);
    const campaign = expectOk(
      await apiClient(undefined, w.key).post("/v1/campaigns", { name: "Hot", emailAccountId: account.id, workflow: SEED_WORKFLOW }),
      201,
    );
    if (suffix) [ids.otherCampaign, ids.otherContact] = [campaign.id, contact.id];
    else [ids.campaign, ids.contact] = [campaign.id, contact.id];
  }
});

describe("hot reads in one round trip", () => {
  it.each(Object.keys(ROUTES) as Array<keyof typeof ROUTES>)("GET %s: one statement (two when the key's minute rolls)", async (route) => {
    const api = apiClient(undefined, ws.key);
    const path = mine()[route];
    expectOk(await api.get(path)); // opens this minute's window
    const counter = roundTripCounter();
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      counter.reset();
      expectOk(await api.get(path));
      counts.push(counter.count());
    }
    // At most one of three can straddle a minute boundary.
    expect(counts.filter((n) => n === 1).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...counts)).toBeLessThanOrEqual(2);
  });

  it("answers what the separate reads answered: the same bodies", async () => {
    const api = apiClient(undefined, ws.key);
    const campaign = expectOk(await api.get(mine().campaign));
    expect(campaign).toMatchObject({ id: ids.campaign, name: "Hot", status: "draft", workflow: expect.any(Object) });
    // Every counter of a campaign nothing was sent for: zero (the seed's eight keys, and the four
    // human and machine counters of docs/machine-events.md).
    expect(Object.keys(campaign.stats)).toHaveLength(12);
    expect(Object.values(campaign.stats).every((n) => n === 0)).toBe(true);
    expect(expectOk(await api.get(mine().contact))).toMatchObject({ id: ids.contact, groups: [] });
    expect(expectOk(await api.get(mine().stats))).toMatchObject({ totalContacts: 0, sent: 0, openRate: 0 });
    const page = await api.get(mine().list);
    expect(expectOk(page).map((c: { id: string }) => c.id)).toEqual([ids.campaign]);
    expect(page.body.meta).toEqual({ page: 1, perPage: 20, total: 1, totalPages: 1 });
    // Past the last page the total still counts; another workspace's campaigns never do.
    const past = await api.get("/v1/campaigns", { query: { page: 3 } });
    expect([expectOk(past), past.body.meta.total]).toEqual([[], 1]);
  });

  it("401 for a missing, unknown or malformed key, before the id is looked at", async () => {
    for (const path of [
      ...Object.values(mine()),
      ROUTES.campaign("nope"),
      ROUTES.contact("cmp_wrongkind"),
      ROUTES.stats(ids.otherCampaign),
    ]) {
      for (const key of [null, "flz_sk_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "not-a-key"]) {
        expectError(await apiClient().get(path, { key }), 401, "UNAUTHORIZED");
      }
    }
  });

  it("404 for a malformed id and for another workspace's, with the rate-limit headers of an admitted request", async () => {
    const api = apiClient(undefined, ws.key);
    for (const [path, message] of [
      [ROUTES.campaign("nope"), "Campaign nope not found"],
      [ROUTES.contact("cmp_wrongkind"), "Contact cmp_wrongkind not found"],
      [ROUTES.campaign(ids.otherCampaign), `Campaign ${ids.otherCampaign} not found`],
      [ROUTES.contact(ids.otherContact), `Contact ${ids.otherContact} not found`],
      [ROUTES.stats(ids.otherCampaign), `Campaign ${ids.otherCampaign} not found`],
    ]) {
      const res = await api.get(path!);
      expectError(res, 404, "NOT_FOUND", { message });
      expect(res.headers.get("x-ratelimit-limit")).toBe("1000");
    }
  });

  it("400 naming the parameter for a bad list query, once the key is good", async () => {
    expectValidation(await apiClient(undefined, ws.key).get(ROUTES.list("bogus")), {
      status: "must be one of draft, active, paused, completed, archived",
    });
  });

  it("a revoked key is refused at once", async () => {
    const w = await factory.workspace();
    const api = apiClient(undefined, w.key);
    expect((await api.get(ROUTES.campaign(ids.campaign))).status).toBe(404);
    const [key] = await Auth.listKeys(w.id);
    await Auth.revokeKey(key!.id);
    expectError(await api.get(ROUTES.campaign(ids.campaign)), 401, "UNAUTHORIZED");
  });

  it("429 past the key's limit, with Retry-After, on every hot route", async () => {
    const w = await factory.workspace({ rateLimit: 2 });
    const account = await factory.emailAccount(w);
    const contact = await factory.contact(w);
    const api = apiClient(undefined, w.key);
    expect((await api.get(ROUTES.contact(contact.id))).status).toBe(200);
    expect((await api.get(ROUTES.campaign(ids.campaign))).status).toBe(404);
    for (const path of [ROUTES.contact(contact.id), ROUTES.campaign("cmp_x"), ROUTES.stats(account.id)]) {
      const res = await api.get(path);
      expectError(res, 429, "RATE_LIMITED");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });

  it("over Node's HTTP server (headers read off the raw request): any case, repeated headers joined", async () => {
    const server = createServer(getRequestListener(createApp().fetch));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // Raw HTTP: a client library would merge repeated headers before sending them.
    const raw = (headers: string[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () =>
          socket.write(
            [`GET ${ROUTES.contact(ids.contact)} HTTP/1.1`, "Host: localhost", "Connection: close", ...headers, "", ""].join("\r\n"),
          ),
        );
        let out = "";
        socket.on("data", (chunk) => (out += chunk));
        socket.on("end", () => resolve(out));
        socket.on("error", reject);
      });
    try {
      const ok = await raw([`aUtHoRiZaTiOn: Bearer ${ws.key}`, "X-Request-ID: req-raw-1"]);
      expect(ok).toMatch(/^HTTP\/1\.1 200/);
      expect(ok).toMatch(/x-request-id: req-raw-1/i);
      expect(ok).toMatch(/x-ratelimit-remaining: \d+/i);
      // Two Authorization headers read as one "Bearer a, Bearer b", as c.req.header answers: refused.
      expect(await raw([`Authorization: Bearer ${ws.key}`, `Authorization: Bearer ${ws.key}`])).toMatch(/^HTTP\/1\.1 401/);
      expect(await raw([])).toMatch(/^HTTP\/1\.1 401/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("a fused read's commit", () => {
  // It commits without waiting for the disk (set for its own transaction: auth/index.ts,
  // ASYNC_COMMIT). The setting must not outlive it: the next statement on the same connection
  // (a write's, say) commits synchronously.
  it("leaves the connection's synchronous_commit as it was, on every kind of fused read", async () => {
    // One connection, so that the SHOW runs where the read ran (PGlite has only one).
    const handle = Database.current();
    const single = onServer ? createPgDatabase(db.handle().url!, { max: 1 }) : undefined;
    if (single) Database.install(single);
    try {
      for (const path of Object.values(mine())) {
        expectOk(await apiClient(undefined, ws.key).get(path));
        const [row] = await Database.rows<{ synchronous_commit: string }>(sql`SHOW synchronous_commit`);
        expect(row!.synchronous_commit, path).toBe("on");
      }
    } finally {
      Database.install(handle);
      await single?.close();
    }
  });

  it("is never sent inside a transaction (it would make the transaction's commit asynchronous)", async () => {
    const scoped = Campaign.renderedById(ids.campaign);
    await expect(Database.transaction(() => Auth.authenticateWith(ws.key, scoped))).rejects.toThrow(/never inside a transaction/);
  });
});
