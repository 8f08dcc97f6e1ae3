import { sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import { unnest } from "../database/typed";
import { conflict } from "../error";
import * as Log from "../log";
import type { BatchResponse, QueueRecord } from "../queue";
import { createId } from "../util/id";
import * as Deliveries from "./deliveries";
import {
  ATTEMPT_TIMEOUT_MS,
  DISABLE_AFTER_FAILURES,
  DISABLE_AFTER_MS,
  MAX_ATTEMPTS,
  PER_ENDPOINT_CONCURRENCY,
  RETRY_DELAYS_MS,
} from "./events";
import * as Http from "./http";
import { payload } from "./outbox";
import * as Queue from "./queue";
import * as Subscriptions from "./subscription";

/**
 * The deliverer: takes a pending delivery (a lease in the database, so two deliverers never
 * attempt it at once and a crashed one's delivery comes back), POSTs the event, and records what
 * happened. 2xx: succeeded. 410 Gone: failed, and the subscription is disabled. Any other 4xx,
 * a 3xx (redirects are not followed) or a refused address: failed, no retry. 5xx, timeouts and
 * connection errors: retried after 1 min, 5 min, 30 min and 2 h (±10%), then failed. A
 * subscription failing for 24 hours without a success (at least 20 times) is disabled.
 */

/** How long a claimed attempt holds its delivery: the attempt's timeout with room to record it. */
const LEASE_MS = ATTEMPT_TIMEOUT_MS * 6;

interface Claimed {
  id: string;
  attempts: number;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  url: string;
  enabled: boolean;
  failing: boolean;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | string | null;
  body: string;
}

/** Lease the due and free deliveries among these, in one statement. */
async function claim(deliveryIds: readonly string[], now: Date): Promise<Claimed[]> {
  return Database.rows<Claimed>(sql`
    WITH d AS (
      UPDATE webhook_delivery SET leased_until = ${new Date(now.getTime() + LEASE_MS)}
      WHERE id = ANY(${Database.array(deliveryIds, "text")}) AND status = 'pending'
        AND (attempts = 0 OR next_attempt_at <= ${now})
        AND (leased_until IS NULL OR leased_until < ${now})
      RETURNING id, attempts, event_id, event_type, subscription_id
    )
    SELECT d.id, d.attempts, d.event_id AS "eventId", d.event_type AS "eventType", s.id AS "subscriptionId", s.url, s.enabled,
           (s.failing_since IS NOT NULL) AS failing, s.secret, s.previous_secret AS "previousSecret",
           s.previous_secret_expires_at AS "previousSecretExpiresAt", e.body
    FROM d JOIN webhook_subscription s ON s.id = d.subscription_id JOIN webhook_event e ON e.id = d.event_id`);
}

export type Verdict = "succeeded" | "retry" | "failed" | "gone";

export function verdict(outcome: Http.Outcome): Verdict {
  const status = outcome.statusCode;
  if (status === null) return outcome.refused ? "failed" : "retry";
  if (status >= 200 && status < 300) return "succeeded";
  if (status === 410) return "gone";
  if (status >= 500) return "retry";
  // 4xx, and 1xx/3xx: the endpoint answered; asking again will not change it.
  return "failed";
}

/** When the attempt after `attempts` failed ones is due: the schedule, ±10%. */
export function nextDelayMs(attempts: number, random = Math.random): number | undefined {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (0.9 + 0.2 * random()));
}

const inFlight = new Map<string, number>();
const waiting = new Map<string, Array<() => void>>();

/** At most PER_ENDPOINT_CONCURRENCY attempts at once to one subscription from this process. */
async function withSlot<T>(subscriptionId: string, cb: () => Promise<T>): Promise<T> {
  if ((inFlight.get(subscriptionId) ?? 0) >= PER_ENDPOINT_CONCURRENCY) {
    await new Promise<void>((resolve) => waiting.set(subscriptionId, [...(waiting.get(subscriptionId) ?? []), resolve]));
  }
  inFlight.set(subscriptionId, (inFlight.get(subscriptionId) ?? 0) + 1);
  try {
    return await cb();
  } finally {
    const left = (inFlight.get(subscriptionId) ?? 1) - 1;
    if (left) inFlight.set(subscriptionId, left);
    else inFlight.delete(subscriptionId);
    const next = waiting.get(subscriptionId)?.shift();
    if (next) next();
    if (!waiting.get(subscriptionId)?.length) waiting.delete(subscriptionId);
  }
}

