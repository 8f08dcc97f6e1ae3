import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DatabaseHandle, Db, DriverKind } from ".";
import { type Batched, executeText, PreparedOnConnections, prepareText } from "./batch";

/**
 * Where the drizzle-kit migrations are: `MIGRATIONS_DIR` when set (the migration Lambda copies
 * the folder next to its bundle), else packages/core/migrations beside this source file.
 */
export function migrationsFolder(): string {
  if (process.env.MIGRATIONS_DIR) return process.env.MIGRATIONS_DIR;
  const fromSource = fileURLToPath(new URL("../../migrations", import.meta.url));
  if (existsSync(fromSource)) return fromSource;
  return fileURLToPath(new URL("./migrations", import.meta.url));
}

interface PoolClient {
  query(text: string): Promise<{ rows: any[] } | Array<{ rows: any[] }>>;
  release(destroy?: boolean | Error): void;
  processID?: number | null;
}

interface Pool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: any[] }>;
  connect(): Promise<PoolClient>;
  end(): Promise<void>;
  on(event: "connect", listener: (client: { query: (...args: any[]) => unknown }) => void): unknown;
}

/**
 * The handle over a node-postgres-shaped pool (node-postgres's own, or Neon's WebSocket Pool),
 * with its drizzle adapter and migrator: the calls are the same on either.
 */
export function poolHandle<P extends Pool>(
  kind: DriverKind,
  pool: P,
  drizzle: (config: { client: P }) => unknown,
  migrate: (db: any, config: { migrationsFolder: string }) => Promise<void>,
): DatabaseHandle & { pool: P } {
  // Every statement a client sends is a round trip to the server (BEGIN and COMMIT included).
  let roundTrips = 0;
  const preparedOn = new PreparedOnConnections();
  pool.on("connect", (client) => {
    const query = client.query;
    client.query = function (this: unknown, ...args: any[]) {
      roundTrips++;
      return query.apply(this, args);
    };
  });
  return {
    kind,
    roundTrips: () => roundTrips,
    db: drizzle({ client: pool }) as Db,
    pool,
    prepared: async (name, text, params) => (await pool.query({ name, text, values: params })).rows,
    batch: (statements) => batchOnPool(pool, preparedOn, statements),
    migrate: (folder = migrationsFolder()) => migrate(drizzle({ client: pool }), { migrationsFolder: folder }),
    close: () => pool.end(),
  };
}

/**
 * A batch on one pooled connection: what it has not prepared yet is prepared first (once per
 * connection), then the whole batch goes as one query. A connection that turns out not to hold a
 * statement (a retried first statement moved the batch to a fresh connection: SQLSTATE 26000, and
 * nothing ran) is forgotten and the batch prepared and sent again, once. A connection whose batch
 * failed otherwise is discarded (it may be the connection that failed).
 */
async function batchOnPool<T>(pool: Pool, preparedOn: PreparedOnConnections, statements: readonly Batched[]): Promise<T[][]> {
  const text = executeText(statements);
  const client = await pool.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const statement of preparedOn.missing(client.processID, statements)) {
          await client.query(prepareText(statement));
          // Read after the statement: a retried first statement may have moved to another connection.
          preparedOn.prepared(client.processID, statement.name);
        }
        const result = await client.query(text);
        client.release();
        return (Array.isArray(result) ? result : [result]).map((r) => r.rows as T[]);
      } catch (error) {
        preparedOn.forget(client.processID);
        if (attempt > 1 || (error as { code?: unknown }).code !== "26000") throw error;
      }
    }
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
}
