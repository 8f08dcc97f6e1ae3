import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as Log from "@fluenzr/core/log";
import * as Queue from "@fluenzr/core/queue";
import { MemoryQueue } from "@fluenzr/core/queue/memory";
import * as Scheduler from "@fluenzr/core/scheduler";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import { startTicker } from "@fluenzr/core/scheduler/ticker";
import { Config, Mailer, Sender, sweep, tick } from "@fluenzr/core/sending";
import { sesMailer } from "@fluenzr/core/sending/ses-mailer";
import { withLocalEvents } from "./simulate";

export interface LocalEngineOptions {
  /** Port of the local SES (aws-ses-v2-local); 0 picks a free one. */
  sesPort: number;
  /** Public URL of the API (unsubscribe links). */
  publicUrl: string;
  /** How often the in-process scheduler ticks active campaigns. */
  tickIntervalMs: number;
  sweepIntervalMs: number;
}

export interface LocalEngine {
  sesUrl: string;
  queue: MemoryQueue;
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
  const ses = await startSes({ host: "127.0.0.1", port: options.sesPort });
  const sesUrl = `http://127.0.0.1:${(ses.address() as AddressInfo).port}`;

  Config.install({ publicUrl: options.publicUrl });
  Mailer.install(withLocalEvents(sesMailer({ endpoint: sesUrl })));
  const queue = new MemoryQueue({ visibilityTimeoutMs: 30_000 });
  Queue.install(queue);
  const scheduler = new MemoryScheduler();
  Scheduler.install(scheduler);

  queue.start(Sender.handleBatch, { intervalMs: 200, concurrency: 4 });
  const stopTicker = startTicker({ scheduler, tick, intervalMs: options.tickIntervalMs });
  const sweeper = setInterval(() => {
    sweep().catch((error) => Log.error("sweep failed", { error }));
  }, options.sweepIntervalMs);

  return {
    sesUrl,
    queue,
    scheduler,
    async stop() {
      clearInterval(sweeper);
      await stopTicker();
      await queue.stop();
      await new Promise<void>((resolve) => ses.close(() => resolve()));
    },
  };
}
