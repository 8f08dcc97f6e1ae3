import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "infra/test/**/*.test.ts"],
    globalSetup: ["packages/testing/src/global-setup.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Property-based suites print their seed on failure; keep the output readable.
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