export interface AttemptResult {
  deliveryId: string;
  /** false when the delivery was not due, taken by another deliverer, or final. */
  attempted: boolean;
  verdict?: Verdict;
  outcome?: Http.Outcome;
}

/** Attempt one delivery if it is due and free. */
export async function attempt(deliveryId: string): Promise<AttemptResult> {
  const [result] = await attemptMany([deliveryId]);
  return result ?? { deliveryId, attempted: false };
}

/**
 * Attempt these deliveries (those due and free): leased in one statement, POSTed concurrently
 * (within each endpoint's cap), their outcomes recorded in one statement.
 */
export async function attemptMany(deliveryIds: readonly string[]): Promise<AttemptResult[]> {
  const now = Clock.now();
  const claimed = await claim(deliveryIds, now);

  const attempted = await Promise.all(
    claimed.map(async (delivery) => {
      if (!delivery.enabled) {
        const outcome: Http.Outcome = { statusCode: null, durationMs: 0, error: "the subscription is disabled", responseBodyPreview: null };
        return { delivery, outcome, verdict: "failed" as Verdict };
      }
      const secrets = Subscriptions.signingSecrets(
        {
          secret: delivery.secret,
          previousSecret: delivery.previousSecret,
          previousSecretExpiresAt: delivery.previousSecretExpiresAt === null ? null : Database.toDate(delivery.previousSecretExpiresAt),
        },
        now,
      );
      const outcome = await withSlot(delivery.subscriptionId, () =>
        Http.post({
          url: delivery.url,
          body: delivery.body,
          eventId: delivery.eventId,
          eventType: delivery.eventType,
          secrets,
          timestamp: Math.floor(Clock.nowMs() / 1000),
        }),
      );
      return { delivery, outcome, verdict: verdict(outcome) };
    }),
  );
  if (attempted.length) await record(attempted, Clock.now());

  const byId = new Map(attempted.map((a) => [a.delivery.id, a]));
  return deliveryIds.map((deliveryId) => {
    const done = byId.get(deliveryId);
    return done ? { deliveryId, attempted: true, verdict: done.verdict, outcome: done.outcome } : { deliveryId, attempted: false };
  });
}

interface Attempted {
  delivery: Claimed;
  outcome: Http.Outcome;
  verdict: Verdict;
}

