/**
 * How big the long suites run. CI (`CI=1`) and `npm run test:full` run everything at full scale;
 * the default `npm test`, the inner loop, runs property tests with fewer cases, the sending
 * simulation smaller, and leaves out the kill -9 crash test of the real server (46 s alone).
 * Nothing is dropped: CI runs all of it on both databases.
 */
export const FULL = Boolean(process.env.CI || process.env.TEST_FULL);

/** A property's number of runs: as written at full scale, a quarter (at least 5) in the inner loop. */
export const runs = (n: number): number => (FULL ? n : Math.max(5, Math.ceil(n / 4)));

/**
 * A floor on how often a property hit a case ("both sides were exercised"), written for the full
 * run count: scaled down with slack in the inner loop, where runs are a quarter and random.
 */
export const floor = (n: number): number => (FULL ? n : Math.floor(n / 8));
