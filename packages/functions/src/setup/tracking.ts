import { InboundMail, Webhook } from "@fluenzr/core/tracking";
import { Resource } from "sst";
import { s3MailReader } from "./inbound-mail";

/**
 * The SNS topics the webhooks accept (SES events, inbound mail): anything else is refused; and
 * where received replies are stored (the inbound bucket, when REPLY_DOMAIN is deployed).
 */
export function installTracking(): void {
  Webhook.install({ topicArns: Resource.Tracking.topicArns });
  const bucket = Resource.Tracking.inboundBucket;
  InboundMail.install(bucket ? s3MailReader(bucket) : undefined);
}
