import { EVENT_TYPES } from "@fluenzr/core/activity";
import { CAMPAIGN_CONTACT_STATUSES, CAMPAIGN_STATUSES } from "@fluenzr/core/campaign";
import { CONTACT_STATUSES } from "@fluenzr/core/contact";
import { EMAIL_ACCOUNT_STATUSES } from "@fluenzr/core/email-account";
import { DAYS } from "@fluenzr/core/schedule";
import * as Workflow from "@fluenzr/core/workflow";
import * as v from "valibot";

/** Shapes of what the API answers, for the OpenAPI document (requests use the domain's schemas). */

const timestamp = v.pipe(v.string(), v.isoTimestamp());
const nullableText = v.nullable(v.string());

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
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const Deleted = v.object({ id: v.string(), deleted: v.literal(true) });

export const BulkResult = v.object({
  created: v.number(),
  updated: v.number(),
  skipped: v.number(),
  errors: v.array(
    v.object({
      index: v.number(),
      email: v.optional(v.string()),
      code: v.literal("VALIDATION_ERROR"),
      message: v.string(),
      details: v.array(v.object({ path: v.string(), message: v.string() })),
    }),
  ),
});

export const Group = v.object({
  id: v.string(),
  name: v.string(),
  description: nullableText,
  contactCount: v.number(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const MembershipResult = v.object({
  added: v.number(),
  skipped: v.number(),
  errors: v.array(v.object({ id: v.string(), code: v.literal("NOT_FOUND") })),
});

export const EmailAccount = v.object({
  id: v.string(),
  email: v.string(),
  name: v.string(),
  replyTo: nullableText,
  dailyLimit: v.number(),
  status: v.picklist(EMAIL_ACCOUNT_STATUSES),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const Removed = v.object({ removed: v.number() });

const Settings = v.object({
  sendDays: v.array(v.picklist(DAYS)),
  sendHoursStart: v.number(),
  sendHoursEnd: v.number(),
  timezone: v.string(),
  maxEmailsPerHour: v.number(),
});

const Stats = v.object({
  totalContacts: v.number(),
  sent: v.number(),
  delivered: v.number(),
  opened: v.number(),
  clicked: v.number(),
  replied: v.number(),
  bounced: v.number(),
  unsubscribed: v.number(),
});

export const Campaign = v.object({
  id: v.string(),
  name: v.string(),
  description: nullableText,
  status: v.picklist(CAMPAIGN_STATUSES),
  emailAccountId: v.string(),
  settings: Settings,
  stats: Stats,
  workflow: v.optional(v.nullable(Workflow.schema)),
  pauseReason: v.optional(v.string()),
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
  totalContacts: v.number(),
  sent: v.number(),
  delivered: v.number(),
  opened: v.number(),
  openRate: v.number(),
  clicked: v.number(),
  clickRate: v.number(),
  replied: v.number(),
  replyRate: v.number(),
  bounced: v.number(),
  bounceRate: v.number(),
  unsubscribed: v.number(),
  unsubscribeRate: v.number(),
});

export const EmailStats = v.object({
  nodeId: v.string(),
  emailNumber: v.number(),
  subject: v.string(),
  sent: v.number(),
  opened: v.number(),
  openRate: v.number(),
  clicked: v.number(),
  clickRate: v.number(),
  replied: v.number(),
  replyRate: v.number(),
});

export const TimelinePoint = v.object({
  date: v.string(),
  sent: v.number(),
  delivered: v.number(),
  opened: v.number(),
  clicked: v.number(),
  replied: v.number(),
  bounced: v.number(),
  unsubscribed: v.number(),
});

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
export const FeedMeta = v.object({
  page: v.number(),
  perPage: v.number(),
  total: v.optional(v.number()),
  totalPages: v.optional(v.number()),
  nextCursor: v.nullable(v.string()),
});
