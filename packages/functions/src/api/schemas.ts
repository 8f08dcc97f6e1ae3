import { EVENT_TYPES } from "@fluenzr/core/activity";
import { CAMPAIGN_CONTACT_STATUSES, CAMPAIGN_STATUSES } from "@fluenzr/core/campaign";
import { CONTACT_STATUSES } from "@fluenzr/core/contact";
import { EMAIL_ACCOUNT_STATUSES } from "@fluenzr/core/email-account";
import { DAYS, TIMEZONE_MODES } from "@fluenzr/core/schedule";
import { SUPPRESSION_REASONS } from "@fluenzr/core/suppression";
import * as Workflow from "@fluenzr/core/workflow";
import * as v from "valibot";

/** Shapes of what the API answers, for the OpenAPI document (requests use the domain's schemas). */

const timestamp = v.pipe(v.string(), v.isoTimestamp());
const nullableText = v.nullable(v.string());
/** Counters and indexes. */
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
/** Percentages with one decimal. */
const rate = v.pipe(v.number(), v.minValue(0), v.maxValue(100));

export const Contact = v.object({
  id: v.string(),
  email: v.string(),
  firstName: nullableText,
  lastName: nullableText,
  company: nullableText,
  jobTitle: nullableText,
  phone: nullableText,
  website: nullableText,
  status: v.picklist(CONTACT_STATUSES),
  groups: v.array(v.object({ id: v.string(), name: v.string() })),
  tags: v.array(v.string()),
  customFields: v.record(v.string(), v.union([v.string(), v.number(), v.boolean()])),
  timezone: v.pipe(
    v.nullable(v.string()),
    v.description("IANA timezone; campaigns in `contact` timezone mode send in it (null: the campaign's timezone)"),
  ),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const Deleted = v.object({
  id: v.string(),
  deleted: v.literal(true),
  erased: v.pipe(v.optional(v.literal(true)), v.description("Present when a contact was deleted with `erase=true`")),
});

/** A bulk import's invalid row: why, field by field (paths name the row: `entries[3].email`). */
const ROW_ERROR = {
  code: v.literal("VALIDATION_ERROR"),
  message: v.string(),
  details: v.array(v.object({ path: v.string(), message: v.string() })),
};

export const BulkResult = v.object({
  created: count,
  updated: count,
  skipped: count,
  errors: v.array(v.object({ index: count, email: v.optional(v.string()), ...ROW_ERROR })),
});

export const Group = v.object({
  id: v.string(),
  name: v.string(),
  description: nullableText,
  contactCount: count,
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const MembershipResult = v.object({
  added: count,
  skipped: count,
  errors: v.array(v.object({ id: v.string(), code: v.literal("NOT_FOUND") })),
});

export const EnrolmentResult = v.object({
  ...MembershipResult.entries,
  skippedContacts: v.pipe(
    v.optional(v.array(v.object({ id: v.string(), reason: v.picklist(["already_enrolled", "unsubscribed", "bounced", "complained"]) }))),
    v.description(
      "Only when `contactIds` were given and some were skipped: each skipped contact and why. A contact whose address is on the suppression list has the status the list gave it (unsubscribed, bounced or complained).",
    ),
  ),
});

const pausedReasonObject = v.object({
  code: v.picklist(["BOUNCE_RATE", "COMPLAINT_RATE"]),
  rate: v.pipe(v.number(), v.description("The rate that crossed the limit, in percent of the window's sent emails.")),
  threshold: v.pipe(v.number(), v.description("The setting it exceeded (`maxBounceRate` or `maxComplaintRate`).")),
  at: timestamp,
});

const AccountPausedReason = v.pipe(
  pausedReasonObject,
  v.description(
    "Only while paused: why the deliverability guard paused the account (its rate over its last 200 sent emails across campaigns); cleared by resume, which starts a new window.",
  ),
  v.metadata({ examples: [{ code: "COMPLAINT_RATE", rate: 0.5, threshold: 0.3, at: "2025-01-20T10:42:00.000Z" }] }),
);

export const EmailAccount = v.object({
  id: v.string(),
  email: v.string(),
  name: v.string(),
  replyTo: nullableText,
  dailyLimit: count,
  warmup: v.pipe(
    v.object({
      enabled: v.boolean(),
      startPerDay: count,
      incrementPerDay: count,
      startedAt: v.pipe(v.nullable(timestamp), v.description("When warm-up was turned on: its day 0 (UTC days); null while off.")),
    }),
    v.description("While enabled, the day's cap is min(dailyLimit, startPerDay + incrementPerDay × UTC days since startedAt)."),
  ),
  minSecondsBetweenEmails: v.pipe(count, v.description("At least this many seconds between two emails of the account, across campaigns.")),
  maxBounceRate: v.pipe(
    v.number(),
    v.description(
      "Percent of hard bounces over the account's last 200 sent emails, across all its campaigns (once 20 were sent), that pauses the account. Default 5.",
    ),
  ),
  maxComplaintRate: v.pipe(
    v.number(),
    v.description(
      "Percent of complaints over the account's last 200 sent emails (once 20 were sent) that pauses the account. Default 0.3.",
    ),
  ),
  status: v.pipe(v.picklist(EMAIL_ACCOUNT_STATUSES), v.description("The SES identity's verification.")),
  sendingStatus: v.pipe(
    v.picklist(["active", "paused"]),
    v.description(
      "`paused`: the deliverability guard stopped the account (see `pausedReason`); it sends nothing in any campaign until `POST /email-accounts/{id}/resume`.",
    ),
  ),
  pausedReason: v.optional(AccountPausedReason),
  createdAt: timestamp,
  updatedAt: timestamp,
  today: v.pipe(
    v.optional(v.object({ sent: count, cap: count, remaining: count })),
    v.description(
      "Only on `GET /email-accounts/:id`: emails reserved since 00:00 UTC across all campaigns, the day's cap (daily limit or warm-up), and what is left.",
    ),
  ),
});

export const Removed = v.object({ removed: count });

const ContactExportEmail = v.object({
  messageId: v.string(),
  campaignId: v.string(),
  nodeId: v.string(),
  to: v.string(),
  subject: v.string(),
  status: v.string(),
  sentAt: v.nullable(timestamp),
  deliveredAt: v.nullable(timestamp),
  openedAt: v.nullable(timestamp),
  clickedAt: v.nullable(timestamp),
  repliedAt: v.nullable(timestamp),
  bouncedAt: v.nullable(timestamp),
  complainedAt: v.nullable(timestamp),
  unsubscribedAt: v.nullable(timestamp),
});

export const Suppression = v.object({
  id: v.string(),
  email: v.pipe(
    nullableText,
    v.description("The address (null for a domain entry, and once the address was erased: the entry then matches by its hash)"),
  ),
  domain: v.pipe(nullableText, v.description("A domain: every address at it is suppressed (null for an address entry)")),
  reason: v.picklist(SUPPRESSION_REASONS),
  note: nullableText,
  source: v.pipe(
    v.nullable(v.object({ campaignId: v.string(), messageId: nullableText })),
    v.description("The campaign and email whose bounce, complaint or unsubscribe added it; null for other entries"),
  ),
  createdAt: timestamp,
});

export const ContactExport = v.object({
  contact: Contact,
  campaigns: v.array(
    v.object({ campaignId: v.string(), name: v.string(), status: v.string(), currentNodeId: nullableText, addedAt: timestamp }),
  ),
  emails: v.array(ContactExportEmail),
  events: v.array(
    v.object({
      id: v.string(),
      type: v.string(),
      campaignId: v.string(),
      messageId: nullableText,
      occurredAt: timestamp,
      metadata: v.record(v.string(), v.unknown()),
    }),
  ),
  suppressions: v.array(Suppression),
});

export const SuppressionBulkResult = v.object({
  created: count,
  skipped: v.pipe(count, v.description("Already on the list, or given twice in the request")),
  errors: v.array(v.object({ index: count, ...ROW_ERROR })),
});

const Settings = v.object({
  sendDays: v.array(v.picklist(DAYS)),
  sendHoursStart: count,
  sendHoursEnd: count,
  timezone: v.string(),
  maxEmailsPerHour: count,
  timezoneMode: v.pipe(
    v.picklist(TIMEZONE_MODES),
    v.description(
      "`campaign` (default): every contact's window and business days in the campaign's timezone; `contact`: in each contact's own timezone, the campaign's for contacts without one",
    ),
  ),
  maxBounceRate: v.pipe(
    v.number(),
    v.description("Percent of hard bounces over the last 200 sent emails (once 20 were sent) that pauses the campaign. Default 5."),
  ),
  maxComplaintRate: v.pipe(
    v.number(),
    v.description("Percent of complaints over the last 200 sent emails (once 20 were sent) that pauses the campaign. Default 0.3."),
  ),
  stopOnCompanyReply: v.pipe(
    v.boolean(),
    v.description(
      "A human reply from a contact of domain D stops every other contact of D in the campaign (each with a `stopped` activity event naming the reply). Free-mail domains (gmail.com, outlook.com, ...) never count as a company. Default false.",
    ),
  ),
});

const PausedReason = v.pipe(
  pausedReasonObject,
  v.description("Why the deliverability guard paused the campaign; cleared by `resume`, which starts a new window of 200 emails."),
  v.metadata({ examples: [{ code: "BOUNCE_RATE", rate: 9.09, threshold: 5, at: "2025-01-20T10:42:00.000Z" }] }),
);

/** The seed's counters of a campaign (also per timeline bucket). */
const COUNTERS = {
  sent: count,
  delivered: count,
  opened: count,
  clicked: count,
  replied: count,
  bounced: count,
  unsubscribed: count,
};

const Stats = v.object({ totalContacts: count, ...COUNTERS });

export const Campaign = v.object({
  id: v.string(),
  name: v.string(),
  description: nullableText,
  status: v.picklist(CAMPAIGN_STATUSES),
  emailAccountId: v.pipe(v.string(), v.description("The first of `emailAccountIds`.")),
  emailAccountIds: v.pipe(v.array(v.string()), v.description("The accounts the campaign sends from (1–50), in order.")),
  settings: Settings,
  stats: Stats,
  workflow: v.optional(v.nullable(Workflow.schema)),
  pauseReason: v.optional(v.string()),
  pausedReason: v.optional(PausedReason),
  createdAt: timestamp,
  startedAt: v.nullable(timestamp),
  updatedAt: timestamp,
  completedAt: v.optional(timestamp),
  archivedAt: v.optional(timestamp),
});

export const CampaignContact = v.object({
  contactId: v.string(),
  email: v.string(),
  firstName: nullableText,
  lastName: nullableText,
  status: v.picklist(CAMPAIGN_CONTACT_STATUSES),
  currentNodeId: nullableText,
  nextSendAt: v.nullable(timestamp),
  lastSentAt: v.nullable(timestamp),
  sending: v.pipe(
    v.nullable(v.object({ messageId: v.string(), nodeId: v.string(), since: timestamp })),
    v.description(
      "The email of the current step when SES's answer is not known yet (the sender stopped around the SES call): settled as sent by SES's Send event, or as never sent by evidence, after which it is sent once. Null otherwise.",
    ),
  ),
  error: nullableText,
  addedAt: timestamp,
  updatedAt: timestamp,
});

export const ReplyReported = v.object({ recorded: v.boolean(), messageId: v.string() });

export const CampaignStats = v.object({
  totalContacts: count,
  sent: count,
  delivered: count,
  opened: count,
  openRate: rate,
  clicked: count,
  clickRate: rate,
  replied: count,
  replyRate: rate,
  bounced: count,
  bounceRate: rate,
  unsubscribed: count,
  unsubscribeRate: rate,
});

export const EmailStats = v.object({
  nodeId: v.string(),
  emailNumber: count,
  subject: v.string(),
  ...v.pick(CampaignStats, ["sent", "opened", "openRate", "clicked", "clickRate", "replied", "replyRate"]).entries,
});

export const AccountStats = v.object({
  emailAccountId: v.string(),
  email: v.string(),
  ...v.pick(CampaignStats, ["sent", "delivered", "bounced", "bounceRate", "replied", "replyRate"]).entries,
  todaySent: v.pipe(count, v.description("The account's emails since 00:00 UTC, across all campaigns.")),
  todayCap: v.pipe(count, v.description("The account's cap for today: its daily limit, or the warm-up's.")),
});

export const TimelinePoint = v.object({ date: v.string(), ...COUNTERS });

export const ActivityEvent = v.object({
  id: v.string(),
  type: v.picklist(EVENT_TYPES),
  contactId: v.string(),
  contactEmail: nullableText,
  emailNodeId: nullableText,
  messageId: v.pipe(nullableText, v.description("The email (`msg_…`) the event is about; null for events not tied to one")),
  timestamp,
  metadata: v.record(v.string(), v.unknown()),
});

/** Event feeds: `total`/`totalPages` only while the count is cheap; `nextCursor` for keyset paging. */
/** Paging of lists. */
export const PageMeta = v.object({ page: count, perPage: count, total: count, totalPages: count });

export const Webhook = v.object({
  id: v.string(),
  url: v.string(),
  events: v.array(v.string()),
  description: nullableText,
  enabled: v.boolean(),
  disabledReason: v.pipe(nullableText, v.description("Why it was disabled (410 Gone, 24 hours of failures, by hand); null while enabled")),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const WebhookWithSecret = v.object({
  ...Webhook.entries,
  secret: v.pipe(v.string(), v.description("`whsec_…`: signs every delivery. Shown only at creation and on rotation")),
});

export const WebhookRotated = v.object({
  ...WebhookWithSecret.entries,
  previousSecretExpiresAt: v.pipe(timestamp, v.description("Until then the previous secret signs too")),
});

export const WebhookTestResult = v.object({
  deliveryId: v.string(),
  eventId: v.string(),
  success: v.boolean(),
  statusCode: v.pipe(
    v.nullable(count),
    v.description("The endpoint's status; null when there was none (refused, timeout, connection error)"),
  ),
  durationMs: count,
  error: nullableText,
});

export const WebhookDelivery = v.object({
  id: v.string(),
  eventId: v.string(),
  eventType: v.string(),
  status: v.picklist(["pending", "succeeded", "failed"]),
  attempts: count,
  lastStatusCode: v.nullable(count),
  lastError: nullableText,
  lastDurationMs: v.nullable(count),
  nextAttemptAt: v.pipe(v.nullable(timestamp), v.description("When the next attempt is due; null once succeeded or failed")),
  createdAt: timestamp,
  deliveredAt: v.nullable(timestamp),
  responseBodyPreview: v.pipe(nullableText, v.description("The first 1 KB of the endpoint's last answer")),
});

export const WebhookDeliveryWithPayload = v.object({
  ...WebhookDelivery.entries,
  payload: v.pipe(v.record(v.string(), v.unknown()), v.description("The event as delivered: `{id, type, timestamp, workspaceId, data}`")),
});

/** What a webhook delivery did. */
export const WebhookResult = v.object({
  kind: v.picklist(["confirmed", "unsubscribed", "event"]),
  result: v.optional(v.string()),
  topicArn: v.optional(v.string()),
});

export const FeedMeta = v.object({
  page: count,
  perPage: count,
  total: v.optional(count),
  totalPages: v.optional(count),
  nextCursor: v.nullable(v.string()),
});

/**
 * The domain declares what it returns as TypeScript types; the API document needs them as
 * schemas. Both exist, so the type-check holds them equal: a field added, removed or retyped on
 * one side and not the other fails `npm run typecheck` here (timestamps are `Date` in the domain,
 * ISO strings on the wire).
 */
type Wire<T> = T extends Date ? string : T extends readonly (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<_ extends true>() {}
same<Same<Wire<import("@fluenzr/core/campaign").Campaign>, v.InferOutput<typeof Campaign>>>();
same<Same<Wire<import("@fluenzr/core/contact").Contact>, v.InferOutput<typeof Contact>>>();
same<Same<Wire<import("@fluenzr/core/group").Group>, v.InferOutput<typeof Group>>>();
same<Same<Wire<import("@fluenzr/core/email-account").EmailAccount>, v.InferOutput<typeof EmailAccount>>>();
same<Same<Wire<import("@fluenzr/core/stats").GlobalStats>, v.InferOutput<typeof CampaignStats>>>();
same<Same<Wire<import("@fluenzr/core/stats").EmailStats>, v.InferOutput<typeof EmailStats>>>();
same<Same<Wire<import("@fluenzr/core/sending").AccountStats.AccountStats>, v.InferOutput<typeof AccountStats>>>();
same<Same<Wire<import("@fluenzr/core/stats").TimelinePoint>, v.InferOutput<typeof TimelinePoint>>>();
same<Same<Wire<import("@fluenzr/core/suppression").Entry>, v.InferOutput<typeof Suppression>>>();
same<Same<Wire<import("@fluenzr/core/privacy").ContactExport>, v.InferOutput<typeof ContactExport>>>();
same<Same<Wire<import("@fluenzr/core/privacy").Suppressions.BulkResult>, v.InferOutput<typeof SuppressionBulkResult>>>();
same<Same<Wire<import("@fluenzr/core/webhook").Subscriptions.Subscription>, v.InferOutput<typeof Webhook>>>();
same<Same<Wire<import("@fluenzr/core/webhook").Subscriptions.Rotated>, v.InferOutput<typeof WebhookRotated>>>();
same<Same<Wire<import("@fluenzr/core/webhook").Deliverer.TestResult>, v.InferOutput<typeof WebhookTestResult>>>();
same<Same<Wire<import("@fluenzr/core/webhook").Deliveries.DeliveryWithPayload>, v.InferOutput<typeof WebhookDeliveryWithPayload>>>();
