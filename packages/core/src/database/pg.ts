import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { DatabaseHandle } from ".";
import { poolHandle } from "./driver";

/** A PostgreSQL server through node-postgres: `DATABASE_URL` in local mode, tests, benches. */
export function createPgDatabase(url: string, options: { max?: number } = {}): DatabaseHandle & { pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  pool.on("error", () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  return poolHandle("pg", pool, drizzle, migrate);
}
