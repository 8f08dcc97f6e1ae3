import * as Actor from "@fluenzr/core/actor";
import * as Database from "@fluenzr/core/database";
import { onServer, roundTripCounter, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * A context's opening statement (the API key's check on a write) runs before anything the
 * context sends: on the BEGIN of its first transaction, in the same round trip, or alone before a
 * statement sent outside a transaction. Refused, nothing after it runs.
 */

useTestDatabase();

function opening(refuse = false) {
  const seen: Array<Record<string, unknown>[]> = [];
  let alone = 0;
  const value: Database.Opening = {
    text: "SELECT 'opened' AS said",
    accept(rows) {
      seen.push(rows);
      if (refuse) throw new Error("refused");
    },
    async alone() {
      alone++;
      value.accept(await Database.rows<Record<string, unknown>>(sql.raw(value.text)));
    },
  };
  return { value, seen, alone: () => alone };
}

const table = async () => {
  await Database.rows(sql`CREATE TABLE IF NOT EXISTS opening_probe (n int)`);
  await Database.rows(sql`TRUNCATE opening_probe`);
};
const probes = async () => (await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM opening_probe`))[0]!.n;

describe("Database.withOpening", () => {
  it("rides on the first transaction's BEGIN: its rows once, no round trip of its own", async () => {
    await table();
    const o = opening();
    const counter = roundTripCounter();
    await Database.withOpening(o.value, async () => {
      await Database.transaction(() => Database.rows(sql`INSERT INTO opening_probe VALUES (1)`));
      await Database.transaction(() => Database.rows(sql`INSERT INTO opening_probe VALUES (2)`));
    });
    expect(o.seen).toEqual([[{ said: "opened" }]]);
    expect(o.alone()).toBe(0);
    // Server: BEGIN + opening, INSERT, COMMIT, then BEGIN, INSERT, COMMIT (PGlite counts none of them).
    expect(counter.count()).toBe(onServer ? 6 : 0);
    expect(await probes()).toBe(2);
  });

  it("runs alone before a statement sent outside a transaction, then not again", async () => {
    const o = opening();
    await Database.withOpening(o.value, async () => {
      await Database.rows(sql`SELECT 1`);
      await Database.transaction(() => Database.rows(sql`SELECT 2`));
    });
    expect([o.alone(), o.seen.length]).toEqual([1, 1]);
  });

  it("refused on BEGIN: the transaction rolls back and every later statement of the context is refused", async () => {
    await table();
    const o = opening(true);
    let later: unknown;
    await expect(
      Database.withOpening(o.value, async () => {
        try {
          await Database.transaction(() => Database.rows(sql`INSERT INTO opening_probe VALUES (1)`));
        } finally {
          later = await Database.rows(sql`INSERT INTO opening_probe VALUES (2)`).catch((error: Error) => error.message);
        }
      }),
    ).rejects.toThrow("refused");
    expect(later).toBe("refused");
    expect(await probes()).toBe(0);
  });

  /** An opening a `Database.write` can carry: `fail` makes the carrying statement fail. */
  function carried(options: { refuse?: boolean; fail?: boolean } = {}) {
    const o = opening(options.refuse);
    let carries = 0;
    o.value.carry = async (statement) => {
      carries++;
      if (options.fail) throw new Error("the statement failed");
      // As Auth.authenticateWrite does it, in one statement: here the opening's rows, then the write alone.
      const write = statement.query(sql`${"ws_probe"}`, (name) => sql`${statement.params[name]}`);
      return { opening: [{ said: "opened" }], rows: await Database.rows<Record<string, unknown>>(write) };
    };
    return { ...o, carries: () => carries };
  }
  const insert = (n: number): Database.Scoped<number[]> => ({
    name: "opening_probe_insert",
    query: (workspace, param) => sql`INSERT INTO opening_probe SELECT ${param("n")}::int WHERE ${workspace}::text IS NOT NULL RETURNING n`,
    params: { n },
    decode: (rows) => rows.map((row) => row.n as number),
  });

  it("carried by a write sent outside a transaction (Database.write): the write's rows, the opening's once", async () => {
    await table();
    const o = carried();
    const written = await Database.withOpening(o.value, async () => {
      const first = await Database.write(insert(1));
      // Later statements neither carry it nor wait for it to run alone.
      const second = await Actor.asWorkspace("ws_probe", () => Database.write(insert(2)));
      await Database.transaction(() => Database.rows(sql`SELECT 1`));
      return [first, second];
    });
    expect(written).toEqual([[1], [2]]);
    expect([o.carries(), o.alone(), o.seen]).toEqual([1, 0, [[{ said: "opened" }]]]);
  });

  it("a write inside a transaction does not carry it: the BEGIN does", async () => {
    const o = carried();
    await Database.withOpening(o.value, () => Database.transaction(() => Actor.asWorkspace("ws_probe", () => Database.write(insert(1)))));
    expect([o.carries(), o.alone(), o.seen.length]).toEqual([0, 0, 1]);
  });

  it("refused by the write that carried it: its refusal, and every later statement of the context is refused", async () => {
    await table();
    const o = carried({ refuse: true });
    let later: unknown;
    await expect(
      Database.withOpening(o.value, async () => {
        try {
          await Database.write(insert(1));
        } finally {
          later = await Database.rows(sql`SELECT 1`).catch((error: Error) => error.message);
        }
      }),
    ).rejects.toThrow("refused");
    expect(later).toBe("refused");
  });

  it("the write that carried it failed: it runs alone, and its refusal comes before the write's failure", async () => {
    for (const refuse of [true, false]) {
      const o = carried({ refuse, fail: true });
      await expect(Database.withOpening(o.value, () => Database.write(insert(1)))).rejects.toThrow(
        refuse ? "refused" : "the statement failed",
      );
      expect([o.carries(), o.alone()]).toEqual([1, 1]);
    }
  });

  it("a context without one pays nothing: a transaction is BEGIN, its statements, COMMIT", async () => {
    const counter = roundTripCounter();
    await Database.transaction(() => Database.rows(sql`SELECT 1`));
    expect(counter.count()).toBe(onServer ? 3 : 0);
  });
});
