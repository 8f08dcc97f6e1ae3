import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

/**
 * `npm test` is the inner loop (under 2 minutes on PGlite on a 2-core machine): test files share
 * worker processes (no module re-import per file: about 30 s of the run), one worker per core
 * (vitest's default leaves one core idle). CI and `npm run test:full` (`CI` / `TEST_FULL`) isolate
 * every file in its own process, so state one suite leaks into another cannot hide there; suites
 * give back what they install (see docs/decisions.md, "Tests").
 */
const FULL = Boolean(process.env.CI || process.env.TEST_FULL);

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "infra/test/**/*.test.ts"],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    pool: "forks",
    isolate: FULL,
    maxWorkers: availableParallelism(),
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
