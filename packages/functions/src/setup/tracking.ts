import { Webhook } from "@fluenzr/core/tracking";
import { Resource } from "sst";

/** The SNS topics the webhooks accept (SES events, inbound mail): anything else is refused. */
export function installTracking(): void {
  Webhook.install({ topicArns: Resource.Tracking.topicArns });
}
