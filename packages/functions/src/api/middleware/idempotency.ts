import { createHash } from "node:crypto";
import { VisibleError } from "@fluenzr/core/error";
import * as Idempotency from "@fluenzr/core/idempotency";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "../env";
import { json, setHeader } from "../respond";

const KEY = /^[\x21-\x7e]{1,255}$/;
/** How long a repeat waits for the first request with its key (the API answers within 29 s). */
export const IN_FLIGHT_WAIT_MS = 5_000;
/** What a repeat still waiting after that is told (seconds). */
export const IN_FLIGHT_RETRY_AFTER = 1;

let inFlightWaitMs = IN_FLIGHT_WAIT_MS;
/** Tests shorten the wait; returns the previous value. */
export function setInFlightWait(ms: number): number {
  const previous = inFlightWaitMs;
  inFlightWaitMs = ms;
  return previous;
}

/**
 * Honour `Idempotency-Key` on writes that create or send: replay the stored response of a
 * repeated request, refuse the key reused for another request (409). A repeat arriving while the
 * first still runs waits for its result (up to `IN_FLIGHT_WAIT_MS`), then gets 409 with
 * `Retry-After`. Responses below 500 are
 * kept; a 5xx frees the key so the client may retry.
 */
export const idempotent = createMiddleware<ApiEnv>(async (c, next) => {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return next();
  if (!KEY.test(key)) {
    throw new VisibleError("validation", "Invalid Idempotency-Key", [
      { path: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" },
    ]);
  }
  const body = await c.req.text();
  const hash = createHash("sha256").update(`${c.req.method} ${c.req.path}\n${body}`).digest("hex");
  // The record is the request's first statement: a `keyOnBegin` write's key is checked by it.
  const started = await Idempotency.beginOrWait(key, `${c.req.method} ${c.req.path}`, hash, { waitMs: inFlightWaitMs });
  const workspaceId = c.get("workspaceId");
  if (started.kind === "in_flight") {
    const message = "A request with this Idempotency-Key is still being processed";
    setHeader(c, "Retry-After", String(IN_FLIGHT_RETRY_AFTER));
    throw new VisibleError("conflict", message, [{ path: "Idempotency-Key", message }]);
  }
  if (started.kind === "conflict")
    throw new VisibleError("conflict", started.message, [{ path: "Idempotency-Key", message: started.message }]);
  if (started.kind === "replay") {
    setHeader(c, "Idempotent-Replayed", "true");
    return json(c, started.body, started.status);
  }
  await next();
  if (c.res.status >= 500) {
    await Idempotency.abandon(workspaceId, key);
    return;
  }
  await Idempotency.complete(workspaceId, key, c.res.status, await c.res.clone().json());
});
