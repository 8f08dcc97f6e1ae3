import * as chrono from "chrono-node";
import { addDelay, firstSendDayAfter, localDate, nextOpening, plusDays, type SendWindow } from "../schedule";

/**
 * Out-of-office replies: the return date an automatic reply gives ("back on 12 January", "de
 * retour le 12 janvier", "zurück am 12.01.", "hasta el 12 de enero") is read by chrono-node's
 * parsers for English (day before month, as in Britain and the three others), French, German and
 * Spanish, in the timezone that applies to the contact. The contact's next step is then held
 * until the first send day after that date. A reply that says the person left the company stops
 * the sequence instead.
 */

/** Dates further than this after the reply are not return dates (a signature, a quoted event). */
export const MAX_HOLD_DAYS = 90;

// German writes dates as "12.01." (day, month, final dot) with no year; chrono-node's German
// parser reads "12.01.2027" but not that, so one parser for it joins the German configuration
// through chrono's own extension point. The year is left implied: `forwardDate` picks the next one.
const german = chrono.de.casual.clone();
german.parsers.push({
  pattern: () => /(?<![\d.])([0-3]?\d)\.([01]?\d)\.(?![\d])/,
  extract: (_context, match) => {
    const day = Number(match[1]);
    const month = Number(match[2]);
    if (day < 1 || day > 31 || month < 1 || month > 12) return null;
    return { day, month };
  },
});

const PARSERS: readonly chrono.Chrono[] = [chrono.en.GB, chrono.fr.casual, german, chrono.es.casual];

/** The timezone's offset from UTC at `at`, in minutes (what chrono's reference takes). */
function offsetMinutes(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: timezone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

const iso = (c: chrono.ParsedComponents) =>
  `${String(c.get("year")).padStart(4, "0")}-${String(c.get("month")).padStart(2, "0")}-${String(c.get("day")).padStart(2, "0")}`;

/**
 * The return date (`YYYY-MM-DD`, local to `timezone`) that `text`, received at `receivedAt`, gives:
 * the latest date it names (the end of a range counts) from the day of receipt to `MAX_HOLD_DAYS`
 * after it; undefined when it names none in that span. Times alone ("at 9") are not dates.
 */
export function returnDate(text: string, receivedAt: Date, timezone: string): string | undefined {
  const today = localDate(receivedAt, timezone);
  const last = plusDays(today, MAX_HOLD_DAYS);
  const reference = { instant: receivedAt, timezone: offsetMinutes(receivedAt, timezone) };
  // Every language's parser reads the text; where two read overlapping words, the longer reading
  // wins ("31 décembre" in French over "31 d", 31 days, in English).
  const readings = PARSERS.flatMap((parser) => parser.parse(text, reference, { forwardDate: true })).sort(
    (a, b) => b.text.length - a.text.length || a.index - b.index,
  );
  const taken: Array<[number, number]> = [];
  let latest: string | undefined;
  for (const result of readings) {
    const [from, to] = [result.index, result.index + result.text.length];
    if (taken.some(([f, t]) => from < t && f < to)) continue;
    taken.push([from, to]);
    for (const c of [result.start, result.end]) {
      if (!c || !(c.isCertain("day") || c.isCertain("weekday"))) continue;
      const date = iso(c);
      if (date < today || date > last) continue;
      if (!latest || date > latest) latest = date;
    }
  }
  return latest;
}

/**
 * "No longer with the company", in the four languages: hand-written, since no maintained package
 * classifies this. Phrases that only say someone is away ("nicht mehr im Büro" until a date) are
 * not matched.
 */
const LEFT_COMPANY = [
  /\bno longer (works?|working|employed|with|at|part of|a member of)\b/i,
  /\b(has|have) (now )?left (the|our) (company|organi[sz]ation|firm|business|team)\b/i,
  /\bleft the company\b/i,
  /\bne (fait|travaille) plus (partie|chez|pour|dans|au sein)\b/i,
  /\bn['’]est plus (en poste|chez|dans|employée?|salariée?|au sein|membre|parmi nous)\b/i,
  /\ba quitté (la société|l['’]entreprise|le groupe|notre|nos|ses fonctions)/i,
  /\b(ist|sind) nicht mehr (bei|für|Teil)\b/i,
  /\bnicht mehr (bei|für) uns\b/i,
  /\bnicht mehr (in unserem|im) Unternehmen\b/i,
  /\b(hat|haben) (das|unser) Unternehmen verlassen\b/i,
  /\baus dem Unternehmen ausgeschieden\b/i,
  /\bya no (trabaja|forma parte|pertenece|está en|está con)\b/i,
  /\b(ha dejado|dejó|ha abandonado) (la|nuestra) (empresa|compañía|organización)\b/i,
];

export function saysLeftCompany(text: string): boolean {
  return LEFT_COMPANY.some((pattern) => pattern.test(text));
}

export type Verdict =
  /** Hold the next step until `holdUntil`; `returnDate` when the text gave one. */
  { kind: "hold"; holdUntil: Date; returnDate?: string } | { kind: "left_company" };

/**
 * What an automatic reply means for the contact's sequence. `window` is the contact's (see
 * `windowOf`): its timezone reads the date, its send days, holidays and skipped dates choose the
 * day. With no return date the hold is `holdDays` calendar days, to the window's next opening.
 */
export function verdict(text: string, receivedAt: Date, window: SendWindow, holdDays: number): Verdict {
  if (saysLeftCompany(text)) return { kind: "left_company" };
  const date = returnDate(text, receivedAt, window.timezone);
  if (date) return { kind: "hold", holdUntil: firstSendDayAfter(date, window), returnDate: date };
  return {
    kind: "hold",
    holdUntil: nextOpening(addDelay(receivedAt, { days: holdDays, hours: 0, businessDays: false }, window.timezone), window),
  };
}
