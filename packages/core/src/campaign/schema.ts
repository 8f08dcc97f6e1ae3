import * as v from "valibot";
import { filtersObject } from "../contact/schema";
import type { ErrorDetail } from "../error";
import { canonicalTimezone, DAYS, type Day, isValidTimezone, type SendWindow, TIMEZONE_MODES, type TimezoneMode } from "../schedule";
import { idList, idOf, objectOnly, optionalText, order, pageQuery, requiredText, sortBy } from "../util/schema";
import * as Workflow from "../workflow";
import { CAMPAIGN_CONTACT_STATUSES, CAMPAIGN_STATUSES } from "./campaign.sql";

const hour = (min: number, max: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );

const percent = v.pipe(v.number("must be a number"), v.minValue(0.01, "must be at least 0.01"), v.maxValue(100, "must be at most 100"));

const dayName = v.pipe(v.string("must be a day name"), v.trim(), v.toLowerCase(), v.picklist(DAYS, `must be one of ${DAYS.join(", ")}`));

/** Settings as sent: every key optional (defaults on create, merged key by key on update). */
export const settingsInput = objectOnly(
  v.object({
    sendDays: v.optional(
      v.pipe(
        v.array(dayName, "must be an array of day names"),
        v.minLength(1, "needs at least one day"),
        v.check((days) => new Set(days).size === days.length, "must not repeat a day"),
      ),
    ),
    sendHoursStart: v.optional(hour(0, 23)),
    sendHoursEnd: v.optional(hour(1, 24)),
    timezone: v.optional(
      v.pipe(
        v.string("must be a string"),
        v.trim(),
        v.check(isValidTimezone, "must be an IANA timezone such as Europe/Paris"),
        v.transform((timezone) => canonicalTimezone(timezone)!),
      ),
    ),
    maxEmailsPerHour: v.optional(hour(1, 10000)),
    timezoneMode: v.optional(v.picklist(TIMEZONE_MODES, `must be one of ${TIMEZONE_MODES.join(", ")}`)),
    maxBounceRate: v.optional(percent),
    maxComplaintRate: v.optional(percent),
    stopOnCompanyReply: v.optional(v.boolean("must be true or false")),
  }),
);

export type SettingsInput = v.InferOutput<typeof settingsInput>;

export interface Settings extends SendWindow {
  sendDays: Day[];
  maxEmailsPerHour: number;
  timezoneMode: TimezoneMode;
  /** Percent of hard bounces over the last 200 sent emails that pauses the campaign. */
  maxBounceRate: number;
  /** Percent of complaints over the last 200 sent emails that pauses the campaign. */
  maxComplaintRate: number;
  /** A human reply from a contact of domain D stops every contact of D in the campaign (free-mail domains never count). */
  stopOnCompanyReply: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"],
  sendHoursStart: 9,
  sendHoursEnd: 18,
  timezone: "UTC",
  maxEmailsPerHour: 30,
  timezoneMode: "campaign",
  maxBounceRate: 5,
  maxComplaintRate: 0.3,
  stopOnCompanyReply: false,
};

/** Merge `input` over `base` key by key, then check what only the whole can tell (start < end). */
export function mergeSettings(base: Settings, input: SettingsInput | undefined): { settings: Settings; errors: ErrorDetail[] } {
  const settings: Settings = { ...base };
  for (const [key, value] of Object.entries(input ?? {}))
    if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  settings.sendDays = DAYS.filter((d) => settings.sendDays.includes(d));
  const errors: ErrorDetail[] = [];
  if (settings.sendHoursEnd <= settings.sendHoursStart) {
    errors.push({
      path: input?.sendHoursEnd !== undefined ? "settings.sendHoursEnd" : "settings.sendHoursStart",
      message: `sendHoursEnd (${settings.sendHoursEnd}) must be greater than sendHoursStart (${settings.sendHoursStart})`,
    });
  }
  return { settings, errors };
}

