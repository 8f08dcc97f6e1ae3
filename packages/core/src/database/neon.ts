import { neonConfig, Pool, type PoolClient } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import type { DatabaseHandle } from ".";
import { poolHandle } from "./driver";

export interface NeonOptions {
  max?: number;
  /** Local testing: route the WebSocket through a plain ws-to-TCP proxy at this host:port. */
  wsProxy?: string;
  /** Node < 22 has no global WebSocket: pass the `ws` package's constructor. */
  webSocketConstructor?: unknown;
}

/** Neon through its serverless driver (WebSocket Pool): supports interactive transactions. */
export function createNeonDatabase(url: string, options: NeonOptions = {}): DatabaseHandle & { pool: Pool } {
  if (options.webSocketConstructor) neonConfig.webSocketConstructor = options.webSocketConstructor as never;
  if (options.wsProxy) {
    const proxy = options.wsProxy;
    neonConfig.wsProxy = (host, port) => `${proxy}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  const pool = new Pool({ connectionString: url, max: options.max ?? 10 });
  pool.on("error", () => {
    // A dropped idle connection is replaced on next use.
  });
  retryDeadConnections(pool);
  return poolHandle("neon", pool, drizzle, migrate);
}

/**
 * Errors that say the connection, not the statement, failed: the socket or WebSocket closed,
 * the server ended the session (Neon suspending an idle compute: 57P01), SQLSTATE class 08.
 */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : "";
  if (/^08/.test(code) || ["57P01", "57P02", "57P03", "ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT"].includes(code)) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /connection terminated|terminating connection|not queryable|connection error|socket hang up|websocket.*clos|closed the connection/i.test(
    message,
  );
}

/**
 * Lambda freezes an execution environment between invocations with its pool's connections
 * open; Neon suspends an idle compute (and closes them) meanwhile. The first statement after
 * the thaw is then written into a dead WebSocket and fails with a connection error. Retried
 * on another connection (each dead idle one discarded as it fails, at most the pool's size + 1
 * attempts), only when nothing can have run twice:
 * - acquiring a connection failed (nothing was sent);
 * - a statement failed on a pooled connection that had been idle (released before): the server
 *   had closed it, so the statement never reached it;
 * - the first statement of a transaction (BEGIN) failed: it changes nothing.
 * A statement that fails on a connection made for it, or inside a transaction after BEGIN, is
 * not retried (it may have run).
 */
export function retryDeadConnections(pool: Pool): void {
  const originalConnect = pool.connect.bind(pool) as (callback?: unknown) => unknown;
  const connect = () => originalConnect() as Promise<PoolClient>;
  const released = new WeakSet<PoolClient>();
  pool.on("release", (_error: unknown, client: PoolClient) => released.add(client));
  // A connection that dies while checked out also emits `error` on its client (the statement
  // gets the error too): without a listener that would be an uncaught exception, ending the
  // Lambda process.
  pool.on("connect", (client: PoolClient) => client.on("error", () => {}));

  const acquire = async (): Promise<PoolClient> => {
    try {
      return await connect();
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      return connect();
    }
  };

  // Every idle connection is dead after a suspend: each is discarded as it fails, then a new one.
  const attempts = (pool.options.max ?? 10) + 1;

  const query = async (args: unknown[]) => {
    for (let attempt = 1; ; attempt++) {
      const client = await acquire();
      const reused = released.has(client);
      try {
        const result = await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
        client.release();
        return result;
      } catch (error) {
        const dead = isConnectionError(error);
        client.release(dead ? (error as Error) : undefined);
        if (!dead || !reused || attempt >= attempts) throw error;
      }
    }
  };

  const original = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) =>
    typeof args[args.length - 1] === "function" ? original(...args) : query(args);

  (pool as { connect: unknown }).connect = (callback?: unknown) => {
    if (typeof callback === "function") return originalConnect(callback);
    return acquire().then((client) => firstStatementRetried(client, acquire, attempts));
  };
}

/** A pooled client whose first statement (a transaction's BEGIN) is retried once on a fresh connection. */
function firstStatementRetried(first: PoolClient, acquire: () => Promise<PoolClient>, attempts: number): PoolClient {
  let current = first;
  let started = false;
  return new Proxy(first, {
    get(_, prop) {
      if (prop === "query") {
        return async (...args: unknown[]) => {
          const run = () => (current.query as (...a: unknown[]) => Promise<unknown>)(...args);
          if (started) return run();
          started = true;
          for (let attempt = 1; ; attempt++) {
            try {
              return await run();
            } catch (error) {
              if (!isConnectionError(error) || attempt >= attempts) throw error;
              current.release(error as Error);
              current = await acquire();
            }
          }
        };
      }
      if (prop === "release") return (error?: Error | boolean) => current.release(error);
      const value = (current as unknown as Record<string | symbol, unknown>)[prop];
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
}
