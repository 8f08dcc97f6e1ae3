import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalDatabase, readConfig } from "@fluenzr/local/database";
import { startLocalSystem } from "@fluenzr/local/system";
import { afterAll, describe, expect, it } from "vitest";

/** `npm start` as a new user meets it: embedded database in a data folder, a key on first start. */
describe("local system", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluenzr-local-"));
  const config = { ...readConfig({}), dataDir, port: 0 };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const call = async (url: string, key: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(url + path, {
      ...init,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("creates a workspace and a key on first start, keeps data across restarts, and locks the folder while running", async () => {
    const first = await startLocalSystem(config);
    let key: string;
    try {
      expect(first.bootstrap.created).toBe(true);
      key = first.bootstrap.key!;
      expect(key).toMatch(/^flz_sk_[A-Za-z0-9]{32}$/);
      expect(readFileSync(join(dataDir, "api-key"), "utf8").trim()).toBe(key);
      const created = await call(first.url, key, "/v1/contacts", { method: "POST", body: JSON.stringify({ email: "kept@example.org" }) });
      expect(created.status).toBe(201);
      await expect(openLocalDatabase(config)).rejects.toThrow(/Stop it first/);
    } finally {
      await first.stop();
    }
    expect(existsSync(join(dataDir, "server.pid"))).toBe(false);

    const second = await startLocalSystem(config);
    try {
      expect(second.bootstrap.created).toBe(false);
      expect(second.bootstrap.key).toBeUndefined();
      const list = await call(second.url, key, "/v1/contacts");
      expect(list.status).toBe(200);
      expect(list.body.data.map((c: { email: string }) => c.email)).toEqual(["kept@example.org"]);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("ensures BOOTSTRAP_API_KEY, so scripts can talk to it", async () => {
    const bootstrapKey = "flz_sk_ScriptsCanUseThisKey0123456789AB".slice(0, 39);
    expect(bootstrapKey).toMatch(/^flz_sk_[A-Za-z0-9]{32}$/);
    const system = await startLocalSystem({ ...config, bootstrapKey });
    try {
      expect(system.bootstrap.key).toBeUndefined();
      expect((await call(system.url, bootstrapKey, "/v1/groups")).status).toBe(200);
      expect((await call(system.url, "flz_sk_ScriptsCanUseThisKey0123456789AC".slice(0, 39), "/v1/groups")).status).toBe(401);
    } finally {
      await system.stop();
    }
    await expect(startLocalSystem({ ...config, bootstrapKey: "flz_sk_tooshort" })).rejects.toThrow(/BOOTSTRAP_API_KEY/);
  }, 60_000);
});
