import { counts, decide } from "@fluenzr/core/auth";
import { describe, expect, it } from "vitest";

const at = (windowStart: number, secondsIn: number) => ({ windowStart, nowMs: (windowStart + secondsIn) * 1000 });

describe("window counts from the key's counter", () => {
  it("counts requests of the current window as counter differences", () => {
    const row = { windowStart: 600, windowSeq: 101, prevWindowSeq: 71 };
    expect(counts(row, 101, 600)).toEqual({ count: 1, prevCount: 30 });
    expect(counts(row, 110, 600)).toEqual({ count: 10, prevCount: 30 });
  });

  it("rolls into the next window, carrying the previous window's count", () => {
    const row = { windowStart: 600, windowSeq: 101, prevWindowSeq: 71 };
    // 19 requests happened in window 600 (101..119); this one (120) opens window 660.
    expect(counts(row, 120, 660)).toEqual({ count: 1, prevCount: 19, roll: { windowStart: 660, windowSeq: 120, prevWindowSeq: 101 } });
  });

  it("forgets windows older than the previous one", () => {
    const row = { windowStart: 600, windowSeq: 101, prevWindowSeq: 71 };
    expect(counts(row, 500, 780)).toEqual({ count: 1, prevCount: 0, roll: { windowStart: 780, windowSeq: 500, prevWindowSeq: 500 } });
  });

  it("survives a counter that went backwards (restored database) by starting over", () => {
    const row = { windowStart: 600, windowSeq: 101, prevWindowSeq: 71 };
    expect(counts(row, 5, 600)).toEqual({ count: 1, prevCount: 0, roll: { windowStart: 600, windowSeq: 5, prevWindowSeq: 5 } });
  });
});

describe("sliding-window rate limit", () => {
  it("allows up to the limit within a window and reports what remains", () => {
    expect(decide({ limit: 10, count: 1, prevCount: 0, ...at(600, 5) })).toEqual({ allowed: true, limit: 10, remaining: 9, reset: 660 });
    expect(decide({ limit: 10, count: 10, prevCount: 0, ...at(600, 5) })).toMatchObject({ allowed: true, remaining: 0 });
    expect(decide({ limit: 10, count: 11, prevCount: 0, ...at(600, 5) })).toMatchObject({ allowed: false, remaining: 0 });
  });

  it("weighs the previous window by how much of it still overlaps the last minute", () => {
    // 15 s into the window: 75% of the previous window's 8 requests still count (6) + 4 = 10.
    expect(decide({ limit: 10, count: 4, prevCount: 8, ...at(600, 15) })).toMatchObject({ allowed: true, remaining: 0 });
    expect(decide({ limit: 10, count: 5, prevCount: 8, ...at(600, 15) })).toMatchObject({ allowed: false });
    // 45 s in: only 25% (2) still counts.
    expect(decide({ limit: 10, count: 8, prevCount: 8, ...at(600, 45) })).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("never lets a burst at a window boundary double the limit, as a fixed window would", () => {
    expect(decide({ limit: 10, count: 1, prevCount: 10, ...at(660, 1) }).allowed).toBe(false);
  });

  it("tells how long to wait: until enough of the previous window has slid out", () => {
    // 10 s in, prev 10, count 5 (refused): need 10 * (1 - t/60) + 6 <= 10 → t >= 36 s → wait 26 s.
    expect(decide({ limit: 10, count: 5, prevCount: 10, ...at(600, 10) }).retryAfter).toBe(26);
    const over = decide({ limit: 10, count: 12, prevCount: 0, ...at(600, 50) });
    expect(over.allowed).toBe(false);
    expect(over.retryAfter).toBeGreaterThanOrEqual(10);
    expect(over.retryAfter).toBeLessThanOrEqual(70);
  });
});
