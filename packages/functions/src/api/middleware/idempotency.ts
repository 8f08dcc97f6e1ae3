import { createHash } from "node:crypto";
import { VisibleError } from "@fluenzr/core/error";
import * as Idempotency from "@fluenzr/core/idempotency";
import { createMiddleware } from "hono/factory";
import type { ApiEnv } from "../env";
import { json, setHeader } from "../respond";

const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Honour `Idempotency-Key` on writes that create or send: replay the stored response of a
 * repeated request, refuse the key reused for another request (409). Responses below 500 are
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
  const workspaceId = c.get("workspaceId");
  const body = await c.req.text();
  const hash = createHash("sha256").update(`${c.req.method} ${c.req.path}\n${body}`).digest("hex");
  const started = await Idempotency.begin(workspaceId, key, `${c.req.method} ${c.req.path}`, hash);
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
