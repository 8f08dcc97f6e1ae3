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

  it("a context without one pays nothing: a transaction is BEGIN, its statements, COMMIT", async () => {
    const counter = roundTripCounter();
    await Database.transaction(() => Database.rows(sql`SELECT 1`));
    expect(counter.count()).toBe(onServer ? 3 : 0);
  });
});
