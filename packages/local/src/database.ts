import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { DatabaseHandle } from "@fluenzr/core/database";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import { createPgliteDatabase } from "@fluenzr/core/database/pglite";
import { marginFromEnv } from "@fluenzr/core/sending/evidence";
import { isAlive } from "@fluenzr/core/util";

/** Local configuration, from the environment, with embedded defaults. */
export interface LocalConfig {
  port: number;
  dataDir: string;
  databaseUrl?: string;
  bootstrapKey?: string;
  sesPort: number;
  tickIntervalMs: number;
  sweepIntervalMs: number;
  unknownMarginMs: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  return {
    port: Number(env.PORT ?? 3000),
    dataDir: resolve(env.DATA_DIR ?? ".data"),
    databaseUrl: env.DATABASE_URL || undefined,
    bootstrapKey: env.BOOTSTRAP_API_KEY || undefined,
    sesPort: Number(env.LOCAL_SES_PORT ?? 8005),
    tickIntervalMs: Number(env.LOCAL_TICK_SECONDS ?? 5) * 1000,
    sweepIntervalMs: Number(env.LOCAL_SWEEP_SECONDS ?? 60) * 1000,
    unknownMarginMs: marginFromEnv(env),
  };
}

const lockFile = (config: LocalConfig) => join(config.dataDir, "server.pid");

/** The pid of a running local server holding the embedded database, if any. */
export function runningServer(config: LocalConfig): number | undefined {
  if (!existsSync(lockFile(config))) return undefined;
  const pid = Number(readFileSync(lockFile(config), "utf8"));
  return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
}

/**
 * `DATABASE_URL` when set, else PGlite persisted in `DATA_DIR/pglite`. PGlite is single-process:
 * the server takes a lock, and scripts refuse to open the folder while it runs.
 */
export async function openLocalDatabase(
  config: LocalConfig,
  options: { lock?: boolean } = {},
): Promise<DatabaseHandle & { description: string }> {
  if (config.databaseUrl) {
    const handle = createPgDatabase(config.databaseUrl);
    const url = new URL(config.databaseUrl);
    return { ...handle, description: `PostgreSQL at ${url.host}${url.pathname}` };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const pid = runningServer(config);
  if (pid) {
    throw new Error(
      `The local server (pid ${pid}) has ${config.dataDir} open. Stop it first, or point both at a PostgreSQL server with DATABASE_URL.`,
    );
  }
  const dataDir = join(config.dataDir, "pglite");
  const handle = await createPgliteDatabase({ dataDir });
  if (options.lock) writeFileSync(lockFile(config), String(process.pid));
  return {
    ...handle,
    description: `embedded PostgreSQL (PGlite) in ${dataDir}`,
    close: async () => {
      await handle.close();
      if (options.lock) rmSync(lockFile(config), { force: true });
    },
  };
}
