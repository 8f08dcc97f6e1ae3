import { ADMITTED, counts, decide } from "@fluenzr/core/auth";
import * as Database from "@fluenzr/core/database";
import { prng, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * A write that carries its API key (Auth.authenticateWrite) is gated in SQL by `ADMITTED`, and
 * answered by `counts` and `decide` in JS: the two must take the same decision for every state of
 * a key's window, ties included (an estimate exactly at the limit, weights no float holds exactly).
 */

useTestDatabase();

interface State {
  rate_limit: number;
  window_start: number;
  window_seq: number;
  prev_window_seq: number;
  n: number;
  now_ms: number;
}

/** Seeded states over every branch of `counts`, at every kind of point in the minute. */
function states(): State[] {
  const random = prng(16);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const out: State[] = [];
  for (let i = 0; i < 4000; i++) {
    const win = 60 * (28_888_000 + Math.floor(random() * 1000));
    // Whole, halves, thirds, a random fraction; the minute's two ends.
    const elapsed = pick([0, 15, 20, 30, 40, 45, 59.999, 60 * random(), 10 + 1 / 3, 0.001]);
    const now_ms = (win + elapsed) * 1000 + pick([0, 0, 0.5, 0.123, random()]);
    const rate_limit = 1 + Math.floor(random() * 10);
    const prev = Math.floor(random() * 14);
    const count = 1 + Math.floor(random() * 12);
    const seq = 1000 + Math.floor(random() * 100);
    const kind = pick(["current", "current", "adjacent", "older", "backwards"] as const);
    if (kind === "current")
      out.push({ rate_limit, window_start: win, window_seq: seq, prev_window_seq: seq - prev, n: seq + count - 1, now_ms });
    else if (kind === "adjacent")
      out.push({ rate_limit, window_start: win - 60, window_seq: seq, prev_window_seq: seq - 3, n: seq + prev, now_ms });
    else if (kind === "older")
      out.push({ rate_limit, window_start: win - 120, window_seq: seq, prev_window_seq: seq - 3, n: seq + prev, now_ms });
    else out.push({ rate_limit, window_start: win, window_seq: seq, prev_window_seq: seq - 3, n: seq - 1 - prev, now_ms });
  }
  return out;
}

function inJs(s: State) {
  const window = Math.floor(s.now_ms / 1000 / 60) * 60;
  const counted = counts({ windowStart: s.window_start, windowSeq: s.window_seq, prevWindowSeq: s.prev_window_seq }, s.n, window);
  return decide({ limit: s.rate_limit, count: counted.count, prevCount: counted.prevCount, windowStart: window, nowMs: s.now_ms }).allowed;
}

/** Is the estimate exactly at the limit (as `decide` works it out)? */
function tie(s: State) {
  const window = Math.floor(s.now_ms / 1000 / 60) * 60;
  const counted = counts({ windowStart: s.window_start, windowSeq: s.window_seq, prevWindowSeq: s.prev_window_seq }, s.n, window);
  const elapsed = Math.min(Math.max(s.now_ms / 1000 - window, 0), 60);
  return counted.prevCount * (1 - elapsed / 60) + counted.count === s.rate_limit;
}

describe("the rate limit's decision in SQL (ADMITTED) is decide's", () => {
  it("over 4,000 seeded states of a key's window, ties included", async () => {
    const all = states();
    const column = (key: keyof State, type: string) => sql`${`{${all.map((s) => String(s[key])).join(",")}}`}::${sql.raw(type)}[]`;
    const rows = await Database.rows<{ allowed: boolean }>(sql`
      SELECT ${sql.raw(ADMITTED)} AS allowed
      FROM (SELECT *, floor(now_ms / 1000 / 60) * 60 AS win
            FROM unnest(${column("rate_limit", "int")}, ${column("window_start", "bigint")}, ${column("window_seq", "bigint")},
                        ${column("prev_window_seq", "bigint")}, ${column("n", "bigint")}, ${column("now_ms", "float8")}) WITH ORDINALITY
                 AS a(rate_limit, window_start, window_seq, prev_window_seq, n, now_ms, ord)) b
      ORDER BY ord`);
    const differ = all.filter((s, i) => rows[i]!.allowed !== inJs(s));
    expect(differ).toEqual([]);
    // Both answers are exercised, and estimates exactly at the limit among them.
    const allowed = all.filter(inJs).length;
    expect(allowed).toBeGreaterThan(400);
    expect(all.length - allowed).toBeGreaterThan(400);
    expect(all.filter(tie).length).toBeGreaterThan(50);
  });
});
