import * as v from "valibot";

/** Building blocks shared by the domain's input schemas. */

/** PostgreSQL text cannot hold U+0000: refused here (400), not by the database (500). */
export const noNul = v.check((value: string) => !value.includes("\u0000"), "must not contain NUL characters");

/**
 * Valibot's `object` and `record` also take an array (and output `{}` for it): `settings: []`
 * would pass unnoticed and `filters: []` would mean "every contact". The check has to come
 * before the object schema, on the input.
 */
export const objectOnly = <S extends v.GenericSchema>(schema: S) =>
  v.pipe(
    v.unknown(),
    v.check((value) => !Array.isArray(value), "must be an object"),
    schema,
  );

/** A whole number from `min` to `max`. */
export const wholeNumber = (min: number, max: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(min, `must be ${min} or more`),
    v.maxValue(max, `must be at most ${max}`),
  );

export const trimmed = (max: number) =>
  v.pipe(v.string("must be a string"), v.trim(), v.maxLength(max, `must be at most ${max} characters`), noNul);

export const requiredText = (max: number) =>
  v.pipe(v.string("must be a string"), v.trim(), v.nonEmpty("is required"), v.maxLength(max, `must be at most ${max} characters`), noNul);

/** An optional text field; `null` clears it on update. */
export const optionalText = (max: number) => v.optional(v.nullable(trimmed(max)));

export const emailAddress = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.nonEmpty("is required"),
  v.maxLength(320, "must be at most 320 characters"),
  v.email("must be a valid email address"),
);

export const idOf = (prefix: string) =>
  v.pipe(
    v.string("must be a string"),
    v.nonEmpty("is required"),
    v.startsWith(`${prefix}_`, `must be a ${prefix}_ id`),
    v.regex(/^[a-z]+_[A-Za-z0-9_]{1,60}$/, "is not a valid id"),
  );

export const idList = (prefix: string, max = 1000) =>
  v.pipe(v.array(idOf(prefix)), v.minLength(1, "must list at least one id"), v.maxLength(max, `must list at most ${max} ids`));

const integerString = (message: string) => v.pipe(v.string(), v.trim(), v.regex(/^\d{1,9}$/, message), v.transform(Number));

/** `page` and `perPage` query parameters (strings in the URL). */
export const pageQuery = {
  page: v.optional(v.pipe(integerString("must be a positive integer"), v.minValue(1, "must be at least 1")), "1"),
  perPage: v.optional(
    v.pipe(integerString("must be a positive integer"), v.minValue(1, "must be at least 1"), v.maxValue(100, "must be at most 100")),
    "20",
  ),
};

/** The same page fields inside a JSON body (search endpoints). */
export const pageBody = {
  page: v.optional(
    v.pipe(
      v.number(),
      v.integer("must be an integer"),
      v.minValue(1, "must be at least 1"),
      v.maxValue(999_999_999, "must be at most 999999999"),
    ),
    1,
  ),
  perPage: v.optional(
    v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be at least 1"), v.maxValue(100, "must be at most 100")),
    20,
  ),
};

export const order = v.optional(v.picklist(["asc", "desc"], "must be asc or desc"), "desc");

export const sortBy = <const T extends readonly [string, ...string[]]>(fields: T, fallback: T[number]) =>
  v.optional(v.picklist(fields, `must be one of ${fields.join(", ")}`), fallback);

export interface PageMeta {
  page: number;
  perPage: number;
  total: number;
  totalPages: number;
}

export function pageMeta(page: number, perPage: number, total: number): PageMeta {
  return { page, perPage, total, totalPages: Math.ceil(total / perPage) };
}

export interface Page<T> {
  data: T[];
  meta: PageMeta;
}
