import { expect, test } from "vitest";

/**
 * The deploy invokes the migration function synchronously (`aws.lambda.Invocation`, checked by
 * the `migrations` wiring check); the invocation fails the deploy when the function reports an
 * error. So the handler must throw, not answer, when migrating fails: here against a database
 * that cannot be reached, with its link supplied the way SST supplies links (`SST_RESOURCE_*`).
 */
test("a migration that fails makes the migration function fail", async () => {
  process.env.SST_RESOURCE_App = JSON.stringify({ name: "fluenzr", stage: "test" });
  process.env.SST_RESOURCE_DatabaseUrl = JSON.stringify({ type: "sst.sst.Secret", value: "postgresql://user:pass@127.0.0.1:9/db" });
  const { handler } = await import("../../packages/functions/src/migrate");
  const error = await handler().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(Error);
  // It failed migrating, not reading its configuration.
  expect(error?.message).not.toMatch(/not linked|SST links/);
}, 20_000);
