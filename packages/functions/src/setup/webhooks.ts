import { DeliveryQueue } from "@fluenzr/core/webhook";
import { sqsDeliveryQueue } from "@fluenzr/core/webhook/sqs";
import { Resource } from "sst";

/** Where outbound webhook deliveries are queued (infra/outbound-webhooks.ts): every function that emits events. */
export function installWebhooks(): void {
  DeliveryQueue.install(sqsDeliveryQueue(Resource.WebhookQueue.url));
}