async function record(attempted: readonly Attempted[], now: Date): Promise<void> {
  const rows = attempted.map(({ delivery, outcome, verdict: result }) => {
    const attempts = delivery.attempts + 1;
    const delay = result === "retry" && attempts < MAX_ATTEMPTS ? nextDelayMs(attempts) : undefined;
    const status = result === "succeeded" ? "succeeded" : delay !== undefined ? "pending" : "failed";
    return { delivery, outcome, result, attempts, delay, status, next: delay !== undefined ? new Date(now.getTime() + delay) : null };
  });
  // Every delivery's outcome in one statement.
  await Database.rows(sql`
    UPDATE webhook_delivery d SET status = v.status, attempts = v.attempts::int, last_status_code = v.code::int, last_error = v.error,
      last_duration_ms = v.duration::int, response_body_preview = v.preview, next_attempt_at = v.next, leased_until = NULL,
      delivered_at = CASE WHEN v.status = 'succeeded' THEN ${now}::timestamptz END
    FROM ${unnest(rows, {
      id: ["text", (r) => r.delivery.id],
      status: ["text", (r) => r.status],
      attempts: ["int", (r) => r.attempts],
      code: ["int", (r) => r.outcome.statusCode],
      error: ["text", (r) => r.outcome.error],
      duration: ["int", (r) => r.outcome.durationMs],
      preview: ["text", (r) => r.outcome.responseBodyPreview],
      next: ["timestamptz", (r) => r.next],
    })}
    WHERE d.id = v.id`);
  // The subscriptions: a success ends a run of failures; 410 disables; failures count towards disabling.
  const bySubscription = new Map<string, typeof rows>();
  for (const row of rows)
    bySubscription.set(row.delivery.subscriptionId, [...(bySubscription.get(row.delivery.subscriptionId) ?? []), row]);
  for (const [subscriptionId, list] of bySubscription) {
    const gone = list.find((r) => r.result === "gone");
    const failures = list.filter((r) => r.result !== "succeeded" && r.delivery.enabled);
    const succeeded = list.some((r) => r.result === "succeeded");
    if (gone) await disable(subscriptionId, `the endpoint answered 410 Gone at ${now.toISOString()}`, now);
    else if (failures.length) await countFailures(subscriptionId, failures.length, failures.at(-1)!.outcome, now);
    else if (succeeded && list.some((r) => r.delivery.failing)) {
      await Database.rows(sql`
        UPDATE webhook_subscription SET failing_since = NULL, failures_since = 0 WHERE id = ${subscriptionId} AND failing_since IS NOT NULL`);
    }
  }
  // SQS holds a message back 15 minutes at most; later retries are the sweeper's.
  const soon = rows.filter((r) => r.delay !== undefined && r.delay <= 900_000);
  for (const row of soon) await Queue.dispatch([row.delivery.id], Math.ceil(row.delay! / 1000));
  for (const row of rows) {
    if (row.result === "succeeded") continue;
    Log.info("webhook attempt failed", {
      deliveryId: row.delivery.id,
      subscriptionId: row.delivery.subscriptionId,
      statusCode: row.outcome.statusCode,
      error: row.outcome.error,
      verdict: row.result,
      attempts: row.attempts,
    });
  }
}

/** `n` more failures; disabled once every attempt failed for 24 hours, at least 20 times. */
async function countFailures(subscriptionId: string, n: number, last: Http.Outcome, now: Date) {
  const cutoff = new Date(now.getTime() - DISABLE_AFTER_MS);
  const condition = sql`failures_since + ${n} >= ${DISABLE_AFTER_FAILURES} AND coalesce(failing_since, ${now}) <= ${cutoff}`;
  const reason = `every attempt failed for 24 hours (${DISABLE_AFTER_FAILURES} or more); last: ${last.error ?? `status ${last.statusCode}`}`;
  await Database.rows(sql`
    UPDATE webhook_subscription
    SET failing_since = coalesce(failing_since, ${now}), failures_since = failures_since + ${n},
        enabled = NOT (${condition}),
        disabled_reason = CASE WHEN ${condition} THEN ${reason} ELSE disabled_reason END
    WHERE id = ${subscriptionId} AND enabled`);
}

async function disable(subscriptionId: string, reason: string, now: Date) {
  await Database.rows(sql`
    UPDATE webhook_subscription SET enabled = false, disabled_reason = ${reason}, updated_at = ${now}
    WHERE id = ${subscriptionId} AND enabled`);
}

/** A queue batch: its deliveries attempted together; if recording fails the batch comes back, bad messages are dropped. */
export async function handle(records: readonly QueueRecord[]): Promise<BatchResponse> {
  const items: Array<{ messageId: string; deliveryId: string }> = [];
  for (const item of records) {
    try {
      items.push({ messageId: item.messageId, deliveryId: v.parse(Queue.messageSchema, JSON.parse(item.body)).deliveryId });
    } catch {
      Log.error("invalid webhook delivery message", { queueMessageId: item.messageId });
    }
  }
  if (!items.length) return { batchItemFailures: [] };
  try {
    await attemptMany([...new Set(items.map((i) => i.deliveryId))]);
    return { batchItemFailures: [] };
  } catch (error) {
    // Leased deliveries come back when their lease runs out; the messages come back now.
    Log.error("webhook deliveries failed to run", { deliveries: items.length, error });
    return { batchItemFailures: items.map((i) => ({ itemIdentifier: i.messageId })) };
  }
}

