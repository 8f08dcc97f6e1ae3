import { Sns, Webhook } from "@fluenzr/core/tracking";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ApiEnv } from "../env";
import { errorResponse } from "../errors";
import { doc } from "../openapi";
import { json } from "../respond";

/**
 * SNS deliveries (no API key: the SNS signature authenticates them). SNS posts JSON as
 * text/plain, so the raw body is read and verified before anything in it is used.
 */
const tag = "Webhooks";

const handler = (source: "ses-events" | "ses-inbound") => async (c: Context<ApiEnv>) => {
  const raw = await c.req.text();
  try {
    const result = await Webhook.handle(raw, c.req.header("x-amz-sns-message-type"), source);
    return json(c, { success: true as const, data: result });
  } catch (error) {
    if (error instanceof Sns.SnsVerificationError) return errorResponse(c, "forbidden", `SNS message rejected: ${error.message}`);
    throw error;
  }
};

export const webhooks = new Hono<ApiEnv>()
  .use(bodyLimit({ maxSize: 1024 * 1024, onError: (c) => errorResponse(c, "payload_too_large", "Request body exceeds 1 MB") }))
  .post(
    "/ses",
    doc({
      operationId: "receiveSesEvents",
      tag,
      public: true,
      body: true,
      errors: { 403: "The SNS signature does not verify, or the topic is not this deployment's." },
      summary: "SES events through SNS",
      description:
        "Signed SNS notifications of SES events (send, delivery, open, click, bounce, complaint, ...). Anything not verified: 403.",
      data: "WebhookResult",
    }),
    handler("ses-events"),
  )
  .post(
    "/ses-inbound",
    doc({
      operationId: "receiveSesInbound",
      tag,
      public: true,
      body: true,
      errors: { 403: "The SNS signature does not verify, or the topic is not this deployment's." },
      summary: "Replies through SES inbound and SNS",
      description: "Signed SNS notifications of received mail (replies).",
      data: "WebhookResult",
    }),
    handler("ses-inbound"),
  );
