import { randomUUID } from "node:crypto";
import type { BatchResponse, QueueRecord, SendJob, SendQueue } from ".";

/**
 * The send queue in one process, with SQS's semantics (at-least-once, visibility timeout,
 * receive count, dead-letter queue after too many receives) and its failures injectable:
 * duplicate deliveries, failing sends, and consumers that crash mid-batch.
 */
export interface MemoryQueueOptions {
  /** Time source (a virtual clock in simulations). */
  now?: () => number;
  /** How long a received message stays invisible before it is delivered again. */
  visibilityTimeoutMs?: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount?: number;
  faults?: {
    /** Probability that a sent message is delivered twice. */
    duplicate?: number;
    /** Probability that `send` fails (SQS unavailable). */
    sendFailure?: number;
  };
  random?: () => number;
}

interface Stored {
  id: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
}

export type BatchHandler = (records: QueueRecord[]) => Promise<BatchResponse>;

export class MemoryQueue implements SendQueue {
  readonly messages: Stored[] = [];
  readonly dlq: Stored[] = [];
  private readonly now: () => number;
  private readonly visibility: number;
  private readonly maxReceives: number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: MemoryQueueOptions = {}) {
    this.now = options.now ?? Date.now;
    this.visibility = options.visibilityTimeoutMs ?? 180_000;
    this.maxReceives = options.maxReceiveCount ?? 5;
    this.random = options.random ?? Math.random;
  }

  async send(jobs: SendJob[]): Promise<void> {
    if (this.random() < (this.options.faults?.sendFailure ?? 0)) throw new Error("queue unavailable (injected)");
    for (const job of jobs) {
      const body = JSON.stringify(job);
      this.messages.push({ id: randomUUID(), body, receiveCount: 0, visibleAt: this.now() });
      if (this.random() < (this.options.faults?.duplicate ?? 0)) {
        this.messages.push({ id: randomUUID(), body, receiveCount: 0, visibleAt: this.now() });
      }
    }
  }

  /** Raw access: put any body on the queue (poison messages in tests; other queues' messages), visible after `delayMs`. */
  enqueueRaw(body: string, delayMs = 0) {
    this.messages.push({ id: randomUUID(), body, receiveCount: 0, visibleAt: this.now() + delayMs });
  }

  receive(max = 10): Stored[] {
    const now = this.now();
    const out: Stored[] = [];
    for (let i = 0; i < this.messages.length && out.length < max; ) {
      const message = this.messages[i]!;
      if (message.visibleAt > now) {
        i++;
        continue;
      }
      if (message.receiveCount >= this.maxReceives) {
        this.messages.splice(i, 1);
        this.dlq.push(message);
        continue;
      }
      message.receiveCount++;
      message.visibleAt = now + this.visibility;
      out.push(message);
      i++;
    }
    return out;
  }

  delete(ids: Iterable<string>) {
    const gone = new Set(ids);
    for (let i = this.messages.length - 1; i >= 0; i--) if (gone.has(this.messages[i]!.id)) this.messages.splice(i, 1);
  }

  /**
   * Receive one batch and hand it to the consumer, as the Lambda event source mapping does:
   * records reported as failed, and every record of a batch whose consumer threw, come back
   * after the visibility timeout.
   */
  async processBatch(handler: BatchHandler, max = 10): Promise<number> {
    const batch = this.receive(max);
    if (!batch.length) return 0;
    try {
      const { batchItemFailures } = await handler(batch.map((m) => ({ messageId: m.id, body: m.body })));
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      this.delete(batch.filter((m) => !failed.has(m.id)).map((m) => m.id));
    } catch {
      // The consumer died: nothing of the batch is deleted.
    }
    return batch.length;
  }

  /** Process until no message is visible (tests and simulations). */
  async drain(handler: BatchHandler, options: { concurrency?: number; batchSize?: number } = {}): Promise<number> {
    let total = 0;
    for (;;) {
      const batches = await Promise.all(
        Array.from({ length: options.concurrency ?? 1 }, () => this.processBatch(handler, options.batchSize ?? 10)),
      );
      const n = batches.reduce((a, b) => a + b, 0);
      if (!n) return total;
      total += n;
    }
  }

  /** Poll in the background (local mode). */
  start(handler: BatchHandler, options: { intervalMs?: number; concurrency?: number; batchSize?: number } = {}) {
    const loop = async () => {
      this.running = this.drain(handler, { concurrency: options.concurrency ?? 4, batchSize: options.batchSize }).then(() => undefined);
      await this.running;
      this.running = undefined;
      if (this.timer !== undefined) this.timer = setTimeout(loop, options.intervalMs ?? 250);
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop() {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running;
  }

  get size() {
    return this.messages.length;
  }
}
