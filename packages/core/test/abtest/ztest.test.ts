import { ZTest } from "@fluenzr/core/abtest";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/** The A/B test's statistics: the normal CDF against tabulated values, the z-test against worked numbers. */

describe("normal CDF", () => {
  // Φ(z) from standard tables (8 digits).
  const TABLE: Array<[number, number]> = [
    [0, 0.5],
    [0.5, 0.69146246],
    [1, 0.84134475],
    [1.281551566, 0.9],
    [1.644853627, 0.95],
    [1.959963985, 0.975],
    [2.326347874, 0.99],
    [3, 0.9986501],
    [-1, 0.15865525],
    [-1.959963985, 0.025],
  ];
  it.each(TABLE)("Φ(%f) = %f within 2e-7", (z, p) => {
    expect(Math.abs(ZTest.normalCdf(z) - p)).toBeLessThan(2e-7);
  });

  it("is symmetric and increasing", () => {
    fc.assert(
      fc.property(fc.double({ min: -8, max: 8, noNaN: true }), fc.double({ min: 0.001, max: 2, noNaN: true }), (z, step) => {
        expect(ZTest.normalCdf(z) + ZTest.normalCdf(-z)).toBeCloseTo(1, 6);
        expect(ZTest.normalCdf(z + step)).toBeGreaterThanOrEqual(ZTest.normalCdf(z));
      }),
    );
  });
});

describe("two-proportion z-test", () => {
  it("matches a worked example: 6 % of 500 against 2 % of 500 is z ≈ 3.227", () => {
    // pooled 0.04, se = sqrt(0.04 × 0.96 × (2/500)) = 0.012394, z = 0.04 / 0.012394.
    expect(ZTest.zScore({ id: "b", n: 500, successes: 30 }, { id: "a", n: 500, successes: 10 })).toBeCloseTo(3.2275, 3);
  });

  it("decides nothing before every variant has its minimum sent", () => {
    const arms = [
      { id: "a", n: 99, successes: 0 },
      { id: "b", n: 5000, successes: 1000 },
    ];
    expect(ZTest.decide(arms, { minSent: 100, confidence: 0.95 })).toBeUndefined();
    expect(ZTest.decide([{ ...arms[0]!, n: 100 }, arms[1]!], { minSent: 100, confidence: 0.95 })).toMatchObject({ winner: "b" });
  });

  it("needs the leader to beat every other variant, not only the last", () => {
    const arms = [
      { id: "a", n: 1000, successes: 20 },
      { id: "b", n: 1000, successes: 60 },
      { id: "c", n: 1000, successes: 55 },
    ];
    expect(ZTest.decide(arms, { minSent: 100, confidence: 0.95 })).toBeUndefined();
    const clear = arms.map((arm) => (arm.id === "c" ? { ...arm, successes: 25 } : arm));
    const verdict = ZTest.decide(clear, { minSent: 100, confidence: 0.95 })!;
    expect(verdict.winner).toBe("b");
    // The weakest comparison (b against c) is the one reported.
    expect(verdict.z).toBeCloseTo(ZTest.zScore(clear[1]!, clear[2]!), 10);
  });

  it("follows the confidence asked: 2 % vs 6 % of 150 each is z ≈ 1.77, enough for 0.95, not for 0.99", () => {
    const arms = [
      { id: "a", n: 150, successes: 3 },
      { id: "b", n: 150, successes: 9 },
    ];
    expect(ZTest.decide(arms, { minSent: 100, confidence: 0.95 })).toMatchObject({ winner: "b" });
    expect(ZTest.decide(arms, { minSent: 100, confidence: 0.99 })).toBeUndefined();
  });

  it("decides nothing on a tie for the lead or when nothing happened", () => {
    const tie = [
      { id: "a", n: 1000, successes: 100 },
      { id: "b", n: 1000, successes: 100 },
      { id: "c", n: 1000, successes: 0 },
    ];
    expect(ZTest.decide(tie, { minSent: 100, confidence: 0.95 })).toBeUndefined();
    const none = [
      { id: "a", n: 1000, successes: 0 },
      { id: "b", n: 1000, successes: 0 },
    ];
    expect(ZTest.decide(none, { minSent: 100, confidence: 0.95 })).toBeUndefined();
  });

  it("a winner always has the highest rate and every comparison at the confidence", () => {
    const arm = (id: string) => fc.record({ id: fc.constant(id), n: fc.integer({ min: 1, max: 5000 }), successes: fc.nat() });
    fc.assert(
      fc.property(
        fc.tuple(arm("a"), arm("b"), arm("c")).map((arms) => arms.map((a) => ({ ...a, successes: a.successes % (a.n + 1) }))),
        fc.constantFrom(0.9, 0.95, 0.99),
        (arms, confidence) => {
          const verdict = ZTest.decide(arms, { minSent: 1, confidence });
          if (!verdict) return;
          const winner = arms.find((a) => a.id === verdict.winner)!;
          for (const other of arms) {
            if (other === winner) continue;
            expect(winner.successes / winner.n).toBeGreaterThan(other.successes / other.n);
            expect(ZTest.normalCdf(ZTest.zScore(winner, other))).toBeGreaterThanOrEqual(confidence);
          }
        },
      ),
    );
  });
});
