import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as Database from "@fluenzr/core/database";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import { createPgliteDatabase } from "@fluenzr/core/database/pglite";
import { Identity } from "@fluenzr/core/email-account";
import * as Scheduler from "@fluenzr/core/scheduler";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";

/**
 * Each test file gets its own database: on PostgreSQL (`DATABASE_URL`) a copy of a migrated
 * template database, otherwise an embedded PGlite loaded from a migrated snapshot. Tests never
 * share rows, so they need no cleanup and can assert on global state (ticks, sweeps).
 */
export const onServer = Boolean(process.env.DATABASE_URL);

/**
 * Databases of a run carry the pid of its main process (`fluenzr_run<pid>_...`), so runs side by
 * side on one server never touch each other's, and leftovers of dead runs can be recognized.
 */
export const DATABASE_PREFIX = "fluenzr_run";
export const templateDatabase = (runId: string) => `${DATABASE_PREFIX}${runId}_template`;

export function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export type TestDatabase = Database.DatabaseHandle & { url?: string };

export async function openTestDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  if (onServer) {
    const runId = inject("testRun");
    const name = `${DATABASE_PREFIX}${runId}_${process.env.VITEST_POOL_ID ?? "0"}_${randomBytes(5).toString("hex")}`;
    await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${templateDatabase(runId)}`));
    const url = databaseUrl(name);
    const handle = createPgDatabase(url, { max: options.max ?? 10 });
    return {
      ...handle,
      url,
      close: async () => {
        await handle.close();
        await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      },
    };
  }
  const snapshot = inject("pgliteSnapshot");
  return createPgliteDatabase({ loadDataDir: new Blob([await readFile(snapshot)]) });
}

/** Open this file's database before its tests and install it (and the local ports) as current. */
export function useTestDatabase(options: { max?: number } = {}): { handle: () => TestDatabase } {
  let handle: TestDatabase | undefined;
  beforeAll(async () => {
    handle = await openTestDatabase(options);
    Database.install(handle);
    Identity.install(Identity.alwaysVerified);
    Scheduler.install(new MemoryScheduler());
  }, 120_000);
  afterAll(async () => {
    await handle?.close();
  });
  return {
    handle: () => {
      if (!handle) throw new Error("test database not open yet");
      return handle;
    },
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteSnapshot: string;
    testRun: string;
  }
}
