import * as Database from "@fluenzr/core/database";
import * as Log from "@fluenzr/core/log";
import { installDatabase } from "./setup/database";

/**
 * Invoked by the deploy (infra/database.ts, `aws.lambda.Invocation`): applies the migrations
 * copied next to the bundle (MIGRATIONS_DIR). A failure throws, which fails the deploy.
 */
export async function handler() {
  await installDatabase();
  const started = Date.now();
  await Database.current().migrate();
  Log.info("migrations applied", { ms: Date.now() - started });
  return { ok: true, ms: Date.now() - started };
}
