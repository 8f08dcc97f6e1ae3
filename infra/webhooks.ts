import { api } from "./api";
import { lambda } from "./config";
import { type sesEvents, sesInbound } from "./events";

/**
 * SNS → the API's webhooks, over HTTPS: received replies (`SesInbound`). SES's sending events go
 * through a queue instead (infra/ses-events.ts); `/webhooks/ses` still accepts them from this
 * app's topic, for an operator who subscribes it over HTTPS by hand. Raw message delivery stays off: it would drop the
 * signature the webhook verifies. The webhook confirms its own subscriptions (after verifying
 * the confirmation), and the deploy waits for each to be confirmed (5 minutes at most).
 *
 * SNS sends the confirmation once and retries it 3 times, 20 s apart (a 4xx is not retried): the
 * endpoint must be live when the subscription is created. So the subscriptions
 * - use the execute-api endpoint, live as soon as the API's stage is, never the custom domain
 *   (its certificate, mapping and DNS alias are separate resources that come later and take
 *   time to propagate; the webhooks accept the same notifications on either);
 * - wait for the whole API component (stage, route, integration, permission), and
 * - wait for `ApiReady`, which polls the endpoint until the app answers through API Gateway.
 */
export const apiEndpoint = api.nodes.api.apiEndpoint;

export const apiReadyProbe = new sst.aws.Function("ApiReady", {
  ...lambda,
  handler: "packages/functions/src/api-ready.handler",
  timeout: "5 minutes",
});

export const apiReady = $dev
  ? undefined
  : new aws.lambda.Invocation(
      "ApiReadyRun",
      {
        functionName: apiReadyProbe.name,
        input: $jsonStringify({ url: apiEndpoint }),
        // Probe on every deploy: subscriptions can be (re)created by any of them.
        triggers: { deployedAt: Date.now().toString() },
      },
      { dependsOn: [api] },
    );

function subscribe(name: string, topic: typeof sesEvents, path: string) {
  return new aws.sns.TopicSubscription(
    name,
    {
      topic: topic.arn,
      protocol: "https",
      endpoint: $interpolate`${apiEndpoint}${path}`,
      rawMessageDelivery: false,
      endpointAutoConfirms: true,
      confirmationTimeoutInMinutes: 5,
    },
    { dependsOn: apiReady ? [api, apiReady] : [api] },
  );
}

export const sesInboundWebhook = sesInbound ? subscribe("SesInboundWebhook", sesInbound, "/webhooks/ses-inbound") : undefined;
