import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import type { DatabaseHandle, Db } from ".";
import { migrationsFolder } from "./driver";

export interface PgliteOptions {
  /** Persist in this folder (local mode); in memory when absent. */
  dataDir?: string;
  /** Start from a snapshot made with `dumpDataDir()` (tests start from a migrated one). */
  loadDataDir?: Blob;
}

/** Embedded PostgreSQL (WebAssembly), one connection: transactions run one after the other. */
export async function createPgliteDatabase(options: PgliteOptions = {}): Promise<DatabaseHandle & { client: PGlite }> {
  const client = new PGlite({ dataDir: options.dataDir, loadDataDir: options.loadDataDir });
  await client.waitReady;
  const db = drizzle({ client }) as unknown as Db;
  return {
    kind: "pglite",
    db,
    client,
    prepared: async (_name, text, params) => (await client.query(text, params)).rows as never,
    migrate: (folder = migrationsFolder()) => migrate(drizzle({ client }), { migrationsFolder: folder }),
    close: () => client.close(),
  };
}
