import { settings } from "./config";

/**
 * The SNS topics SES publishes to: `SesEvents` (send, delivery, bounce, complaint, open, click,
 * ... from the configuration sets, infra/email.ts) and, when replies are received, `SesInbound`
 * (infra/inbound.ts). The API's webhooks are subscribed to them (infra/webhooks.ts) and accept
 * only these topics (`Resource.Tracking.topicArns`).
 */
const caller = aws.getCallerIdentityOutput({});

export const sesEvents = new sst.aws.SnsTopic("SesEvents");

/** Let SES (of this account only) publish to a topic. */
function allowSesToPublish(name: string, topic: typeof sesEvents) {
  return new aws.sns.TopicPolicy(`${name}Policy`, {
    arn: topic.arn,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AllowSesPublish",
          Effect: "Allow",
          Principal: { Service: "ses.amazonaws.com" },
          Action: "SNS:Publish",
          Resource: topic.arn,
          Condition: { StringEquals: { "AWS:SourceAccount": caller.accountId } },
        },
      ],
    }),
  });
}

export const sesEventsPolicy = allowSesToPublish("SesEvents", sesEvents);

export const sesInbound = settings.replyDomain ? new sst.aws.SnsTopic("SesInbound") : undefined;
export const sesInboundPolicy = sesInbound ? allowSesToPublish("SesInbound", sesInbound) : undefined;

/** Received replies, whole (infra/inbound.ts): SES writes them, the webhook reads them. */
export const inboundMail = settings.replyDomain
  ? new sst.aws.Bucket("InboundMail", {
      lifecycle: [{ id: "expire-inbound", expiresIn: `${settings.inboundRetentionDays} days` }],
      policy: [
        {
          effect: "allow",
          principals: [{ type: "service", identifiers: ["ses.amazonaws.com"] }],
          actions: ["s3:PutObject"],
          conditions: [{ test: "StringEquals", variable: "AWS:SourceAccount", values: [caller.accountId] }],
        },
      ],
    })
  : undefined;

/** Key prefix of received messages in the bucket. */
export const INBOUND_PREFIX = "inbound/";

/**
 * What the webhooks need (`Resource.Tracking`): the allowlist of topics they accept, and the
 * bucket holding received replies ("" without REPLY_DOMAIN); linking it grants reading them.
 */
export const tracking = new sst.Linkable("Tracking", {
  properties: {
    topicArns: sesInbound ? [sesEvents.arn, sesInbound.arn] : [sesEvents.arn],
    inboundBucket: inboundMail ? inboundMail.name : "",
  },
  include: inboundMail
    ? [sst.aws.permission({ actions: ["s3:GetObject"], resources: [$interpolate`${inboundMail.arn}/${INBOUND_PREFIX}*`] })]
    : [],
});
