import { randomUUID } from "node:crypto";
import * as Log from "@fluenzr/core/log";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "../env";
import { applyHeaders, requestHeader, setHeader } from "../respond";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id (the caller's `X-Request-Id` when sane, else a new one), echoed in the response,
 * and one structured access-log line per request. The line has the path but not the query
 * string (it can hold emails) and never a header: keys stay out of logs.
 */
export const requestContext = createMiddleware<ApiEnv>(async (c, next) => {
  const incoming = requestHeader(c, "x-request-id");
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  c.set("requestId", requestId);
  setHeader(c, "X-Request-Id", requestId);
  const started = performance.now();
  await next();
  applyHeaders(c);
  if (!Log.enabled("info")) return;
  Log.info("request", {
    requestId,
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    workspaceId: c.get("workspaceId"),
  });
});
