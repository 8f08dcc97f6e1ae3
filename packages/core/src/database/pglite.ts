import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import type { DatabaseHandle, Db } from ".";
import { executeText, prepareText } from "./batch";
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
  // In process, but counted as the servers' are: each statement (BEGIN and COMMIT included).
  let roundTrips = 0;
  for (const method of ["query", "exec"] as const) {
    const original = client[method].bind(client) as (...args: any[]) => any;
    (client as any)[method] = (...args: any[]) => {
      roundTrips++;
      return original(...args);
    };
  }
  const db = drizzle({ client }) as unknown as Db;
  // One connection: what it has prepared for batches (database/batch.ts), or is preparing (two
  // batches at once must not both PREPARE the same statement).
  const prepared = new Map<string, Promise<unknown>>();
  return {
    kind: "pglite",
    db,
    roundTrips: () => roundTrips,
    client,
    prepared: async (_name, text, params) => (await client.query(text, params)).rows as never,
    batch: async (statements) => {
      const text = executeText(statements);
      for (const statement of statements) {
        let done = prepared.get(statement.name);
        if (!done) {
          done = client.exec(prepareText(statement));
          prepared.set(statement.name, done);
          done.catch(() => prepared.delete(statement.name));
        }
        await done;
      }
      return (await client.exec(text)).map((r) => r.rows as never);
    },
    migrate: (folder = migrationsFolder()) => migrate(drizzle({ client }), { migrationsFolder: folder }),
    close: () => client.close(),
  };
}
