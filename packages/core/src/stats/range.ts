import { DateTime } from "luxon";
import * as v from "valibot";

/**
 * `from` / `to` query parameters of the statistics and activity endpoints: ISO 8601 dates or
 * date-times. With `Z` or an offset they are instants; without, they are read in the campaign's
 * timezone. A date alone means its whole day: `from=2025-01-16` starts at local midnight,
 * `to=2025-01-17` ends at the following local midnight (both days included). A date-time `to` is
 * exclusive.
 */

const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const MESSAGE = "must be an ISO 8601 date or date-time, such as 2025-01-16 or 2025-01-16T09:00:00Z";

/** An unencoded `+` in a query string arrives as a space: `T09:00:00 01:00` means `+01:00`. */
function normalize(value: string): string {
  return value.trim().replace(/ (\d{2}(?::?\d{2})?)$/, "+$1");
}

export const isoDateTime = v.pipe(
  v.string("must be a string"),
  v.transform(normalize),
  v.regex(ISO, MESSAGE),
  v.check((value) => DateTime.fromISO(value, { zone: "UTC" }).isValid, MESSAGE),
);

/** The instant a `from` (edge "start") or `to` (edge "end") parameter stands for, in `zone`. */
export function resolveInstant(value: string, zone: string, edge: "start" | "end"): Date {
  const at = DateTime.fromISO(value, { zone });
  if (DATE_ONLY.test(value)) return (edge === "end" ? at.plus({ days: 1 }) : at).startOf("day").toJSDate();
  return at.toJSDate();
}
