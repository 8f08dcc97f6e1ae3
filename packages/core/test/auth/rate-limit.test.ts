import { decide } from "@fluenzr/core/auth";
import { describe, expect, it } from "vitest";

const at = (windowStart: number, secondsIn: number) => ({ windowStart, nowMs: (windowStart + secondsIn) * 1000 });

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
    // 10 requests at the end of one window, then a burst right after the boundary.
    const justAfter = at(660, 1);
    expect(decide({ limit: 10, count: 1, prevCount: 10, ...justAfter }).allowed).toBe(false);
  });

  it("tells how long to wait: until enough of the previous window has slid out", () => {
    // 10 s in, prev 10, count 5 (refused): need 10 * (1 - t/60) + 6 <= 10 → t >= 36 s → wait 26 s.
    expect(decide({ limit: 10, count: 5, prevCount: 10, ...at(600, 10) }).retryAfter).toBe(26);
    // Current window alone is over the limit: wait into the next window.
    const over = decide({ limit: 10, count: 12, prevCount: 0, ...at(600, 50) });
    expect(over.allowed).toBe(false);
    expect(over.retryAfter).toBeGreaterThanOrEqual(10);
    expect(over.retryAfter).toBeLessThanOrEqual(70);
  });
});
