import { prefix, settings } from "./config";
import { sesInbound, sesInboundPolicy } from "./events";

/**
 * Replies, when REPLY_DOMAIN is set: SES receives the domain's mail (its MX record points at
 * `inbound-smtp.<region>.amazonaws.com`) and publishes each message to `SesInbound`, whose
 * webhook matches it to the email it answers. SES allows one active receipt rule set per
 * account and region: activating this one deactivates any other.
 */
export const inbound =
  settings.replyDomain && sesInbound
    ? (() => {
        const domain = settings.replyDomain;
        // SES receives only for verified domains; the sending domain's identity covers itself.
        const identity =
          domain === settings.emailDomain ? undefined : new aws.sesv2.EmailIdentity("ReplyIdentity", { emailIdentity: domain });
        const ruleSet = new aws.ses.ReceiptRuleSet("InboundRuleSet", { ruleSetName: `${prefix}-inbound` });
        const rule = new aws.ses.ReceiptRule(
          "InboundReplies",
          {
            ruleSetName: ruleSet.ruleSetName,
            name: `${prefix}-replies`,
            recipients: [domain],
            enabled: true,
            scanEnabled: true,
            // The whole message (up to 150 KB) inside the notification, as text.
            snsActions: [{ topicArn: sesInbound.arn, position: 1, encoding: "UTF-8" }],
          },
          { dependsOn: sesInboundPolicy ? [sesInboundPolicy] : [] },
        );
        const active = new aws.ses.ActiveReceiptRuleSet("InboundActive", { ruleSetName: ruleSet.ruleSetName }, { dependsOn: [rule] });
        return { domain, identity, ruleSet, rule, active };
      })()
    : undefined;