/** A campaign's sending accounts: 1 to 50, each once. */
export const MAX_EMAIL_ACCOUNTS = 50;
const emailAccountIds = v.pipe(
  idList("acc", MAX_EMAIL_ACCOUNTS),
  v.check((ids) => new Set(ids).size === ids.length, "must not list an account twice"),
);

/**
 * The accounts a body names: `emailAccountIds`, or `emailAccountId` as a list of one; when both
 * are given, `emailAccountId` must be the list's first. Undefined when neither is.
 */
export function accountsOf(body: { emailAccountId?: string; emailAccountIds?: string[] }): {
  ids?: string[];
  errors: ErrorDetail[];
} {
  if (!body.emailAccountIds) return { ids: body.emailAccountId ? [body.emailAccountId] : undefined, errors: [] };
  if (body.emailAccountId && body.emailAccountId !== body.emailAccountIds[0]) {
    return { errors: [{ path: "emailAccountId", message: "must be the first of emailAccountIds (or left out)" }] };
  }
  return { ids: body.emailAccountIds, errors: [] };
}

export const createSchema = v.pipe(
  v.object({
    name: requiredText(255),
    description: optionalText(2000),
    emailAccountId: v.optional(idOf("acc")),
    emailAccountIds: v.optional(emailAccountIds),
    settings: v.optional(settingsInput),
    workflow: v.optional(v.nullable(Workflow.schema)),
  }),
  // Checked even when other fields are wrong, so that `{}` names every missing field.
  v.forward(
    v.partialCheck(
      [["emailAccountId"], ["emailAccountIds"]],
      (body) => body.emailAccountId !== undefined || body.emailAccountIds !== undefined,
      "is required (or emailAccountIds, a list of accounts)",
    ),
    ["emailAccountId"],
  ),
);

export const updateSchema = v.object({
  name: v.optional(requiredText(255)),
  description: optionalText(2000),
  emailAccountId: v.optional(idOf("acc")),
  emailAccountIds: v.optional(emailAccountIds),
  settings: v.optional(settingsInput),
  workflow: v.optional(v.nullable(Workflow.schema)),
});

export const SORT_FIELDS = ["createdAt", "updatedAt", "name", "status", "startedAt"] as const;

export const listQuery = v.object({
  ...pageQuery,
  status: v.optional(v.picklist(CAMPAIGN_STATUSES, `must be one of ${CAMPAIGN_STATUSES.join(", ")}`)),
  sort: sortBy(SORT_FIELDS, "createdAt"),
  order,
});

/** `POST /campaigns/:id/contacts`: exactly one way of choosing contacts. */
export const addContactsSchema = v.pipe(
  v.object({
    contactIds: v.optional(idList("con", 10_000)),
    groupIds: v.optional(idList("grp", 100)),
    // An array here would be read as no filter at all, that is every contact of the workspace.
    // Enrolling "everyone" takes a condition that says so (`status: "active"`): an empty filter,
    // or one whose only keys are ignored, is refused rather than read as the whole workspace.
    filters: v.optional(
      v.pipe(
        objectOnly(v.omit(filtersObject, ["groups"])),
        v.check(
          (f) =>
            f.status !== undefined || f.timezone !== undefined || (f.tags?.length ?? 0) > 0 || Object.keys(f.customFields ?? {}).length > 0,
          "name at least one condition: status, tags, customFields or timezone",
        ),
      ),
    ),
  }),
  v.check(
    (body) => [body.contactIds, body.groupIds, body.filters].filter((x) => x !== undefined).length === 1,
    "provide exactly one of contactIds, groupIds or filters",
  ),
);

export const removeContactsSchema = v.object({ contactIds: idList("con", 10_000) });

export const contactsQuery = v.object({
  ...pageQuery,
  status: v.optional(v.picklist(CAMPAIGN_CONTACT_STATUSES, `must be one of ${CAMPAIGN_CONTACT_STATUSES.join(", ")}`)),
});
