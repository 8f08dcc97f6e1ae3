import * as Stats from "@fluenzr/core/stats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

describe("rate", () => {
  it.each([
    // The seed's global example: over delivered (445), bounces over sent (450).
    [178, 445, 40.0],
    [45, 445, 10.1],
    [23, 445, 5.2],
    [5, 450, 1.1],
    [3, 445, 0.7],
    // The seed's per-email example: over the email's sent.
    [178, 500, 35.6],
    [45, 500, 9.0],
    [15, 500, 3.0],
    [98, 350, 28.0],
    [12, 350, 3.4],
    [8, 350, 2.3],
    // Halves round away from zero, exactly.
    [1, 16, 6.3],
    [1, 80, 1.3],
    [1, 2000, 0.1],
    [3, 16, 18.8],
    [1, 2001, 0],
    [1, 3, 33.3],
    [2, 3, 66.7],
    [7, 7, 100],
    [0, 10, 0],
    // Nothing to divide by.
    [0, 0, 0],
    [5, 0, 0],
  ])("%i / %i = %d %%", (count, denominator, expected) => {
    expect(Stats.rate(count, denominator)).toBe(expected);
  });

  it("is the exact percentage rounded to one decimal, half away from zero", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000_000 }), fc.integer({ min: 1, max: 50_000_000 }), (count, denominator) => {
        // Exact rational arithmetic: tenths of a percent = count × 1000 / denominator.
        const scaled = BigInt(count) * 1000n;
        const d = BigInt(denominator);
        const floor = scaled / d;
        const tenths = (scaled - floor * d) * 2n >= d ? floor + 1n : floor;
        expect(Stats.rate(count, denominator)).toBe(Number(tenths) / 10);
      }),
      { numRuns: 5000 },
    );
  });
});
