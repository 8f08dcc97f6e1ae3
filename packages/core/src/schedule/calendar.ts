import Holidays from "date-holidays";

/**
 * Days a campaign does not send on: a country's (and region's) public holidays, from the
 * `date-holidays` package (its rules ship inside the package: no network), and dates listed by
 * hand (`skipDates`). A day is a local calendar date, `YYYY-MM-DD`, read in the timezone that
 * applies to the contact (campaign or contact, see `timezoneMode`): a holiday is the whole local
 * day wherever the recipient is, not the holiday's own country's midnight-to-midnight.
 */

export interface HolidayCalendar {
  /** ISO 3166-1 alpha-2 code, upper case ("FR"). */
  country: string;
  /** The package's region (state) code within the country ("67" for Bas-Rhin, "BY" for Bavaria). */
  region?: string;
}

/** What a window may carry besides days and hours: the days it never opens on. */
export interface SkippedDays {
  holidays?: HolidayCalendar | null;
  /** Local dates, `YYYY-MM-DD`. */
  skipDates?: readonly string[];
}

const countries = new Holidays().getCountries("en");

/** The country as the package spells it (upper case), or undefined if it has no rules for it. */
export function canonicalCountry(country: string): string | undefined {
  const code = country.trim().toUpperCase();
  return code in countries ? code : undefined;
}

/** The regions (states) the package knows for `country`: code → name. */
export function regionsOf(country: string): Record<string, string> {
  return new Holidays().getStates(country, "en") ?? {};
}

/** The region code as the package spells it, or undefined if `country` has no such region. */
export function canonicalRegion(country: string, region: string): string | undefined {
  const wanted = region.trim().toUpperCase();
  return Object.keys(regionsOf(country)).find((code) => code.toUpperCase() === wanted);
}

// The package's rules are evaluated once per (country, region, year); every later question is a
// set lookup (the sender asks for each step it decides, the tick each minute).
const cache = new Map<string, ReadonlySet<string>>();
const CACHE_LIMIT = 2000;

/**
 * The public holidays of `calendar` in `year`, as local dates. Only `public` holidays count:
 * `bank`, `school`, `optional` and `observance` days are working days for most recipients.
 */
export function publicHolidays(calendar: HolidayCalendar, year: number): ReadonlySet<string> {
  const key = `${calendar.country}|${calendar.region ?? ""}|${year}`;
  let days = cache.get(key);
  if (!days) {
    const hd = calendar.region ? new Holidays(calendar.country, calendar.region) : new Holidays(calendar.country);
    const dates = new Set<string>();
    for (const h of hd.getHolidays(year) || []) {
      if (h.type !== "public") continue;
      // `date` is the holiday's first local day ("2026-12-25 00:00:00"); a few last longer than one.
      const first = h.date.slice(0, 10);
      const length = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / 86_400_000));
      for (let d = 0; d < length; d++) dates.add(d === 0 ? first : plusDays(first, d));
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    days = dates;
    cache.set(key, days);
  }
  return days;
}

/** `YYYY-MM-DD` + n days (calendar arithmetic in UTC, no timezone involved). */
export function plusDays(date: string, n: number): string {
  const t = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Is the local date `date` (`YYYY-MM-DD`) a skipped day: a listed date or a public holiday? */
export function isSkipped(date: string, days: SkippedDays): boolean {
  if (days.skipDates?.includes(date)) return true;
  return days.holidays ? publicHolidays(days.holidays, Number(date.slice(0, 4))).has(date) : false;
}

/** Whether any day can be skipped at all (the common case answers without a date). */
export function skipsAny(days: SkippedDays): boolean {
  return Boolean(days.holidays) || (days.skipDates?.length ?? 0) > 0;
}
