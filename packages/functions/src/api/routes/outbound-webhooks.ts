import { notFound } from "@fluenzr/core/error";
import { Deliverer, Deliveries, Subscriptions } from "@fluenzr/core/webhook";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";

/**
 * Outbound webhooks (`/v1/webhooks`): subscriptions, their secrets, their delivery log. The SNS
 * endpoints that receive SES's own notifications are routes/webhooks.ts (no API key, no /v1).
 */
const tag = "Outbound webhooks";
const params = {
  deliveryId: { description: "The delivery's id (`whd_…`).", example: "whd_01jq0c9r4tab12cd34ef56ab78" },
};

export const outboundWebhooks = new Hono<ApiEnv>()
  .get(
    "/",
    doc({
      operationId: "listWebhooks",
      tag,
      summary: "List webhook subscriptions",
      description: "Newest first. Secrets are never listed.",
      data: "Webhook",
      paged: true,
    }),
    query(Subscriptions.listQuery),
    async (c) => okPage(c, await Subscriptions.list(c.req.valid("query"))),
  )
  .post(
    "/",
    doc({
      operationId: "createWebhook",
      tag,
      summary: "Subscribe a URL to events",
      description:
        'Events are POSTed to `url` as `{id, type, timestamp, workspaceId, data}`, signed: `X-FluenzR-Signature: sha256=<hex HMAC-SHA256(secret, "<X-FluenzR-Timestamp>.<raw body>")>`. `events` lists event types, or `"*"` for all; an unknown type is refused (400, naming it). The URL must be `https` and resolve to public addresses (local mode also allows `http://127.0.0.1` and `localhost`). The answer holds the `secret`, shown only here and on rotation. Honours `Idempotency-Key`.',
      data: "WebhookWithSecret",
      status: 201,
      body: true,
      idempotent: true,
      errors: { 409: "The `Idempotency-Key` was used for another request." },
      requestExample: { url: "https://hooks.example.com/fluenzr", events: ["email.replied", "email.bounced"], description: "CRM sync" },
    }),
    idempotent,
    body(Subscriptions.createSchema),
    async (c) => ok(c, await Subscriptions.create(c.req.valid("json")), 201),
  )
  .get(
    "/:id",
    doc({
      operationId: "getWebhook",
      tag,
      summary: "Get a webhook subscription",
      description: "With `disabledReason` when it was disabled (410 Gone, 24 hours of failures, or by hand).",
      data: "Webhook",
      errors: { 404: "No webhook with this id in the workspace." },
    }),
    async (c) => {
      const id = pathId(c, "webhook");
      const found = await Subscriptions.fromID(id);
      if (!found) throw notFound("Webhook", id);
      return ok(c, found);
    },
  )
  .put(
    "/:id",
    doc({
      operationId: "updateWebhook",
      tag,
      summary: "Update a webhook subscription",
      description: "Any of `url`, `events`, `description`, `enabled`. Enabling a disabled subscription clears its `disabledReason`.",
      data: "Webhook",
      body: true,
      errors: { 404: "No webhook with this id in the workspace." },
      requestExample: { url: "https://hooks.example.com/fluenzr/v2", events: ["*"], enabled: true },
    }),
    body(Subscriptions.updateSchema),
    async (c) => ok(c, await Subscriptions.update(pathId(c, "webhook"), c.req.valid("json"))),
  )
  .delete(
    "/:id",
    doc({
      operationId: "deleteWebhook",
      tag,
      summary: "Delete a webhook subscription",
      description: "Its pending deliveries are dropped with it.",
      data: "Deleted",
      example: { id: "whk_01jq0c7k2dab12cd34ef56ab78", deleted: true },
      errors: { 404: "No webhook with this id in the workspace." },
    }),
    async (c) => ok(c, await Subscriptions.remove(pathId(c, "webhook"))),
  )
  .post(
    "/:id/rotate-secret",
    doc({
      operationId: "rotateWebhookSecret",
      tag,
      summary: "Rotate a webhook's secret",
      description:
        "A new secret signs from now on; the previous one keeps signing for 24 hours (`previousSecretExpiresAt`), beside it: the signature header then carries one `sha256=` value per secret, comma-separated, newest first.",
      data: "WebhookRotated",
      errors: { 404: "No webhook with this id in the workspace." },
    }),
    async (c) => ok(c, await Subscriptions.rotateSecret(pathId(c, "webhook"))),
  )
  .post(
    "/:id/test",
    doc({
      operationId: "testWebhook",
      tag,
      summary: "Send a test event",
      description:
        "Delivers a `webhook.test` event to this subscription now and answers the attempt's outcome (status code, duration, error). The delivery is logged like any other (and retried if the endpoint failed with a 5xx).",
      data: "WebhookTestResult",
      errors: { 404: "No webhook with this id in the workspace." },
    }),
    async (c) => ok(c, await Deliverer.test(pathId(c, "webhook"))),
  )
  .get(
    "/:id/deliveries",
    doc({
      operationId: "listWebhookDeliveries",
      tag,
      summary: "List a webhook's deliveries",
      description:
        "Newest first, filtered by `status` and `eventType`. `responseBodyPreview` is the first 1 KB of the endpoint's last answer.",
      data: "WebhookDelivery",
      paged: true,
      errors: { 404: "No webhook with this id in the workspace." },
    }),
    query(Deliveries.listQuery),
    async (c) => {
      const id = pathId(c, "webhook");
      await Subscriptions.mustExist(id);
      return okPage(c, await Deliveries.list(id, c.req.valid("query")));
    },
  )
  .get(
    "/:id/deliveries/:deliveryId",
    doc({
      operationId: "getWebhookDelivery",
      tag,
      summary: "Get a delivery",
      description: "The delivery with the event as delivered (`payload`).",
      data: "WebhookDeliveryWithPayload",
      params,
      errors: { 404: "No webhook with this id in the workspace, or no such delivery of it." },
    }),
    async (c) => {
      const id = pathId(c, "webhook");
      return ok(c, await Deliveries.mustExist(id, pathId(c, "webhookDelivery", "deliveryId")));
    },
  )
  .post(
    "/:id/deliveries/:deliveryId/retry",
    doc({
      operationId: "retryWebhookDelivery",
      tag,
      summary: "Redeliver now",
      description: "One more attempt now, whatever the delivery's status; answers the delivery after it.",
      data: "WebhookDeliveryWithPayload",
      params,
      errors: {
        404: "No webhook with this id in the workspace, or no such delivery of it.",
        409: "The webhook is disabled, or an attempt of this delivery is in flight.",
      },
    }),
    async (c) => ok(c, await Deliverer.retry(pathId(c, "webhook"), pathId(c, "webhookDelivery", "deliveryId"))),
  );
