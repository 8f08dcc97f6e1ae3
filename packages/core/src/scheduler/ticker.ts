import * as Log from "../log";
import { isOpen } from "../schedule";
import type { MemoryScheduler } from "./memory";

/**
 * What EventBridge Scheduler does, in one process: tick every enabled campaign schedule whose
 * window is open now. Locally it runs every few seconds so a started campaign sends at once.
 */
export function dueSchedules(scheduler: MemoryScheduler, now: Date): string[] {
  return (
    scheduler
      .enabled()
      // A campaign in `contact` timezone mode ticks every minute (its contacts' windows are their own).
      .filter((s) => s.window.timezoneMode === "contact" || isOpen(now, s.window))
      .map((s) => s.campaignId)
  );
}

export function startTicker(options: {
  scheduler: MemoryScheduler;
  tick: (campaignId: string) => Promise<unknown>;
  intervalMs: number;
  now?: () => Date;
}): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const round = async () => {
    for (const id of dueSchedules(options.scheduler, options.now?.() ?? new Date())) {
      try {
        await options.tick(id);
      } catch (error) {
        Log.error("tick failed", { campaignId: id, error });
      }
    }
  };
  // A round at once, then one per interval: after a restart, sending resumes at the first tick.
  running = running.then(round);
  const timer = setInterval(() => {
    if (!stopped) running = running.then(round);
  }, options.intervalMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
