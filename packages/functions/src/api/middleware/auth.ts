import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import type { Scoped } from "@fluenzr/core/database";
import * as Database from "@fluenzr/core/database";
import { VisibleError } from "@fluenzr/core/error";
import * as Log from "@fluenzr/core/log";
import type { Context } from "hono";
import type { MiddlewareHandler, Next } from "hono/types";
import type { ApiEnv } from "../env";
import { errorResponse } from "../errors";
import { reapplyHeaders, requestHeader, setHeader } from "../respond";

/**
 * API key auth and the per-key rate limit, in one database round trip (Auth.authenticate). The
 * workspace goes into the actor context for the rest of the request.
 *
 * The hot reads go further: a route that declares its read with `fused()` gets the key's row and
 * the resource in ONE statement (Auth.authenticateWith). This middleware sees such a route among
 * the request's matched handlers and leaves the authentication to it. A write declared with
 * `keyOnBegin` has its key checked by its first statement: on its transaction's BEGIN, or fused
 * into a write sent outside a transaction (Database.write).
 */
export const auth: MiddlewareHandler<ApiEnv> = (c, next) => {
  const key = bearer(c);
  if (matched(c, FUSED)) {
    c.set("apiKey", key ?? "");
    return next();
  }
  const text = key && matched(c, ON_BEGIN) ? Auth.authenticationText(key) : undefined;
  if (text) return checkedOnBegin(c, key!, text, next);
  return authenticated(c, key, next);
};

async function authenticated(c: Context<ApiEnv>, key: string | undefined, next: Next): Promise<Response | undefined> {
  const result = key ? await Auth.authenticate(key) : undefined;
  const refused = admit(c, result);
  if (refused) return refused;
  await Actor.provide(actorOf(result!), next);
}

/**
 * A write whose key rides on its transaction's BEGIN (`keyOnBegin`). The key's statement is the
 * request's opening (Database.Opening): sent with the BEGIN of its first transaction, in the same
 * round trip, fused into a first statement that can carry it (Database.write: a refused key
 * writes nothing there), or alone just before any other statement sent outside a transaction. The workspace is
 * known from then on (Actor.awaitingKey). A refused key throws out of that first statement: the
 * transaction rolls back, nothing was written, and the answer is the 401 or 429 `admit` gives.
 * A request that sent nothing (its body refused with 400 or 413) has its key checked after, and a
 * refused key's answer replaces the other: 401 still comes first.
 */
async function checkedOnBegin(c: Context<ApiEnv>, key: string, text: string, next: Next): Promise<void> {
  const { actor, resolve } = Actor.awaitingKey();
  let checked = false;
  let refusal: VisibleError | undefined;
  let roll: (() => Promise<void>) | undefined;
  const answer = (result: Auth.Authenticated | undefined) => {
    checked = true;
    refusal = refusalOf(c, result);
    if (refusal) throw refusal;
    resolve(result!.workspaceId, result!.keyId);
  };
  const opening: Database.Opening = {
    text,
    accept: (rows) => {
      const found = Auth.authenticationOf(rows);
      roll = found?.roll;
      answer(found?.auth);
    },
    alone: async () => answer(await Auth.authenticate(key)),
    carry: (statement) => Auth.authenticateWrite(key, statement),
  };
  await Database.withOpening(opening, () => Actor.provide(actor, next));
  if (!checked) {
    await opening.alone().catch(() => {}); // a refusal is in `refusal`
    if (!refusal) reapplyHeaders(c); // the rate-limit headers, on the response already built
  }
  if (refusal) c.res = errorResponse(c, refusal.kind, refusal.message);
  // The first request of a minute rolls the key's window, outside the write's transaction. The
  // write is done: a failed roll is only logged (the next request of the minute rolls it).
  if (roll) await roll().catch((error: unknown) => Log.warn("rate-limit window roll failed", { requestId: c.get("requestId"), error }));
}

/** Does one of the request's matched handlers belong to this set (`fused` reads, `keyOnBegin` writes)? */
function matched(c: Context<ApiEnv>, handlers: Set<unknown>): boolean {
  for (const route of c.req.matchedRoutes) if (handlers.has(route.handler)) return true;
  return false;
}

