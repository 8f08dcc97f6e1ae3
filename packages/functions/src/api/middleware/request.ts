import { randomUUID } from "node:crypto";
import * as Log from "@fluenzr/core/log";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "../env";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id (the caller's `X-Request-Id` when sane, else a new one), echoed in the response,
 * and one structured access-log line per request. The line has the path but not the query
 * string (it can hold emails) and never a header: keys stay out of logs.
 */
export const requestContext = createMiddleware<ApiEnv>(async (c, next) => {
  const incoming = c.req.header("x-request-id");
  const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  c.set("requestId", requestId);
  // Before next(): set on a finished response, a header makes Hono copy the response, and the
  // node adapter then streams its body in several writes instead of one.
  c.header("X-Request-Id", requestId);
  const started = performance.now();
  await next();
  if (!Log.enabled("info")) return;
  Log.info("request", {
    requestId,
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    workspaceId: c.var.workspaceId,
  });
});
