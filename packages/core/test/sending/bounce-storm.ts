import { applySesEvent, Guard } from "@fluenzr/core/tracking";
import * as Records from "@fluenzr/local/records";
import type { TestEngine } from "@fluenzr/testing";
import { expect } from "vitest";

export interface BounceStorm {
  /** Bounces reported when `paused()` first said so (undefined: no pause within the minutes). */
  pausedAt?: number;
  /** Bounces reported when the oracle's window first crossed the limit. */
  expectedAt?: number;
  /** How many of the mailer's emails SES has reported on (the next ones may still bounce). */
  reported: number;
}

/**
 * A bounce storm, driven minute by minute: SES reports last minute's bounces (every email to a
 * contact of `bad`, a minute after it went out), then the next minute's emails go out. The
 * oracle, computed here from what the mailer sent: after each bounce, `paused()` is true exactly
 * when the guard's window (the last `Guard.WINDOW` emails sent, at least `Guard.MIN_SENT`) is
 * past `limit` percent bounced. Stops at the pause, or after `minutes`.
 */
export async function bounceStorm(
  engine: TestEngine,
  bad: ReadonlySet<string>,
  paused: () => Promise<boolean>,
  options: { minutes?: number; limit?: number } = {},
): Promise<BounceStorm> {
  const order: string[] = [];
  const bounced = new Set<string>();
  const crossed = () => {
    const window = order.slice(-Guard.WINDOW);
    const n = window.filter((m) => bounced.has(m)).length;
    return window.length >= Guard.MIN_SENT && (n * 100) / window.length > (options.limit ?? 5);
  };
  const storm: BounceStorm = { reported: 0 };
  for (let minute = 0; minute < (options.minutes ?? 60) && storm.pausedAt === undefined; minute++) {
    const due = engine.mailer.sent.slice(storm.reported);
    storm.reported = engine.mailer.sent.length;
    for (const email of due) {
      const sent = (await Records.sentEmail(email.tags.message!))!;
      if (!bad.has(sent.contactId)) continue;
      bounced.add(sent.messageId);
      await applySesEvent(Records.sesRecord("bounce", sent, new Date(engine.clock.now())));
      const shouldPause = crossed();
      if (shouldPause) storm.expectedAt ??= bounced.size;
      const isPaused = await paused();
      expect(isPaused, `paused after ${bounced.size} bounces in the last ${Math.min(order.length, Guard.WINDOW)} emails`).toBe(shouldPause);
      if (isPaused) {
        storm.pausedAt = bounced.size;
        break;
      }
    }
    if (storm.pausedAt === undefined) {
      await engine.run(1);
      for (const e of engine.mailer.sent.slice(order.length)) order.push(e.tags.message!);
    }
  }
  return storm;
}
