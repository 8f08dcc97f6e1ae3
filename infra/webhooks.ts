import { apiRoute, apiUrl } from "./api";
import { sesEvents, sesInbound } from "./events";

/**
 * SNS → the API's webhooks, over HTTPS. Raw message delivery stays off: it would drop the
 * signature the webhook verifies. The webhook confirms its own subscriptions (after verifying
 * the confirmation), so the deploy waits for each to be confirmed; the subscriptions wait for
 * the API route to exist.
 */
function subscribe(name: string, topic: typeof sesEvents, path: string) {
  return new aws.sns.TopicSubscription(
    name,
    {
      topic: topic.arn,
      protocol: "https",
      endpoint: $interpolate`${apiUrl}${path}`,
      rawMessageDelivery: false,
      endpointAutoConfirms: true,
      confirmationTimeoutInMinutes: 5,
    },
    { dependsOn: [apiRoute] },
  );
}

export const sesEventsWebhook = subscribe("SesEventsWebhook", sesEvents, "/webhooks/ses");
export const sesInboundWebhook = sesInbound ? subscribe("SesInboundWebhook", sesInbound, "/webhooks/ses-inbound") : undefined;