function bearer(c: Context<ApiEnv>): string | undefined {
  const header = requestHeader(c, "authorization");
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** The 401 or 429 answer for this authentication, or undefined when the request may go on. */
function admit(c: Context<ApiEnv>, result: Auth.Authenticated | undefined): Response | undefined {
  const refusal = refusalOf(c, result);
  return refusal && errorResponse(c, refusal.kind, refusal.message);
}

/**
 * Why this authentication refuses the request (401, 429), or undefined when it may go on. Sets the
 * rate-limit headers of a known key, and the workspace and key of an admitted one.
 */
function refusalOf(c: Context<ApiEnv>, result: Auth.Authenticated | undefined): VisibleError | undefined {
  if (!result) return new VisibleError("unauthorized", "Invalid or missing API key");
  const limit = result.rateLimit;
  setHeader(c, "x-ratelimit-limit", String(limit.limit));
  setHeader(c, "x-ratelimit-remaining", String(limit.remaining));
  setHeader(c, "x-ratelimit-reset", String(limit.reset));
  if (!limit.allowed) {
    setHeader(c, "retry-after", String(limit.retryAfter));
    return new VisibleError("rate_limited", `Rate limit of ${limit.limit} requests per minute exceeded`);
  }
  c.set("workspaceId", result.workspaceId);
  c.set("keyId", result.keyId);
  return undefined;
}

const actorOf = (result: Auth.Authenticated): Actor.Actor => ({ type: "workspace", workspaceId: result.workspaceId, keyId: result.keyId });

const FUSED = new Set<unknown>();
const ON_BEGIN = new Set<unknown>();

/**
 * Declares a write whose key is checked by its first statement, on its transaction's BEGIN (see
 * `checkedOnBegin`): the key costs no round trip of its own. Its code must read the workspace no
 * earlier than that statement (inside its transaction, or in a `Database.use` callback); reading
 * it before throws (Actor.awaitingKey), which the route's tests show. A first statement sent outside
 * a transaction carries the key when it is a `Database.write` (the `Idempotency-Key` record's is),
 * else waits for the key's statement alone.
 */
export const keyOnBegin: MiddlewareHandler<ApiEnv> = (_c, next) => next();
ON_BEGIN.add(keyOnBegin);

export interface Fused<T> {
  /** The route's middleware: authenticates and reads in one statement. */
  middleware: MiddlewareHandler<ApiEnv>;
  /** What the read found (in the handler). */
  value(c: Context<ApiEnv>): T;
}

/**
 * Declare a route's read to fuse with its authentication. `read` may throw for a malformed
 * request (a bad id): the request is then authenticated alone first, so a wrong key still
 * answers 401 before anything else.
 */
export function fused<T>(read: (c: Context<ApiEnv>) => Scoped<T>): Fused<T> {
  const middleware: MiddlewareHandler<ApiEnv> = async (c, next) => {
    const key = c.get("apiKey");
    let scoped: Scoped<T> | undefined;
    let malformed: unknown;
    try {
      scoped = read(c);
    } catch (error) {
      malformed = error;
    }
    let result: Auth.Authenticated | undefined;
    let rows: Record<string, unknown>[] = [];
    if (key && scoped) {
      const found = await Auth.authenticateWith(key, scoped);
      if (found) [result, rows] = [found.auth, found.rows];
    } else if (key) {
      result = await Auth.authenticate(key);
    }
    const refused = admit(c, result);
    if (refused) return refused;
    await Actor.provide(actorOf(result!), async () => {
      if (malformed !== undefined) throw malformed;
      c.set("fusedRead", { middleware, value: await scoped!.decode(rows) });
      await next();
    });
  };
  FUSED.add(middleware);
  return {
    middleware,
    value: (c) => {
      const read = c.get("fusedRead");
      if (read?.middleware !== middleware) throw new Error("fused read used outside its route");
      return read.value as T;
    },
  };
}
