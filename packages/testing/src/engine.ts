import { randomBytes } from "node:crypto";
import * as Clock from "@fluenzr/core/clock";
import * as Queue from "@fluenzr/core/queue";
import { MemoryQueue, type MemoryQueueOptions } from "@fluenzr/core/queue/memory";
import * as Scheduler from "@fluenzr/core/scheduler";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import { dueSchedules } from "@fluenzr/core/scheduler/ticker";
import { Config, Fault, Mailer, SendBatch, tick } from "@fluenzr/core/sending";
import { afterEach } from "vitest";
import { useTestDatabase } from "./database";

/**
 * A mailer standing in for SES where tests need its failures: it records what it accepts and
 * answers from a script (throttle, reject, account stop, unknown outcome).
 */
export class FakeMailer implements Mailer.Mailer {
  readonly sent: Array<Mailer.OutgoingEmail & { messageId: string; at: number }> = [];
  private script: Array<Mailer.MailerErrorKind | "ok"> = [];
  /** Decide per email (simulations); the script, when set, goes first. */
  decide: ((email: Mailer.OutgoingEmail) => Mailer.MailerErrorKind | "ok") | undefined;
  private n = 0;
  private readonly prefix = randomBytes(4).toString("hex");

  /** The next calls answer these, in order, then "ok". */
  next(...outcomes: Array<Mailer.MailerErrorKind | "ok">) {
    this.script.push(...outcomes);
  }

  async send(email: Mailer.OutgoingEmail) {
    const outcome = this.script.shift() ?? this.decide?.(email) ?? "ok";
    if (outcome !== "ok")
      throw new Mailer.MailerError(outcome, `injected ${outcome}`, outcome === "account" ? "SendingPausedException" : undefined);
    const messageId = `0100${this.prefix}${(++this.n).toString(16).padStart(8, "0")}-fake`;
    this.sent.push({ ...email, messageId, at: Clock.nowMs() });
    return { messageId };
  }
}

export interface TestEngine {
  clock: Clock.VirtualClock;
  queue: MemoryQueue;
  scheduler: MemoryScheduler;
  mailer: FakeMailer;
  /** Tick the campaigns whose schedule is due now, then deliver the queue until it is empty. */
  runMinute(): Promise<void>;
  /** Advance the clock minute by minute, running each minute. */
  run(minutes: number): Promise<void>;
  restore(): void;
}

export interface TestEngineOptions {
  start: Date | string;
  queue?: MemoryQueueOptions;
  mailer?: FakeMailer;
  scheduler?: MemoryScheduler;
}

/** Monday 12 January 2026, 9:00 in Paris: inside the seed's send window. */
export const MONDAY_9_PARIS = "2026-01-12T08:00:00Z";

/** The engine on a virtual clock: real tick, queue semantics and sender, fake SES. */
export function testEngine(options: TestEngineOptions): TestEngine {
  const clock = new Clock.VirtualClock(new Date(options.start).getTime());
  const restoreClock = Clock.install(clock.now);
  const queue = new MemoryQueue({ now: clock.now, visibilityTimeoutMs: 180_000, ...options.queue });
  const scheduler = options.scheduler ?? new MemoryScheduler();
  const mailer = options.mailer ?? new FakeMailer();
  Queue.install(queue);
  Scheduler.install(scheduler);
  Mailer.install(mailer);
  Config.install({
    publicUrl: "https://api.test",
    configurationSets: { none: "cs-none", opens: "cs-opens", clicks: "cs-clicks", full: "cs-full" },
  });
  const runMinute = async () => {
    for (const id of dueSchedules(scheduler, Clock.now())) await tick(id);
    await queue.drain(SendBatch.handle);
  };
  return {
    clock,
    queue,
    scheduler,
    mailer,
    runMinute,
    async run(minutes) {
      for (let i = 0; i < minutes; i++) {
        await runMinute();
        clock.advance(60_000);
      }
    },
    restore: restoreClock,
  };
}

/**
 * An engine per test: the returned function starts one (as `testEngine`), and after each test of
 * the file the clock and ports of every engine it started are restored and any injected fault removed.
 */
export function enginePerTest(): (options: TestEngineOptions) => TestEngine {
  // Every engine the test started, undone last first: a test starting two would otherwise leave
  // the first one's virtual clock installed for the files after it in the same worker.
  const started: TestEngine[] = [];
  afterEach(() => {
    Fault.inject(undefined);
    while (started.length) started.pop()!.restore();
  });
  return (options) => {
    const engine = testEngine(options);
    started.push(engine);
    return engine;
  };
}

/** An engine test file's setup in one call: its own database (`useTestDatabase`), an engine per test (`enginePerTest`). */
export function engineSuite(): (options: TestEngineOptions) => TestEngine {
  useTestDatabase();
  return enginePerTest();
}
