import * as Actor from "@fluenzr/core/actor";
import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Workspace from "@fluenzr/core/workspace";
import { linear, onServer, openTestDatabase, type TestDatabase } from "@fluenzr/testing";
import { startWsProxy } from "@fluenzr/testing/ws-proxy";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";

/**
 * The production driver itself (Neon's serverless Pool over WebSocket, drizzle neon-serverless),
 * against the local PostgreSQL through a WebSocket-to-TCP proxy. Needs a server: DATABASE_URL.
 */
describe.skipIf(!onServer)("Neon serverless driver", () => {
  let server: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startWsProxy>>;
  let neon: ReturnType<typeof createNeonDatabase>;

  beforeAll(async () => {
    server = await openTestDatabase();
    proxy = await startWsProxy();
    neon = createNeonDatabase(server.url!, { wsProxy: proxy.address, webSocketConstructor: ws, max: 3 });
    Database.install(neon);
  });

  afterAll(async () => {
    await neon?.close();
    await proxy?.close();
    await server?.close();
  });

  it("survives Neon's idle suspend: statements on dead pooled connections are retried on new ones", async () => {
    // Fill the pool with idle connections (3 at once), then kill them all, unnoticed by the client.
    await Promise.all([1, 2, 3].map(() => Database.rows(sql`SELECT pg_sleep(0.05)`)));
    expect(neon.pool.idleCount).toBe(3);
    expect(proxy.killOpenConnections()).toBe(3);
    const before = proxy.connections();
    const [row] = await Database.rows<{ answer: number }>(sql`SELECT 6 * 7 AS answer`);
    expect(row).toEqual({ answer: 42 });
    expect(proxy.connections()).toBeGreaterThan(before);
    // A transaction whose BEGIN meets a dead connection starts again on a live one.
    await Promise.all([1, 2, 3].map(() => Database.rows(sql`SELECT pg_sleep(0.05)`)));
    expect(proxy.killOpenConnections()).toBeGreaterThan(0);
    const inside = await Database.transaction(async () => (await Database.rows<{ n: number }>(sql`SELECT 1 AS n`))[0]!.n);
    expect(inside).toBe(1);
  });

  it("runs a batch of prepared statements in one round trip, and again after its connections died", async () => {
    const batch = (n: number): Database.Batched[] =>
      Array.from({ length: n }, (_, i) => ({
        name: "neon_batch_echo",
        text: "SELECT $1::text AS v, $2::int AS n",
        params: [`it's \\ ${i}`, i],
      }));
    await Promise.all([1, 2, 3].map(() => Database.batch(batch(2))));
    const before = neon.roundTrips();
    const rows = await Database.batch<{ v: string; n: number }>(batch(5));
    expect(neon.roundTrips() - before).toBe(1);
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 5 }, (_, i) => ({ v: `it's \\ ${i}`, n: i })));
    // Neon suspended: the batch lands on a fresh connection, which prepares its statement first.
    expect(proxy.killOpenConnections()).toBeGreaterThan(0);
    expect((await Database.batch<{ n: number }>(batch(3))).map((r) => r[0]!.n)).toEqual([0, 1, 2]);
  });

  it("does not retry a statement that failed for its own reasons", async () => {
    await expect(Database.rows(sql`SELECT * FROM no_such_table`)).rejects.toThrow(/no_such_table/);
  });

  it("runs queries through the WebSocket", async () => {
    const [row] = await Database.rows<{ answer: number }>(sql`SELECT 41 + 1 AS answer`);
    expect(row).toEqual({ answer: 42 });
    expect(proxy.connections()).toBeGreaterThan(0);
  });

  it("runs the domain code: create and read a contact", async () => {
    const workspace = await Workspace.create("Neon");
    const contact = await Actor.asWorkspace(workspace.id, () => Contact.create({ email: "neon@example.org", tags: ["b", "a"] }));
    const read = await Actor.asWorkspace(workspace.id, () => Contact.fromID(contact.id));
    expect(read).toMatchObject({ email: "neon@example.org", tags: ["a", "b"], groups: [] });
  });

  it("runs the prepared reads of the API: a campaign with its workflow and counters, twice on a pooled connection", async () => {
    EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
    const workspace = await Workspace.create("Neon campaigns");
    const campaign = await Actor.asWorkspace(workspace.id, async () => {
      const account = await EmailAccount.create({ email: "neon@example.com", name: "Neon" });
      return Campaign.create({
        name: "Over WebSocket",
        emailAccountId: account.id,
        workflow: linear([{ id: "e", email: { subject: "Hi", body: "Hello" } }], { start: "s", end: "end" }),
      });
    });
    for (let i = 0; i < 2; i++) {
      const read = await Actor.asWorkspace(workspace.id, () => Campaign.fromID(campaign.id));
      expect(read).toMatchObject({ id: campaign.id, name: "Over WebSocket", status: "draft", stats: { totalContacts: 0, sent: 0 } });
      expect(read?.workflow?.nodes).toHaveLength(3);
    }
    expect(await Actor.asWorkspace("ws_other", () => Campaign.fromID(campaign.id))).toBeUndefined();
  });

  it("commits an interactive transaction, and reads its own writes inside it", async () => {
    const workspace = await Workspace.create("Tx");
    const seen = await Database.transaction(async () => {
      await Database.rows(sql`UPDATE workspace SET name = 'Tx renamed' WHERE id = ${workspace.id}`);
      const [inside] = await Database.rows<{ name: string }>(sql`SELECT name FROM workspace WHERE id = ${workspace.id}`);
      return inside!.name;
    });
    expect(seen).toBe("Tx renamed");
    expect((await Workspace.fromID(workspace.id))?.name).toBe("Tx renamed");
  });

  it("rolls back an interactive transaction that throws, and runs no after-commit effect", async () => {
    const workspace = await Workspace.create("Rollback");
    let effectRan = false;
    await expect(
      Database.transaction(async () => {
        await Database.rows(sql`UPDATE workspace SET name = 'changed' WHERE id = ${workspace.id}`);
        await Database.afterCommit(() => {
          effectRan = true;
        });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect((await Workspace.fromID(workspace.id))?.name).toBe("Rollback");
    expect(effectRan).toBe(false);
  });

  it("isolates concurrent transactions on separate pooled connections", async () => {
    const workspace = await Workspace.create("Locks");
    const order: string[] = [];
    // An observer outside the pool sees the second transaction wait on the first one's row lock:
    // the first commits only then, so the order is forced by the lock, not by timers.
    const observer = new pg.Client({ connectionString: server.url });
    await observer.connect();
    const waitingOnLock = async () => {
      for (let i = 0; i < 500; i++) {
        const { rows } = await observer.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0]!.n > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error("the second transaction never waited on the lock");
    };
    let firstLocked!: () => void;
    const locked = new Promise<void>((resolve) => {
      firstLocked = resolve;
    });
    try {
      await Promise.all([
        Database.transaction(async () => {
          await Database.rows(sql`SELECT id FROM workspace WHERE id = ${workspace.id} FOR UPDATE`);
          order.push("first locked");
          firstLocked();
          await waitingOnLock();
          order.push("first done");
        }),
        (async () => {
          await locked;
          await Database.transaction(async () => {
            await Database.rows(sql`SELECT id FROM workspace WHERE id = ${workspace.id} FOR UPDATE`);
            order.push("second locked");
          });
        })(),
      ]);
    } finally {
      await observer.end();
    }
    expect(order).toEqual(["first locked", "first done", "second locked"]);
  });
});
