/**
 * The event types a subscription can ask for (`*`: every one of them). A feature that emits a new
 * kind of event adds it here; the API validates subscriptions against this list.
 */
export const EVENT_TYPES = [
  "email.sent",
  "email.delivered",
  "email.opened",
  "email.clicked",
  "email.replied",
  "email.bounced",
  "email.complained",
  "email.unsubscribed",
  "campaign.started",
  "campaign.paused",
  "campaign.resumed",
  "campaign.completed",
  "email_account.paused",
  "email_account.resumed",
  "contact.created",
  "contact.updated",
  "contact.deleted",
  "webhook.test",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Activity event types (the feed's) that customers receive, as `email.<type>`. */
export const EMAIL_ACTIVITY = ["sent", "delivered", "opened", "clicked", "replied", "bounced", "complained", "unsubscribed"] as const;

/** Attempts: at once, then after these delays (a little jitter added); then the delivery has failed. */
export const RETRY_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** One attempt's limit: connecting, sending and the first bytes of the answer. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

/** A subscription failing without a single success this long, at least this many times, is disabled. */
export const DISABLE_AFTER_MS = 24 * 3600_000;
export const DISABLE_AFTER_FAILURES = 20;

/** At most this many attempts in flight to one subscription from one deliverer process. */
export const PER_ENDPOINT_CONCURRENCY = 8;

export const USER_AGENT = "FluenzR-Webhooks/1";
