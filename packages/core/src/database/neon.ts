import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import { migrate } from "drizzle-orm/neon-serverless/migrator";
import type { DatabaseHandle, Db } from ".";
import { migrationsFolder } from "./migrations-folder";

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
  const db = drizzle({ client: pool }) as unknown as Db;
  return {
    kind: "neon",
    db,
    pool,
    prepared: async (name, text, params) => (await pool.query({ name, text, values: params })).rows,
    migrate: (folder = migrationsFolder()) => migrate(drizzle({ client: pool }), { migrationsFolder: folder }),
    close: () => pool.end(),
  };
}
