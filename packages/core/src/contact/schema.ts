import * as v from "valibot";
import { canonicalTimezone, isValidTimezone } from "../schedule";
import { emailAddress, idOf, noNul, objectOnly, optionalText, order, pageBody, pageQuery, sortBy, trimmed } from "../util/schema";
import { CONTACT_STATUSES } from "./contact.sql";

/** An IANA timezone, stored as the current database spells it (`europe/paris` → `Europe/Paris`), as campaigns do. */
export const timezone = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.check(isValidTimezone, "must be an IANA timezone such as Europe/Paris"),
  v.transform((zone) => canonicalTimezone(zone)!),
);

/** Custom field keys double as template variables (`{{sector}}`), so they are identifiers. */
export const customFieldKey = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "custom field names are letters, digits and _ (at most 64), not starting with a digit"),
);

const customFieldValue = v.union(
  [v.pipe(v.string(), v.maxLength(2000, "must be at most 2000 characters"), noNul), v.pipe(v.number(), v.finite()), v.boolean()],
  "must be a string, number or boolean",
);

/**
 * A record of custom fields, refusing what Valibot would quietly turn into `{}` or drop: an
 * array, and keys like `__proto__` (dropped against prototype pollution, so a filter on it
 * would filter nothing).
 */
const fieldRecord = <S extends v.GenericSchema>(value: S) =>
  objectOnly(
    v.pipe(
      v.unknown(),
      v.check(
        (input) =>
          typeof input !== "object" ||
          input === null ||
          !Object.keys(input).some((key) => key === "__proto__" || key === "constructor" || key === "prototype"),
        "__proto__, constructor and prototype are not field names",
      ),
      v.record(customFieldKey, value),
      v.check((fields) => Object.keys(fields).length <= 100, "at most 100 custom fields"),
    ),
  );

export const customFields = fieldRecord(customFieldValue);

/** On update a `null` value removes the field. */
export const customFieldsPatch = fieldRecord(v.nullable(customFieldValue));

export const tagList = v.pipe(
  v.array(
    v.pipe(
      v.string("must be a string"),
      v.trim(),
      v.nonEmpty("must not be empty"),
      v.maxLength(64, "must be at most 64 characters"),
      noNul,
    ),
  ),
  v.maxLength(100, "at most 100 tags"),
);

export const status = v.picklist(CONTACT_STATUSES, `must be one of ${CONTACT_STATUSES.join(", ")}`);

const fields = {
  firstName: optionalText(255),
  lastName: optionalText(255),
  company: optionalText(255),
  jobTitle: optionalText(255),
  phone: optionalText(64),
  website: optionalText(2048),
  /** The contact's timezone (campaigns in `contact` timezone mode); null clears it. */
  timezone: v.optional(v.nullable(timezone)),
};

export const createSchema = v.object({
  email: emailAddress,
  ...fields,
  status: v.optional(status),
  tags: v.optional(tagList),
  customFields: v.optional(customFields),
  groupIds: v.optional(v.pipe(v.array(idOf("grp")), v.maxLength(100, "at most 100 groups"))),
});

export const updateSchema = v.object({
  email: v.optional(emailAddress),
  ...fields,
  status: v.optional(status),
  tags: v.optional(tagList),
  customFields: v.optional(customFieldsPatch),
});

export const bulkRowSchema = v.object({
  email: emailAddress,
  ...fields,
  status: v.optional(status),
  tags: v.optional(tagList),
  customFields: v.optional(customFields),
});

export const bulkSchema = v.object({
  contacts: v.pipe(
    v.array(v.unknown(), "must be an array of contacts"),
    v.minLength(1, "must hold at least one contact"),
    v.maxLength(1000, "must hold at most 1000 contacts"),
  ),
  groupIds: v.optional(v.pipe(v.array(idOf("grp")), v.maxLength(100, "at most 100 groups"))),
  onDuplicate: v.optional(v.picklist(["skip", "update"], "must be skip or update"), "skip"),
});

/** Filters of `POST /contacts/search`, and of campaign enrolment by `filters`. */
export const filtersObject = v.object({
  status: v.optional(status),
  groups: v.optional(v.pipe(v.array(idOf("grp")), v.maxLength(100, "at most 100 groups"))),
  tags: v.optional(tagList),
  customFields: v.optional(customFields),
  timezone: v.optional(timezone),
});

export const filtersSchema = objectOnly(filtersObject);

export const SORT_FIELDS = ["createdAt", "updatedAt", "email", "firstName", "lastName", "company"] as const;

export const listQuery = v.object({
  ...pageQuery,
  email: v.optional(trimmed(320)),
  status: v.optional(status),
  groupId: v.optional(idOf("grp")),
  tag: v.optional(trimmed(64)),
  timezone: v.optional(timezone),
  sort: sortBy(SORT_FIELDS, "createdAt"),
  order,
});

export const searchSchema = v.object({
  query: v.optional(trimmed(320)),
  filters: v.optional(filtersSchema, {}),
  sort: v.optional(
    v.object({
      field: sortBy(SORT_FIELDS, "createdAt"),
      order,
    }),
    { field: "createdAt", order: "desc" },
  ),
  ...pageBody,
});

export const groupIdsBody = v.object({
  groupIds: v.pipe(v.array(idOf("grp")), v.minLength(1, "must list at least one group"), v.maxLength(100, "at most 100 groups")),
});

export const tagsBody = v.object({
  tags: v.pipe(tagList, v.minLength(1, "must list at least one tag")),
});
