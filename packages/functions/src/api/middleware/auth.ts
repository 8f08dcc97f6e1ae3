import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import type { Scoped } from "@fluenzr/core/database";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { MiddlewareHandler } from "hono/types";
import type { ApiEnv } from "../env";
import { errorResponse } from "../errors";
import { requestHeader, setHeader } from "../respond";

/**
 * API key auth and the per-key rate limit, in one database round trip (Auth.authenticate). The
 * workspace goes into the actor context for the rest of the request.
 *
 * The hot reads go further: a route that declares its read with `fused()` gets the key's row and
 * the resource in ONE statement (Auth.authenticateWith). This middleware sees such a route among
 * the request's matched handlers and leaves the authentication to it.
 */
export const auth = createMiddleware<ApiEnv>(async (c, next) => {
  const key = bearer(c);
  if (c.req.matchedRoutes.some((route) => FUSED.has(route.handler))) {
    c.set("apiKey", key ?? "");
    return next();
  }
  const result = key ? await Auth.authenticate(key) : undefined;
  const refused = admit(c, result);
  if (refused) return refused;
  await Actor.provide(actorOf(result!), () => next());
});

function bearer(c: Context<ApiEnv>): string | undefined {
  const header = requestHeader(c, "authorization");
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** The 401 or 429 answer for this authentication, or undefined when the request may go on. */
function admit(c: Context<ApiEnv>, result: Auth.Authenticated | undefined): Response | undefined {
  if (!result) return errorResponse(c, "unauthorized", "Invalid or missing API key");
  const limit = result.rateLimit;
  setHeader(c, "X-RateLimit-Limit", String(limit.limit));
  setHeader(c, "X-RateLimit-Remaining", String(limit.remaining));
  setHeader(c, "X-RateLimit-Reset", String(limit.reset));
  if (!limit.allowed) {
    setHeader(c, "Retry-After", String(limit.retryAfter));
    return errorResponse(c, "rate_limited", `Rate limit of ${limit.limit} requests per minute exceeded`);
  }
  c.set("workspaceId", result.workspaceId);
  c.set("keyId", result.keyId);
  return undefined;
}

const actorOf = (result: Auth.Authenticated): Actor.Actor => ({ type: "workspace", workspaceId: result.workspaceId, keyId: result.keyId });

const FUSED = new Set<unknown>();

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
  const values = new WeakMap<Context<ApiEnv>, T>();
  const middleware = createMiddleware<ApiEnv>(async (c, next) => {
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
      [result, rows] = [found?.auth, found?.rows ?? []];
    } else if (key) {
      result = await Auth.authenticate(key);
    }
    const refused = admit(c, result);
    if (refused) return refused;
    await Actor.provide(actorOf(result!), async () => {
      if (malformed !== undefined) throw malformed;
      values.set(c, await scoped!.decode(rows));
      await next();
    });
  });
  FUSED.add(middleware);
  return {
    middleware,
    value: (c) => {
      if (!values.has(c)) throw new Error("fused read used outside its route");
      return values.get(c)!;
    },
  };
}
