import { DateTime, IANAZone } from "luxon";
import tzdata from "tzdata/timezone-data.json" with { type: "json" };
import type { Delay } from "../workflow";
import { isSkipped, plusDays, type SkippedDays, skipsAny } from "./calendar";

export * from "./calendar";

/**
 * Send windows and delays in the campaign's timezone, with luxon doing the timezone arithmetic
 * (DST gaps and overlaps included). All functions are pure: instants in, instants out.
 */
export const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type Day = (typeof DAYS)[number];

/** `campaign`: every contact's window in the campaign's timezone; `contact`: in the contact's own (the campaign's when it has none). */
export const TIMEZONE_MODES = ["campaign", "contact"] as const;
export type TimezoneMode = (typeof TIMEZONE_MODES)[number];

export interface SendWindow extends SkippedDays {
  sendDays: readonly Day[];
  /** First hour of sending, 0–23, local time. */
  sendHoursStart: number;
  /** Sending stops at this hour, 1–24, local time (exclusive). */
  sendHoursEnd: number;
  timezone: string;
  /** Whose timezone the window and business days are evaluated in (default `campaign`). */
  timezoneMode?: TimezoneMode;
}

/**
 * The window that applies to one contact: in `contact` mode the same days and hours in the
 * contact's timezone, falling back to the campaign's when the contact has none.
 */
export function windowOf(window: SendWindow, contactTimezone: string | null | undefined): SendWindow {
  return window.timezoneMode === "contact" && contactTimezone ? { ...window, timezone: contactTimezone } : window;
}

/**
 * When a step that becomes due at `at` should be claimed. In `contact` mode the step is stored at
 * the next opening of the contact's own window, so the tick (which then runs every minute of the
 * day) claims, through the due-steps index, only contacts whose window is open. In `campaign`
 * mode it is `at`: the tick runs only inside the campaign's window anyway.
 */
export function dueAt(at: Date, window: SendWindow): Date {
  return window.timezoneMode === "contact" ? nextOpening(at, window) : at;
}

const local = (at: Date, timezone: string) => DateTime.fromJSDate(at, { zone: timezone });
const dayName = (dt: DateTime) => DAYS[dt.weekday - 1]!;

/** A send day: an allowed day of the week that is neither a public holiday of the window's calendar nor a skipped date. */
function isSendDay(dt: DateTime, window: SendWindow): boolean {
  return window.sendDays.includes(dayName(dt)) && !(skipsAny(window) && isSkipped(dt.toISODate()!, window));
}

/** Is `at` inside the window: a send day, and `[start:00, end:00)` local time? */
export function isOpen(at: Date, window: SendWindow): boolean {
  const dt = local(at, window.timezone);
  return dt.hour >= window.sendHoursStart && dt.hour < window.sendHoursEnd && isSendDay(dt, window);
}

// Holidays and skipped dates can close a window for weeks (a list of dates is the user's), but
// not for ever: a year and a week covers any calendar with one send day left.
const HORIZON_DAYS = 373;

/** `at` if the window is open then, else the next moment it opens. */
export function nextOpening(at: Date, window: SendWindow): Date {
  if (isOpen(at, window)) return at;
  const today = local(at, window.timezone).startOf("day");
  for (let d = 0; d <= HORIZON_DAYS; d++) {
    const day = today.plus({ days: d });
    if (!isSendDay(day, window)) continue;
    // A start hour that does not exist that day (DST gap) becomes the first instant after it.
    const opening = day.set({ hour: window.sendHoursStart, minute: 0, second: 0, millisecond: 0 });
    if (opening.toMillis() > at.getTime() && isOpen(opening.toJSDate(), window)) return opening.toJSDate();
  }
  throw new Error("send window never opens (no send days, or every one skipped)");
}

/** When the window open at `at` closes (the next instant outside it). */
export function closing(at: Date, window: SendWindow): Date {
  const dt = local(at, window.timezone);
  const end =
    window.sendHoursEnd === 24
      ? dt.startOf("day").plus({ days: 1 })
      : dt.set({ hour: window.sendHoursEnd, minute: 0, second: 0, millisecond: 0 });
  return end.toJSDate();
}

/** Where delays are counted: a timezone, with the days business-day delays skip besides weekends. */
export type DelayCalendar = string | (SkippedDays & { timezone: string });

/**
 * `from` + a delay, in the window's timezone (`calendar`: the timezone alone, or the window with
 * its holidays and skipped dates): calendar days keep the wall-clock time across DST changes;
 * business days skip Saturdays, Sundays, public holidays and skipped dates; hours are elapsed time.
 */
export function addDelay(from: Date, delay: Delay, calendar: DelayCalendar): Date {
  const days: SkippedDays & { timezone: string } = typeof calendar === "string" ? { timezone: calendar } : calendar;
  let dt = local(from, days.timezone);
  if (delay.businessDays) {
    const skips = skipsAny(days);
    let remaining = delay.days;
    while (remaining > 0) {
      dt = dt.plus({ days: 1 });
      if (dt.weekday <= 5 && !(skips && isSkipped(dt.toISODate()!, days))) remaining--;
    }
  } else if (delay.days) {
    dt = dt.plus({ days: delay.days });
  }
  if (delay.hours) dt = dt.plus({ hours: delay.hours });
  return dt.toJSDate();
}

export function addDelays(from: Date, delays: readonly Delay[], calendar: DelayCalendar): Date {
  return delays.reduce((at, delay) => addDelay(at, delay, calendar), from);
}

/** The local date (`YYYY-MM-DD`) of `at` in `timezone`. */
export function localDate(at: Date, timezone: string): string {
  return local(at, timezone).toISODate()!;
}

/**
 * The first opening of the window on a send day after the local date `date` (`YYYY-MM-DD`): the
 * day after is the earliest, then weekends, holidays and skipped dates are passed over.
 */
export function firstSendDayAfter(date: string, window: SendWindow): Date {
  const next = DateTime.fromISO(plusDays(date, 1), { zone: window.timezone }).startOf("day");
  return nextOpening(next.toJSDate(), window);
}

let zoneNames: Map<string, string> | undefined;

/**
 * The zone's name as the current IANA database spells it (`utc` → `UTC`, `europe/paris` →
 * `Europe/Paris`), or undefined for a name it no longer has (`US/Pacific-New`, removed in 2020)
 * or never had, or one this runtime's ICU cannot compute with. Links (`US/Pacific`) are kept as
 * given: they are still in the database. The names come from the `tzdata` package, which follows
 * IANA's releases; ICU alone keeps removed names as aliases for compatibility.
 */
export function canonicalTimezone(timezone: string): string | undefined {
  zoneNames ??= new Map(Object.keys(tzdata.zones).map((name) => [name.toLowerCase(), name]));
  const name = zoneNames.get(timezone.toLowerCase());
  return name && IANAZone.isValidZone(name) ? name : undefined;
}

/** An IANA zone name ("Europe/Paris", "UTC") that current tzdata has; not "local", not an offset. */
export function isValidTimezone(timezone: string): boolean {
  return canonicalTimezone(timezone) !== undefined;
}
