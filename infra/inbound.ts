import { prefix, settings } from "./config";
import { identity } from "./email";
import { INBOUND_PREFIX, inboundMail, sesInbound, sesInboundPolicy } from "./events";

/**
 * Replies, when REPLY_DOMAIN is set: SES receives the domain's mail (its MX record points at
 * `inbound-smtp.<region>.amazonaws.com`), stores each whole message in the `InboundMail` bucket
 * and notifies `SesInbound`; the webhook reads the message from the bucket, parses the whole
 * MIME and matches it to the email it answers. Through S3, a reply of any size (attachments up
 * to SES's 40 MB) and any charset arrives intact; an SNS action would cap it at 150 KB (larger
 * mail bounces back to the prospect) and re-encode it. Messages expire after
 * INBOUND_RETENTION_DAYS.
 *
 * SES has one active receipt rule set per account and region. Without INBOUND_RULE_SET this
 * stage creates its rule set and activates it (kept active on `sst remove`: removing a stage
 * never deactivates the account's receiving); with it, the stage only adds its rule to that
 * (active) rule set, so a second stage never takes receiving away from the first.
 */
export const inbound =
  settings.replyDomain && sesInbound && inboundMail
    ? (() => {
        const domain = settings.replyDomain;
        // SES receives only for verified domains; the sending domain's identity covers itself.
        const replyIdentity = domain === settings.emailDomain ? undefined : identity("ReplyIdentity", domain);
        const ruleSet = settings.inboundRuleSet
          ? undefined
          : new aws.ses.ReceiptRuleSet("InboundRuleSet", { ruleSetName: `${prefix}-inbound` }, { retainOnDelete: true });
        const ruleSetName = settings.inboundRuleSet ?? ruleSet!.ruleSetName;
        const rule = new aws.ses.ReceiptRule(
          "InboundReplies",
          {
            ruleSetName,
            name: `${prefix}-replies`,
            recipients: [domain],
            enabled: true,
            scanEnabled: true,
            // The whole message to S3, then a notification (without the content) to SesInbound.
            s3Actions: [{ bucketName: inboundMail.name, objectKeyPrefix: INBOUND_PREFIX, topicArn: sesInbound.arn, position: 1 }],
          },
          // SES checks at creation that it may write to the bucket and publish to the topic.
          { dependsOn: [inboundMail, ...(sesInboundPolicy ? [sesInboundPolicy] : [])] },
        );
        // Activated once, by the stage that owns the rule set; never deactivated by a removal.
        const active = ruleSet
          ? new aws.ses.ActiveReceiptRuleSet(
              "InboundActive",
              { ruleSetName: ruleSet.ruleSetName },
              { dependsOn: [rule], retainOnDelete: true },
            )
          : undefined;
        return { domain, replyIdentity, ruleSet, ruleSetName, rule, active };
      })()
    : undefined;
