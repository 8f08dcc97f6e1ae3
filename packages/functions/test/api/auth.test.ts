import * as Auth from "@fluenzr/core/auth";
import * as Database from "@fluenzr/core/database";
import * as Log from "@fluenzr/core/log";
import { createApp } from "@fluenzr/functions/api/app";
import { apiClient, factory, onServer, roundTripCounter, useTestDatabase } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

const db = useTestDatabase();

describe("API key authentication", () => {
  it("accepts a valid key and puts its workspace in context", async () => {
    const ws = await factory.workspace();
    const contact = await factory.contact(ws, { email: "mine@example.org" });
    const res = await apiClient(undefined, ws.key).get(`/v1/contacts/${contact.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data.email).toBe("mine@example.org");
  });

  it.each([
    ["no header", {}],
    ["an unknown key", { authorization: "Bearer flz_sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }],
    ["a malformed key", { authorization: "Bearer flz_sk_short" }],
    ["another scheme", { authorization: "Basic Zm9vOmJhcg==" }],
    ["an empty bearer", { authorization: "Bearer " }],
  ])("answers 401 for %s", async (_, headers) => {
    const res = await apiClient().get("/v1/contacts", { headers });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ success: false, error: { code: "UNAUTHORIZED", message: "Invalid or missing API key" } });
    expect(res.headers.get("x-ratelimit-limit")).toBeNull();
  });

  it("refuses a revoked key on the very next request", async () => {
    const ws = await factory.workspace();
    const api = apiClient(undefined, ws.key);
    expect((await api.get("/v1/contacts")).status).toBe(200);
    await Auth.revokeKey(ws.keyId);
    expect((await api.get("/v1/contacts")).status).toBe(401);
  });

  it("tracks lastUsedAt, at most once a minute", async () => {
    const ws = await factory.workspace();
    const api = apiClient(undefined, ws.key);
    expect((await Auth.fromKey(ws.key))?.lastUsedAt).toBeNull();
    await api.get("/v1/contacts");
    const first = (await Auth.fromKey(ws.key))?.lastUsedAt;
    expect(first).toBeInstanceOf(Date);
    await api.get("/v1/contacts");
    expect((await Auth.fromKey(ws.key))?.lastUsedAt).toEqual(first);
  });

  it("costs one database round trip: a 401 makes one statement, a GET by id one (the key's and the contact's)", async () => {
    const ws = await factory.workspace();
    const contact = await factory.contact(ws);
    const api = apiClient(undefined, ws.key);
    const counter = roundTripCounter();
    await apiClient().get("/v1/contacts", { key: "flz_sk_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" });
    expect(counter.count()).toBe(1);
    // The first request of a key in a minute also rolls its rate-limit window: one more statement.
    counter.reset();
    expect((await api.get(`/v1/contacts/${contact.id}`)).status).toBe(200);
    expect(counter.count()).toBe(2);
    for (let i = 0; i < 3; i++) {
      counter.reset();
      expect((await api.get(`/v1/contacts/${contact.id}`)).status).toBe(200);
      // Unless the minute turned between two requests, auth, rate limit and read are one statement.
      expect([1, 2]).toContain(counter.count());
    }
    counter.reset();
    await api.get(`/v1/contacts/${contact.id}`);
    await api.get(`/v1/contacts/${contact.id}`);
    expect(counter.count()).toBeLessThanOrEqual(3);
  });

  it("never logs the key or the Authorization header", async () => {
    const ws = await factory.workspace();
    const lines: string[] = [];
    Log.setLevel("debug");
    const restore = Log.setSink((line) => lines.push(line));
    try {
      const api = apiClient(undefined, ws.key);
      await api.get("/v1/contacts");
      await api.post("/v1/contacts", { email: `x${ws.key}@example.org` });
      await apiClient().get("/v1/contacts", { key: ws.key.replace(/.$/, "Z") });
      Log.error("oops", { detail: `leaked ${ws.key}`, authorization: "Bearer x" });
    } finally {
      restore();
      Log.setLevel(undefined);
    }
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const text = lines.join("\n");
    expect(text).not.toContain(ws.key.slice(7));
    expect(text).not.toContain(ws.key.slice(7, -1));
    expect(text).not.toMatch(/Bearer/);
  });
});

describe("rate limit", () => {
  it("sets X-RateLimit headers and answers 429 with Retry-After past the limit", async () => {
    const ws = await factory.workspace({ rateLimit: 3 });
    const api = apiClient(undefined, ws.key);
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api.get("/v1/contacts");
      expect(res.status).toBe(200);
      remaining.push(res.headers.get("x-ratelimit-remaining")!);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 - 1);
    }
    expect(remaining.map(Number)).toEqual([2, 1, 0]);
    const refused = await api.get("/v1/contacts");
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("RATE_LIMITED");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  it("is per key: another key of the same workspace has its own budget", async () => {
    const ws = await factory.workspace({ rateLimit: 1 });
    const other = await Auth.createKey({ workspaceId: ws.id, name: "other", rateLimit: 1 });
    expect((await apiClient(undefined, ws.key).get("/v1/contacts")).status).toBe(200);
    expect((await apiClient(undefined, ws.key).get("/v1/contacts")).status).toBe(429);
    expect((await apiClient(undefined, other.key).get("/v1/contacts")).status).toBe(200);
  });

  it.skipIf(!onServer)("holds across instances: a second app with its own pool sees the budget the first used", async () => {
    const ws = await factory.workspace({ rateLimit: 10 });
    const { createPgDatabase } = await import("@fluenzr/core/database/pg");
    const instanceA = Database.current();
    const instanceB = createPgDatabase(db.handle().url!, { max: 10 });
    const burst = async (n: number) => {
      const app = createApp();
      return Promise.all(Array.from({ length: n }, async () => (await apiClient(app, ws.key).get("/v1/contacts")).status));
    };
    try {
      const first = await burst(6);
      Database.install(instanceB);
      const second = await burst(6);
      expect(first).toEqual(Array(6).fill(200));
      expect(second.filter((s) => s === 200)).toHaveLength(4);
      expect(second.filter((s) => s === 429)).toHaveLength(2);
    } finally {
      Database.install(instanceA);
      await instanceB.close();
    }
  });
});
