import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import * as Log from "@fluenzr/core/log";
import * as Queue from "@fluenzr/core/queue";
import { MemoryQueue } from "@fluenzr/core/queue/memory";
import * as Scheduler from "@fluenzr/core/scheduler";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import { startTicker } from "@fluenzr/core/scheduler/ticker";
import { Config, Mailer, SendBatch, SesAccount, sweep, tick } from "@fluenzr/core/sending";
import { sesAccountReader, sesMailer } from "@fluenzr/core/sending/ses-mailer";
import { Address, Deliverer, DeliveryQueue } from "@fluenzr/core/webhook";
import { memoryDeliveryQueue } from "@fluenzr/core/webhook/memory";
import { enforceLocalSesAccount } from "./ses-account";
import { persistStore, type SesStore, startPump } from "./ses-store";

export interface LocalEngineOptions {
  /** Port of the local SES (aws-ses-v2-local); 0 picks a free one. */
  sesPort: number;
  /** Public URL of the API (unsubscribe links). */
  publicUrl: string;
  /** How often the in-process scheduler ticks active campaigns. */
  tickIntervalMs: number;
  sweepIntervalMs: number;
  /** The safety margin before evidence settles an email of unknown fate (`UNKNOWN_SEND_MARGIN_SECONDS`). */
  unknownMarginMs?: number;
  /** Where the local SES journals what it accepted; without it, its store lives in memory only. */
  dataDir?: string;
}

export interface LocalEngine {
  sesUrl: string;
  queue: MemoryQueue;
  /** Outbound webhook deliveries, on a queue of their own. */
  webhookQueue: MemoryQueue;
  scheduler: MemoryScheduler;
  stop(): Promise<void>;
}

/**
 * The sending engine in the local process: the real tick, sender and sweeper, an in-process
 * scheduler and queue, and the real SES v2 client talking to aws-ses-v2-local (its page lists
 * every email sent).
 */
export async function startLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const sesLocalModule = (await import("aws-ses-v2-local")) as unknown as { default: unknown };
  const startSes = ((sesLocalModule.default as { default?: unknown }).default ?? sesLocalModule.default) as (options: {
    host: string;
    port: number;
  }) => Promise<Server>;
  // The same module instance the server saves to (CommonJS, one cache).
  const { getStoreReadonly } = (await import("aws-ses-v2-local/dist/store.js")) as unknown as { getStoreReadonly(): SesStore };
  const store = getStoreReadonly();
  if (options.dataDir) {
    const { loaded } = persistStore(store, join(options.dataDir, "ses-store.jsonl"));
    if (loaded) Log.info("local SES store loaded", { emails: loaded });
  }
  const ses = await startSes({ host: "127.0.0.1", port: options.sesPort });
  // GetAccount answers, and sends are refused while the local account is paused (ses-account.ts).
  enforceLocalSesAccount(ses);
  const sesUrl = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;

  Config.install({ publicUrl: options.publicUrl });
  Mailer.install(sesMailer({ endpoint: sesUrl }));
  SesAccount.install(sesAccountReader({ endpoint: sesUrl }));
  const pump = startPump(store, {
    cursorFile: options.dataDir ? join(options.dataDir, "ses-store.cursor") : undefined,
    intervalMs: 300,
  });
  const queue = new MemoryQueue({ visibilityTimeoutMs: 30_000 });
  Queue.install(queue);
  const scheduler = new MemoryScheduler();
  Scheduler.install(scheduler);
  // Outbound webhooks: their own queue and deliverer; local endpoints (http://127.0.0.1, localhost) allowed.
  const webhookQueue = new MemoryQueue({ visibilityTimeoutMs: 120_000 });
  DeliveryQueue.install(memoryDeliveryQueue(webhookQueue));
  Address.install("local");

  // Recover from whatever stopped the last run before anything is claimed: this process is the
  // only sender of its database, so every claim is a dead one; schedules (in memory) come back.
  // What SES accepted before the last stop is settled first, then the rest is judged.
  await pump.drain();
  const unknownMarginMs = options.unknownMarginMs;
  await sweep({ claimTimeoutMs: 0, unknownMarginMs }).catch((error) => Log.error("start-up sweep failed", { error }));
  // This process is the only deliverer: whatever is pending was left by the last stop.
  await Deliverer.sweep({ freshMs: 0 }).catch((error) => Log.error("start-up webhook sweep failed", { error }));
  queue.start(SendBatch.handle, { intervalMs: 200, concurrency: 4 });
  // Batches of 50: one statement leases them, one records them (the endpoint's cap still applies).
  webhookQueue.start(Deliverer.handle, { intervalMs: 200, concurrency: 4, batchSize: 50 });
  const stopTicker = startTicker({ scheduler, tick, intervalMs: options.tickIntervalMs });
  const sweeper = setInterval(() => {
    sweep({ unknownMarginMs }).catch((error) => Log.error("sweep failed", { error }));
    Deliverer.sweep().catch((error) => Log.error("webhook sweep failed", { error }));
  }, options.sweepIntervalMs);

  return {
    sesUrl,
    queue,
    webhookQueue,
    scheduler,
    async stop() {
      clearInterval(sweeper);
      await stopTicker();
      await queue.stop();
      await webhookQueue.stop();
      DeliveryQueue.install(undefined);
      SesAccount.install(undefined);
      await pump.stop();
      await new Promise<void>((resolve) => ses.close(() => resolve()));
    },
  };
}
