import type { AddressInfo } from "node:net";
import * as Database from "@fluenzr/core/database";
import { Identity } from "@fluenzr/core/email-account";
import { createApp } from "@fluenzr/functions/api/app";
import { type Bootstrapped, bootstrap } from "./bootstrap";
import { type LocalConfig, openLocalDatabase } from "./database";
import { type LocalEngine, startLocalEngine } from "./engine";
import { serveApp } from "./http";
import { simulate } from "./simulate";

export interface LocalSystem {
  url: string;
  /** The local SES: its page lists every email sent. */
  sesUrl: string;
  engine: LocalEngine;
  database: string;
  bootstrap: Bootstrapped;
  stop(): Promise<void>;
}

/**
 * The whole system in one process on embedded defaults: the same Hono app and domain code as
 * in Lambda, with local implementations of the ports.
 */
export async function startLocalSystem(config: LocalConfig): Promise<LocalSystem> {
  const database = await openLocalDatabase(config, { lock: true });
  try {
    await database.migrate();
    Database.install(database);
    Identity.install(Identity.alwaysVerified);
    const boot = await bootstrap(config);

    const app = createApp({ local: simulate });
    const server = serveApp({ fetch: app.fetch, port: config.port, hostname: "0.0.0.0" });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    const { port } = server.address() as AddressInfo;
    const engine = await startLocalEngine({
      sesPort: config.sesPort,
      publicUrl: `http://localhost:${port}`,
      tickIntervalMs: config.tickIntervalMs,
      sweepIntervalMs: config.sweepIntervalMs,
      unknownMarginMs: config.unknownMarginMs,
      dataDir: config.dataDir,
    }).catch(async (error) => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    });

    let stopped = false;
    return {
      url: `http://localhost:${port}`,
      sesUrl: engine.sesUrl,
      engine,
      database: database.description,
      bootstrap: boot,
      async stop() {
        if (stopped) return;
        stopped = true;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await engine.stop();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
