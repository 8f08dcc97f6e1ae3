import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import type { Scoped } from "@fluenzr/core/database";
import type { Context } from "hono";
import type { MiddlewareHandler, Next } from "hono/types";
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
export const auth: MiddlewareHandler<ApiEnv> = (c, next) => {
  const key = bearer(c);
  if (fusedRoute(c)) {
    c.set("apiKey", key ?? "");
    return next();
  }
  return authenticated(c, key, next);
};

async function authenticated(c: Context<ApiEnv>, key: string | undefined, next: Next): Promise<Response | undefined> {
  const result = key ? await Auth.authenticate(key) : undefined;
  const refused = admit(c, result);
  if (refused) return refused;
  await Actor.provide(actorOf(result!), next);
}

/** Does one of the request's matched handlers authenticate with its read (`fused`)? */
function fusedRoute(c: Context<ApiEnv>): boolean {
  for (const route of c.req.matchedRoutes) if (FUSED.has(route.handler)) return true;
  return false;
}

function bearer(c: Context<ApiEnv>): string | undefined {
  const header = requestHeader(c, "authorization");
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

/** The 401 or 429 answer for this authentication, or undefined when the request may go on. */
function admit(c: Context<ApiEnv>, result: Auth.Authenticated | undefined): Response | undefined {
  if (!result) return errorResponse(c, "unauthorized", "Invalid or missing API key");
  const limit = result.rateLimit;
  setHeader(c, "x-ratelimit-limit", String(limit.limit));
  setHeader(c, "x-ratelimit-remaining", String(limit.remaining));
  setHeader(c, "x-ratelimit-reset", String(limit.reset));
  if (!limit.allowed) {
    setHeader(c, "retry-after", String(limit.retryAfter));
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
