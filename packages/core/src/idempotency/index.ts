import { sql } from "drizzle-orm";
import * as Actor from "../actor";
import * as Database from "../database";
import { pick } from "../database/typed";
import { idempotencyTable } from "./idempotency.sql";

export { idempotencyTable } from "./idempotency.sql";

/**
 * `Idempotency-Key` (SPEC §1): the first request with a key runs and its response is kept; a
 * repeat with the same key and request gets that response again; the same key with another
 * request is refused. A request that died without answering frees its key after a minute.
 */
export type Begin =
  | { kind: "new" }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "conflict"; message: string }
  /** The first request with this key is still running: wait for it (`waitForResult`). */
  | { kind: "in_flight" };

const ABANDONED_AFTER_SECONDS = 60;

export function begin(workspaceId: string, key: string, route: string, requestHash: string): Promise<Begin> {
  return Actor.asWorkspace(workspaceId, () => started(key, route, requestHash));
}

const recorded = pick(idempotencyTable, ["key"]);

/**
 * `begin` in the actor's workspace. Its first statement (the record's insert) is a `Database.write`:
 * a request's API key still to be checked is fused into it, and the workspace is known after it.
 */
async function started(key: string, route: string, requestHash: string): Promise<Begin> {
  const record = Database.insertion(idempotencyTable, { key, route, requestHash }, recorded, {
    name: "once",
    conflict: sql`ON CONFLICT DO NOTHING`,
  });
  if (await Database.write(record)) return { kind: "new" };
  const workspaceId = Actor.workspaceId();
  const [existing] = await Database.rows<{ request_hash: string; status: number | null; response: unknown; stale: boolean }>(sql`
    SELECT request_hash, status, response, created_at < now() - make_interval(secs => ${ABANDONED_AFTER_SECONDS}) AS stale
    FROM idempotency_key WHERE workspace_id = ${workspaceId} AND key = ${key}`);
  if (!existing) return started(key, route, requestHash);
  if (existing.request_hash !== requestHash) {
    return { kind: "conflict", message: "This Idempotency-Key was already used with a different request" };
  }
  if (existing.status !== null) return { kind: "replay", status: existing.status, body: existing.response };
  if (existing.stale) {
    const taken = await Database.rows<{ key: string }>(sql`
      UPDATE idempotency_key SET created_at = now()
      WHERE workspace_id = ${workspaceId} AND key = ${key} AND status IS NULL
        AND created_at < now() - make_interval(secs => ${ABANDONED_AFTER_SECONDS})
      RETURNING key`);
    if (taken.length) return { kind: "new" };
  }
  return { kind: "in_flight" };
}

/**
 * `begin` in the actor's workspace, waiting up to `waitMs` while the first request with the key is still running, so that
 * a client retrying on a timeout gets the first request's result rather than an error. Still in
 * flight after that: a conflict the caller answers with `Retry-After`.
 */
export async function beginOrWait(
  key: string,
  route: string,
  requestHash: string,
  options: { waitMs: number; pollMs?: number },
): Promise<Begin> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const begun = await started(key, route, requestHash);
    if (begun.kind !== "in_flight" || Date.now() >= deadline) return begun;
    await new Promise((done) => setTimeout(done, Math.min(options.pollMs ?? 100, Math.max(0, deadline - Date.now()))));
  }
}

export async function complete(workspaceId: string, key: string, status: number, body: unknown): Promise<void> {
  await Database.rows(sql`
    UPDATE idempotency_key SET status = ${status}, response = ${JSON.stringify(body)}::jsonb
    WHERE workspace_id = ${workspaceId} AND key = ${key}`);
}

/** Forget a key whose request failed on our side (5xx), so the client can retry it. */
export async function abandon(workspaceId: string, key: string): Promise<void> {
  await Database.rows(sql`DELETE FROM idempotency_key WHERE workspace_id = ${workspaceId} AND key = ${key} AND status IS NULL`);
}

/** Keys are kept a day (the sweeper forgets older ones). */
export async function expire(olderThanHours = 24): Promise<number> {
  const rows = await Database.rows<{ key: string }>(
    sql`DELETE FROM idempotency_key WHERE created_at < now() - make_interval(hours => ${olderThanHours}) RETURNING key`,
  );
  return rows.length;
}
