/**
 * The statistics of an A/B test: a one-sided two-proportion z-test with a pooled proportion, the
 * leader against every other variant. The normal CDF is Φ(z) = (1 + erf(z/√2)) / 2 with erf from
 * Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, far below any confidence one asks for);
 * test/abtest/ztest.test.ts holds it to tabulated values.
 */

/** erf(x), Abramowitz & Stegun 7.1.26. */
export function erf(x: number): number {
  const sign = Math.sign(x);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-x * x));
}

/** The standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

export interface Arm {
  id: string;
  /** Emails sent. */
  n: number;
  /** Of them, opened (clicked, replied to): what the metric counts. */
  successes: number;
}

/**
 * z of "a's rate is above b's" (pooled standard error); 0 when it cannot be told (nothing sent,
 * or both at 0 % or both at 100 %).
 */
export function zScore(a: Arm, b: Arm): number {
  if (!a.n || !b.n) return 0;
  const pooled = (a.successes + b.successes) / (a.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  if (!se) return 0;
  return (a.successes / a.n - b.successes / b.n) / se;
}

export interface Verdict {
  winner: string;
  /** The smallest z of the winner against another variant, and its one-sided confidence Φ(z). */
  z: number;
  confidence: number;
}

/**
 * The variant that beats each other one with `confidence` (Φ(z) ≥ confidence for every
 * comparison), once every variant has at least `minSent` emails sent; undefined until then. The
 * leader is the highest rate (a tie for the lead decides nothing).
 */
export function decide(arms: readonly Arm[], options: { minSent: number; confidence: number }): Verdict | undefined {
  if (arms.length < 2 || arms.some((arm) => arm.n < options.minSent)) return undefined;
  const rate = (arm: Arm) => arm.successes / arm.n;
  const sorted = [...arms].sort((a, b) => rate(b) - rate(a));
  const [leader, second] = sorted as [Arm, Arm];
  if (rate(leader) === rate(second)) return undefined;
  const z = Math.min(...sorted.slice(1).map((other) => zScore(leader, other)));
  const confidence = normalCdf(z);
  return confidence >= options.confidence ? { winner: leader.id, z, confidence } : undefined;
}
