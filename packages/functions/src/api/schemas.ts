import { CONTACT_STATUSES } from "@fluenzr/core/contact";
import { EMAIL_ACCOUNT_STATUSES } from "@fluenzr/core/email-account";
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
