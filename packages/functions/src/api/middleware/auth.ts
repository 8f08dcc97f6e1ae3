import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "../env";
import { errorResponse } from "../errors";
import { setHeader } from "../respond";

/**
 * API key auth and the per-key rate limit, in one database round trip (Auth.authenticate).
 * The workspace goes into the actor context for the rest of the request.
 */
export const auth = createMiddleware<ApiEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header);
  const result = match ? await Auth.authenticate(match[1]!) : undefined;
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
  await Actor.provide({ type: "workspace", workspaceId: result.workspaceId, keyId: result.keyId }, () => next());
});
