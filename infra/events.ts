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

/** The allowlist of topics the webhooks accept (`Resource.Tracking`). */
export const tracking = new sst.Linkable("Tracking", {
  properties: { topicArns: sesInbound ? [sesEvents.arn, sesInbound.arn] : [sesEvents.arn] },
});