/**
 * Deliveries nobody is attempting though they are due: what a crash between commit and queue
 * left (pending, never attempted, older than `freshMs`), retries due after a delay SQS could not
 * hold, and attempts whose deliverer died (lease expired). Queued again; returns how many.
 */
export async function sweep(options: { freshMs?: number; limit?: number } = {}): Promise<number> {
  const now = Clock.now();
  const rows = await Database.rows<{ id: string }>(sql`
    SELECT id FROM webhook_delivery
    WHERE status = 'pending'
      AND ((attempts = 0 AND next_attempt_at <= now() - make_interval(secs => ${(options.freshMs ?? 30_000) / 1000}))
           OR (attempts > 0 AND next_attempt_at <= ${now}))
      AND (leased_until IS NULL OR leased_until < ${now})
    ORDER BY next_attempt_at LIMIT ${options.limit ?? 1000}`);
  const ids = rows.map((row) => row.id);
  if (ids.length) {
    Log.info("webhook sweep: queueing deliveries nobody is attempting", { deliveries: ids.length });
    if (Queue.installed()) await Queue.dispatch(ids);
    else for (let i = 0; i < ids.length; i += 10) await attemptMany(ids.slice(i, i + 10));
  }
  return ids.length;
}

export interface TestResult {
  deliveryId: string;
  eventId: string;
  success: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** `POST /webhooks/:id/test`: a `webhook.test` event to this subscription alone, attempted now. */
export async function test(subscriptionId: string): Promise<TestResult> {
  const subscription = await Subscriptions.mustExist(subscriptionId);
  const workspaceId = Actor.workspaceId();
  const at = Clock.now();
  const eventId = createId("event", at.getTime());
  const deliveryId = createId("webhookDelivery", at.getTime());
  const body = JSON.stringify(
    payload(eventId, "webhook.test", at, workspaceId, {
      webhook: { id: subscription.id, url: subscription.url },
      message: "A test event from FluenzR",
    }),
  );
  await Database.transaction(async () => {
    await Database.rows(sql`
      INSERT INTO webhook_event (id, workspace_id, type, body, occurred_at) VALUES (${eventId}, ${workspaceId}, 'webhook.test', ${body}, ${at})`);
    await Database.rows(sql`
      INSERT INTO webhook_delivery (id, workspace_id, subscription_id, event_id, event_type, next_attempt_at, created_at)
      VALUES (${deliveryId}, ${workspaceId}, ${subscription.id}, ${eventId}, 'webhook.test', ${at}, ${at})`);
  });
  const result = await attempt(deliveryId);
  const outcome = result.outcome ?? { statusCode: null, durationMs: 0, error: "not attempted", responseBodyPreview: null };
  return {
    deliveryId,
    eventId,
    success: result.verdict === "succeeded",
    statusCode: outcome.statusCode,
    durationMs: outcome.durationMs,
    error: outcome.error,
  };
}

/** `POST …/deliveries/:id/retry`: attempt again now, whatever its status (one more attempt for a final one). */
export async function retry(subscriptionId: string, deliveryId: string): Promise<Deliveries.DeliveryWithPayload> {
  const subscription = await Subscriptions.mustExist(subscriptionId);
  await Deliveries.mustExist(subscriptionId, deliveryId);
  if (!subscription.enabled) {
    throw conflict("The webhook is disabled: enable it (PUT enabled: true) before retrying", [
      { path: "enabled", message: `is false${subscription.disabledReason ? `: ${subscription.disabledReason}` : ""}` },
    ]);
  }
  const now = Clock.now();
  const [row] = await Database.rows<{ id: string }>(sql`
    UPDATE webhook_delivery SET status = 'pending', next_attempt_at = ${now}, attempts = LEAST(attempts, ${MAX_ATTEMPTS - 1})
    WHERE id = ${deliveryId} AND (leased_until IS NULL OR leased_until < ${now})
    RETURNING id`);
  if (!row)
    throw conflict("An attempt of this delivery is in flight: try again in a minute", [{ path: "status", message: "attempt in flight" }]);
  await attempt(deliveryId);
  return Deliveries.mustExist(subscriptionId, deliveryId);
}
