import { Deliverer, Deliveries, Subscriptions } from "@fluenzr/core/webhook";
import type { Context } from "hono";
import { collection } from "../collection";
import { found, pathId } from "../ids";
import { body, operations, pageOf, query } from "../openapi";
import { ok, okPage } from "../respond";

/**
 * Outbound webhooks (`/v1/webhooks`): subscriptions, their secrets, their delivery log. The SNS
 * endpoints that receive SES's own notifications are routes/webhooks.ts (no API key, no /v1).
 */
const missing = "No webhook with this id in the workspace.";
/** The routes of one delivery: its path parameter and its 404. */
const delivery = {
  params: { deliveryId: { description: "The delivery's id (`whd_…`).", example: "whd_01jq0c9r4tab12cd34ef56ab78" } },
  data: "WebhookDeliveryWithPayload",
} as const;
const deliveryMissing = "No webhook with this id in the workspace, or no such delivery of it.";

const op = operations("Outbound webhooks", {
  getWebhook: {
    summary: "Get a webhook subscription",
    description: "With `disabledReason` when it was disabled (410 Gone, 24 hours of failures, or by hand).",
    data: "Webhook",
    errors: { 404: missing },
  },
  updateWebhook: {
    summary: "Update a webhook subscription",
    description: "Any of `url`, `events`, `description`, `enabled`. Enabling a disabled subscription clears its `disabledReason`.",
    data: "Webhook",
    body: true,
    errors: { 404: missing },
    requestExample: { url: "https://hooks.example.com/fluenzr/v2", events: ["*"], enabled: true },
  },
  deleteWebhook: {
    summary: "Delete a webhook subscription",
    description: "Its pending deliveries are dropped with it.",
    data: "Deleted",
    errors: { 404: missing },
  },
  rotateWebhookSecret: {
    summary: "Rotate a webhook's secret",
    description:
      "A new secret signs from now on; the previous one keeps signing for 24 hours (`previousSecretExpiresAt`), beside it: the signature header then carries one `sha256=` value per secret, comma-separated, newest first.",
    data: "WebhookRotated",
    errors: { 404: missing },
  },
  testWebhook: {
    summary: "Send a test event",
    description:
      "Delivers a `webhook.test` event to this subscription now and answers the attempt's outcome (status code, duration, error). The delivery is logged like any other (and retried if the endpoint failed with a 5xx).",
    data: "WebhookTestResult",
    errors: { 404: missing },
  },
  listWebhookDeliveries: {
    summary: "List a webhook's deliveries",
    description:
      "Newest first, filtered by `status` and `eventType`. `responseBodyPreview` is the first 1 KB of the endpoint's last answer.",
    ...pageOf("WebhookDelivery"),
    errors: { 404: missing },
  },
  getWebhookDelivery: {
    summary: "Get a delivery",
    description: "The delivery with the event as delivered (`payload`).",
    ...delivery,
    errors: { 404: deliveryMissing },
  },
  retryWebhookDelivery: {
    summary: "Redeliver now",
    description: "One more attempt now, whatever the delivery's status; answers the delivery after it.",
    ...delivery,
    errors: { 404: deliveryMissing, 409: "The webhook is disabled, or an attempt of this delivery is in flight." },
  },
});

const webhookId = (c: Context) => pathId(c, "webhook");
const deliveryId = (c: Context) => pathId(c, "webhookDelivery", "deliveryId");

export const outboundWebhooks = collection("Outbound webhooks", Subscriptions, {
  list: {
    operationId: "listWebhooks",
    summary: "List webhook subscriptions",
    description: "Newest first. Secrets are never listed.",
    data: "Webhook",
  },
  create: {
    operationId: "createWebhook",
    summary: "Subscribe a URL to events",
    description:
      'Events are POSTed to `url` as `{id, type, timestamp, workspaceId, data}`, signed: `X-FluenzR-Signature: sha256=<hex HMAC-SHA256(secret, "<X-FluenzR-Timestamp>.<raw body>")>`. `events` lists event types, or `"*"` for all; an unknown type is refused (400, naming it). The URL must be `https` and resolve to public addresses (local mode also allows `http://127.0.0.1` and `localhost`). The answer holds the `secret`, shown only here and on rotation. Honours `Idempotency-Key`.',
    data: "WebhookWithSecret",
    requestExample: { url: "https://hooks.example.com/fluenzr", events: ["email.replied", "email.bounced"], description: "CRM sync" },
  },
})
  .get("/:id", op.getWebhook, async (c) => ok(c, found(await Subscriptions.fromID(webhookId(c)), "webhook", c)))
  .put("/:id", op.updateWebhook, body(Subscriptions.updateSchema), async (c) =>
    ok(c, await Subscriptions.update(webhookId(c), c.req.valid("json"))),
  )
  .delete("/:id", op.deleteWebhook, async (c) => ok(c, await Subscriptions.remove(webhookId(c))))
  .post("/:id/rotate-secret", op.rotateWebhookSecret, async (c) => ok(c, await Subscriptions.rotateSecret(webhookId(c))))
  .post("/:id/test", op.testWebhook, async (c) => ok(c, await Deliverer.test(webhookId(c))))
  .get("/:id/deliveries", op.listWebhookDeliveries, query(Deliveries.listQuery), async (c) => {
    const id = webhookId(c);
    await Subscriptions.mustExist(id);
    return okPage(c, await Deliveries.list(id, c.req.valid("query")));
  })
  .get("/:id/deliveries/:deliveryId", op.getWebhookDelivery, async (c) => {
    const id = webhookId(c);
    return ok(c, await Deliveries.mustExist(id, deliveryId(c)));
  })
  .post("/:id/deliveries/:deliveryId/retry", op.retryWebhookDelivery, async (c) =>
    ok(c, await Deliverer.retry(webhookId(c), deliveryId(c))),
  );
