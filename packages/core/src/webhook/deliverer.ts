import { sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import { conflict } from "../error";
import * as Log from "../log";
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
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | string | null;
  body: string;
}

async function claim(deliveryId: string, now: Date): Promise<Claimed | undefined> {
  const [row] = await Database.rows<Claimed>(sql`
    UPDATE webhook_delivery d SET leased_until = ${new Date(now.getTime() + LEASE_MS)}
    FROM webhook_subscription s, webhook_event e
    WHERE d.id = ${deliveryId} AND d.status = 'pending'
      AND (d.attempts = 0 OR d.next_attempt_at <= ${now})
      AND (d.leased_until IS NULL OR d.leased_until < ${now})
      AND s.id = d.subscription_id AND e.id = d.event_id
    RETURNING d.id, d.attempts, d.event_id AS "eventId", d.event_type AS "eventType", s.id AS "subscriptionId", s.url, s.enabled,
              s.secret, s.previous_secret AS "previousSecret", s.previous_secret_expires_at AS "previousSecretExpiresAt", e.body`);
  return row;
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
  const now = Clock.now();
  const claimed = await claim(deliveryId, now);
  if (!claimed) return { deliveryId, attempted: false };
  if (!claimed.enabled) {
    const outcome: Http.Outcome = { statusCode: null, durationMs: 0, error: "the subscription is disabled", responseBodyPreview: null };
    await record(claimed, outcome, "failed", now);
    return { deliveryId, attempted: true, verdict: "failed", outcome };
  }
  const secrets = Subscriptions.signingSecrets(
    {
      secret: claimed.secret,
      previousSecret: claimed.previousSecret,
      previousSecretExpiresAt: claimed.previousSecretExpiresAt === null ? null : Database.toDate(claimed.previousSecretExpiresAt),
    },
    now,
  );
  const outcome = await withSlot(claimed.subscriptionId, () =>
    Http.post({
      url: claimed.url,
      body: claimed.body,
      eventId: claimed.eventId,
      eventType: claimed.eventType,
      secrets,
      timestamp: Math.floor(Clock.nowMs() / 1000),
    }),
  );
  const result = verdict(outcome);
  await record(claimed, outcome, result, Clock.now());
  return { deliveryId, attempted: true, verdict: result, outcome };
}

async function record(claimed: Claimed, outcome: Http.Outcome, result: Verdict, now: Date): Promise<void> {
  const attempts = claimed.attempts + 1;
  const delay = result === "retry" && attempts < MAX_ATTEMPTS ? nextDelayMs(attempts) : undefined;
  const status = result === "succeeded" ? "succeeded" : delay !== undefined ? "pending" : "failed";
  const next = delay !== undefined ? new Date(now.getTime() + delay) : null;
  await Database.transaction(async () => {
    await Database.rows(sql`
      UPDATE webhook_delivery SET status = ${status}, attempts = ${attempts}, last_status_code = ${outcome.statusCode},
        last_error = ${outcome.error}, last_duration_ms = ${outcome.durationMs}, response_body_preview = ${outcome.responseBodyPreview},
        next_attempt_at = ${next}, leased_until = NULL, delivered_at = ${result === "succeeded" ? now : null}
      WHERE id = ${claimed.id}`);
    if (result === "succeeded") {
      await Database.rows(sql`
        UPDATE webhook_subscription SET failing_since = NULL, failures_since = 0
        WHERE id = ${claimed.subscriptionId} AND failing_since IS NOT NULL`);
    } else if (result === "gone") {
      await disable(claimed.subscriptionId, `the endpoint answered 410 Gone at ${now.toISOString()}`, now);
    } else if (claimed.enabled) {
      await Database.rows(sql`
        UPDATE webhook_subscription
        SET failing_since = coalesce(failing_since, ${now}), failures_since = failures_since + 1,
            enabled = NOT (failures_since + 1 >= ${DISABLE_AFTER_FAILURES} AND coalesce(failing_since, ${now}) <= ${new Date(now.getTime() - DISABLE_AFTER_MS)}),
            disabled_reason = CASE
              WHEN failures_since + 1 >= ${DISABLE_AFTER_FAILURES} AND coalesce(failing_since, ${now}) <= ${new Date(now.getTime() - DISABLE_AFTER_MS)}
              THEN ${`every attempt failed for 24 hours (${DISABLE_AFTER_FAILURES} or more); last: ${outcome.error ?? `status ${outcome.statusCode}`}`}
              ELSE disabled_reason END
        WHERE id = ${claimed.subscriptionId} AND enabled`);
    }
    // SQS holds a message back 15 minutes at most; later retries are the sweeper's.
    if (delay !== undefined && delay <= 900_000) await Database.afterCommit(() => Queue.dispatch([claimed.id], Math.ceil(delay / 1000)));
  });
  if (result !== "succeeded") {
    Log.info("webhook attempt failed", {
      deliveryId: claimed.id,
      subscriptionId: claimed.subscriptionId,
      statusCode: outcome.statusCode,
      error: outcome.error,
      verdict: result,
      attempts,
    });
  }
}

async function disable(subscriptionId: string, reason: string, now: Date) {
  await Database.rows(sql`
    UPDATE webhook_subscription SET enabled = false, disabled_reason = ${reason}, updated_at = ${now}
    WHERE id = ${subscriptionId} AND enabled`);
}

export interface QueueRecord {
  messageId: string;
  body: string;
}

/** A queue batch: each delivery attempted (concurrently); failures to record come back, bad messages are dropped. */
export async function handle(records: readonly QueueRecord[]): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
  const failures: Array<{ itemIdentifier: string }> = [];
  await Promise.all(
    records.map(async (item) => {
      let deliveryId: string;
      try {
        deliveryId = v.parse(Queue.messageSchema, JSON.parse(item.body)).deliveryId;
      } catch {
        Log.error("invalid webhook delivery message", { queueMessageId: item.messageId });
        return;
      }
      try {
        await attempt(deliveryId);
      } catch (error) {
        Log.error("webhook delivery failed to run", { deliveryId, error });
        failures.push({ itemIdentifier: item.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
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
    else for (const id of ids) await attempt(id);
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
