import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { docs } from "./docs";
import type { ApiEnv } from "./env";
import { errorResponse, handleError } from "./errors";
import { auth } from "./middleware/auth";
import { requestContext } from "./middleware/request";
import { buildDocument } from "./openapi";
import { campaigns } from "./routes/campaigns";
import { contacts } from "./routes/contacts";
import { emailAccounts } from "./routes/email-accounts";
import { groups } from "./routes/groups";
import { outboundWebhooks } from "./routes/outbound-webhooks";
import { stats } from "./routes/stats";
import { suppressions } from "./routes/suppressions";
import { unsubscribe } from "./routes/unsubscribe";
import { webhooks } from "./routes/webhooks";

export const MAX_BODY_BYTES = 1024 * 1024;

// Not on GET: looking at a body makes @hono/node-server build a full Request, a cost every read would pay.
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => errorResponse(c, "payload_too_large", "Request body exceeds 1 MB"),
});

export interface AppOptions {
  /** Routes only local mode has (simulating SES events), mounted at /v1/local behind the key. */
  local?: Hono<ApiEnv>;
}

/**
 * The whole HTTP API: the same app runs in Lambda (functions/src/api.ts) and locally
 * (packages/local). Routes under /v1 need an API key except the OpenAPI document and the
 * unsubscribe links; the SNS webhooks authenticate by signature.
 */
export function createApp(options: AppOptions = {}) {
  const v1 = new Hono<ApiEnv>()
    // Each resource router is behind the API key; `/v1/openapi.json` is not. The key is checked
    // before the body's size, so a 413 to a known key carries its X-RateLimit-* headers (SPEC §1).
    .use("/contacts/*", auth)
    .use("/groups/*", auth)
    .use("/email-accounts/*", auth)
    .use("/campaigns/*", auth)
    .use("/suppressions/*", auth)
    .use("/webhooks/*", auth)
    .use((c, next) => (c.req.method === "GET" || c.req.method === "HEAD" ? next() : limitBody(c, next)))
    .route("/contacts", contacts)
    .route("/groups", groups)
    .route("/email-accounts", emailAccounts)
    .route("/campaigns", campaigns)
    .route("/campaigns", stats)
    .route("/suppressions", suppressions)
    .route("/webhooks", outboundWebhooks)
    .route("/unsubscribe", unsubscribe);
  if (options.local) v1.use("/local/*", auth).route("/local", options.local);

  const app = new Hono<ApiEnv>();
  app.use(requestContext);
  app.onError(handleError);
  app.notFound((c) => errorResponse(c, "not_found", `No route for ${c.req.method} ${c.req.path}`));
  app.route("/v1", v1);
  app.route("/webhooks", webhooks);
  app.route("/docs", docs);
  app.get("/v1/openapi.json", async (c) => c.json(await buildDocument(app)));
  app.get("/", (c) => c.redirect("/docs"));
  return app;
}

export type App = ReturnType<typeof createApp>;
