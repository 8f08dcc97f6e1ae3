import * as Log from "../log";
import { applyInbound, type InboundResult } from "./replies";
import { type Applied, applySesEvent } from "./ses-events";
import * as Sns from "./sns";

/**
 * The SNS side of the webhooks: authenticate, confirm our own subscriptions, and hand what SES
 * published to the event handling. Configured at start-up with the topics we subscribed
 * (infra/tracking.ts links them) and how to fetch certificates.
 */
export interface WebhookConfig {
  topicArns: string[];
  fetchCertificate?: Sns.CertificateFetcher;
  /** GET a subscription URL (confirmation). */
  confirm?: (url: string) => Promise<void>;
  now?: () => number;
}

let config: WebhookConfig = { topicArns: [] };

export function install(next: WebhookConfig): void {
  config = next;
}

export type WebhookResult =
  | { kind: "confirmed"; topicArn: string }
  | { kind: "unsubscribed"; topicArn: string }
  | { kind: "event"; result: Applied | InboundResult };

/**
 * Handle one SNS HTTPS delivery. Throws `Sns.SnsVerificationError` when it does not check out
 * (the route answers 403 and nothing was written).
 */
export async function handle(
  rawBody: string,
  messageTypeHeader: string | undefined,
  source: "ses-events" | "ses-inbound",
): Promise<WebhookResult> {
  const message = await Sns.verify(rawBody, messageTypeHeader, {
    topicArns: new Set(config.topicArns),
    fetchCertificate: config.fetchCertificate ?? Sns.fetchCertificate,
    now: config.now,
  });
  if (message.Type === "SubscriptionConfirmation") {
    await Sns.confirmSubscription(message, config.confirm ?? Sns.httpGet);
    Log.info("SNS subscription confirmed", { topicArn: message.TopicArn, source });
    return { kind: "confirmed", topicArn: message.TopicArn };
  }
  if (message.Type === "UnsubscribeConfirmation") {
    Log.warn("SNS unsubscribed this endpoint", { topicArn: message.TopicArn, source });
    return { kind: "unsubscribed", topicArn: message.TopicArn };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(message.Message);
  } catch {
    Log.warn("SNS notification whose Message is not JSON; acknowledged", { topicArn: message.TopicArn });
    return { kind: "event", result: "ignored" };
  }
  const result = source === "ses-inbound" ? await applyInbound(payload) : await applySesEvent(payload);
  return { kind: "event", result };
}
