import * as Database from "@fluenzr/core/database";
import { useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * `Database.batch`: named statements in one round trip and one transaction, on whichever driver
 * the suite runs (PGlite, or node-postgres with DATABASE_URL; Neon's Pool in neon.test.ts).
 */

useTestDatabase();

const echo = (value: unknown, type = "text"): Database.Batched => ({
  name: `batch_echo_${type}`,
  text: `SELECT $1::${type} AS value`,
  params: [value],
});
const insert = (v: string): Database.Batched => ({
  name: "batch_probe_insert",
  text: "INSERT INTO batch_probe (v) VALUES ($1) RETURNING v",
  params: [v],
});

beforeAll(async () => {
  await Database.rows(sql`CREATE TABLE batch_probe (v text PRIMARY KEY)`);
});

describe("Database.batch", () => {
  it("answers each statement's rows, in order, in one round trip once prepared", async () => {
    const batch = [echo("a"), echo(2, "int"), echo(new Date("2026-03-02T09:00:00.123Z"), "timestamptz"), echo(null), echo(true, "bool")];
    // Prepared on the pool's connections first (each connection prepares once).
    for (let i = 0; i < 12; i++) await Promise.all([Database.batch(batch), Database.batch(batch)]);
    const before = Database.roundTrips();
    const rows = await Database.batch<{ value: unknown }>(batch);
    expect(Database.roundTrips() - before).toBe(1);
    expect(rows.map((r) => r[0]!.value)).toEqual(["a", 2, new Date("2026-03-02T09:00:00.123Z"), null, true]);
  });

  it("carries hostile strings as data", async () => {
    const hostile = [
      "it's",
      "back\\slash",
      "\\'; DROP TABLE batch_probe; --",
      "E'\\x41'",
      "$1 $$ $tag$",
      "🙂 naïve 日本",
      "line\nbreak\ttab",
      "''",
    ];
    const rows = await Database.batch<{ value: string }>(hostile.map((h) => echo(h)));
    expect(rows.map((r) => r[0]!.value)).toEqual(hostile);
    expect(await Database.rows(sql`SELECT count(*)::int AS n FROM batch_probe`)).toEqual([{ n: 0 }]);
  });

  it("is all or none: a failing statement undoes the ones before it", async () => {
    await expect(Database.batch([insert("x"), insert("y"), insert("x")])).rejects.toThrow(/duplicate key|unique/);
    expect(await Database.rows(sql`SELECT v FROM batch_probe`)).toEqual([]);
    expect((await Database.batch<{ v: string }>([insert("x"), insert("y")])).map((r) => r[0]!.v)).toEqual(["x", "y"]);
    await Database.rows(sql`DELETE FROM batch_probe`);
  });

  it("refuses a value no literal can hold before sending anything", async () => {
    const before = Database.roundTrips();
    await expect(Database.batch([echo("ok"), echo("nul\u0000byte")])).rejects.toBeInstanceOf(Database.UnbatchableValue);
    await expect(Database.batch([echo(Number.NaN, "int")])).rejects.toBeInstanceOf(Database.UnbatchableValue);
    await expect(Database.batch([echo({ a: 1 }, "jsonb")])).rejects.toBeInstanceOf(Database.UnbatchableValue);
    expect(Database.roundTrips()).toBe(before);
  });

  it("cannot join a transaction", async () => {
    await expect(Database.transaction(() => Database.batch([echo("a")]))).rejects.toThrow(/cannot join a transaction/);
  });
});

describe("literal", () => {
  it("quotes strings, doubles quotes, writes backslashes in E strings", () => {
    expect(Database.literal("it's")).toBe("'it''s'");
    expect(Database.literal("a\\b'")).toBe("E'a\\\\b'''");
    expect(Database.literal(-1.5)).toBe("-1.5");
    expect(Database.literal(null)).toBe("NULL");
    expect(Database.literal(undefined)).toBe("NULL");
    expect(Database.literal(false)).toBe("false");
    expect(Database.literal(new Date(0))).toBe("'1970-01-01T00:00:00.000Z'");
    expect(() => Database.literal(new Date(Number.NaN))).toThrow(Database.UnbatchableValue);
    expect(() => Database.literal(Number.POSITIVE_INFINITY)).toThrow(Database.UnbatchableValue);
  });
});
