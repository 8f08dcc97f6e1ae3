import { type SQL, sql } from "drizzle-orm";
import { DateTime, Info, type Zone } from "luxon";
import * as v from "valibot";
import * as Actor from "../actor";
import type { CampaignStats } from "../campaign";
import * as Clock from "../clock";
import * as Database from "../database";
import { invalid, notFound } from "../error";
import { isoDateTime, resolveInstant } from "./range";
import { METRIC_COLUMNS, type Metric, metricSums } from "./stats.sql";

/**
 * `GET /campaigns/:id/stats/timeline`: the counters per local hour, day or ISO week of the
 * campaign's timezone, every bucket present. The local bucket boundaries are computed here from
 * the zone's rules (DST days of 23 and 25 hours, +05:45), then PostgreSQL sums the 15-minute UTC
 * rows of campaign_stat_bucket between each pair of boundaries (`width_bucket` over the sorted
 * list). Local hours, days and weeks of every zone in use start on a quarter hour, so each
 * 15-minute row falls inside exactly one local bucket: the sums are exact.
 */

export const INTERVALS = ["hour", "day", "week"] as const;
export type Interval = (typeof INTERVALS)[number];

/** At most this many buckets per answer (more is a 400): 41 days of hours, 2.7 years of days. */
export const MAX_BUCKETS = 1000;

export const METRICS = Object.keys(METRIC_COLUMNS) as Metric[];

/** Every metric at 0: a bucket, or a campaign, with nothing counted yet. */
export const zeroCounts = () => Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>;

export const timelineQuery = v.object({
  from: v.optional(isoDateTime),
  to: v.optional(isoDateTime),
  interval: v.optional(v.picklist(INTERVALS, "must be hour, day or week"), "day"),
});

export type TimelineQuery = v.InferOutput<typeof timelineQuery>;

/** One bucket of the timeline: the campaign's counters, counted in that bucket. */
export type TimelinePoint = {
  /** The bucket's local start: `YYYY-MM-DD` (day, week) or `YYYY-MM-DDTHH:00` (hour). */
  date: string;
} & Omit<CampaignStats, "totalContacts">;

export interface Buckets {
  /** UTC instants (ms) where the buckets start, in order. */
  starts: number[];
  /** Each bucket's label: its local start (`YYYY-MM-DD`, or `YYYY-MM-DDTHH:00` for hours). */
  labels: string[];
  /** Where the last bucket ends (ms). */
  end: number;
}

const QUARTER = 15 * 60_000;
const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05T00:00 was a Monday: wall-clock Mondays are MONDAY + k weeks. */
const MONDAY = 4 * DAY;
const UNIT: Record<Interval, number> = { hour: HOUR, day: DAY, week: WEEK };

const mod = (a: number, b: number) => ((a % b) + b) % b;

/** Wall-clock milliseconds (the local time read as if it were UTC) → the label of its bucket. */
export function wallLabel(wall: number, interval: Interval): string {
  if (interval === "hour") return `${new Date(wall).toISOString().slice(0, 13)}:00`;
  if (interval === "day") return new Date(wall).toISOString().slice(0, 10);
  return new Date(wall - mod(wall - MONDAY, WEEK)).toISOString().slice(0, 10);
}

/**
 * The zone's offsets over [from, to): constant pieces `{start, offset}` (ms). Offsets are read
 * weekly and each change is located by bisection to the quarter hour (transitions fall on
 * quarter hours in every zone in use, and never twice within a week): a few dozen lookups of
 * the zone's rules, not several per bucket (each costs microseconds of Intl formatting).
 */
function pieces(zone: Zone, from: number, to: number): Array<{ start: number; offset: number }> {
  const offsetAt = (ms: number) => zone.offset(ms) * 60_000;
  let at = Math.floor(from / QUARTER) * QUARTER;
  let offset = offsetAt(at);
  const out = [{ start: Number.NEGATIVE_INFINITY, offset }];
  const stop = Math.ceil(to / QUARTER) * QUARTER;
  while (at < stop) {
    const next = Math.min(at + WEEK, stop);
    const after = offsetAt(next);
    if (after !== offset) {
      let [lo, hi] = [at, next];
      while (hi - lo > QUARTER) {
        const mid = lo + Math.floor((hi - lo) / 2 / QUARTER) * QUARTER;
        if (offsetAt(mid) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ start: hi, offset: after });
    }
    [at, offset] = [next, after];
  }
  return out;
}

/**
 * The local buckets covering [from, to): from the bucket holding `from` to the one holding the
 * last instant before `to`; undefined when there would be more than `max` (the work stays
 * bounded whatever range is asked).
 *
 * A bucket starts where the local clock shows the start of an hour, a day or an ISO week
 * (Monday), or jumps past one. Hours are elapsed time: a 25-hour day has two 02:00 hours, a
 * 23-hour day none. Days and weeks are calendar time: one bucket per date, even where a
 * midnight repeats.
 */
export function buckets(from: Date, to: Date, interval: Interval, zone: string, max = MAX_BUCKETS): Buckets | undefined {
  const unit = UNIT[interval];
  const [start, stop] = [from.getTime(), to.getTime()];
  // The longest buckets: an hour and a half (Lord Howe's 30-minute fall-back), a day or week and an hour.
  if ((stop - start) / (interval === "hour" ? 1.5 * HOUR : unit + HOUR) > max + 1) return undefined;
  const [lo, hi] = [start - unit - 2 * HOUR, stop + unit + 2 * HOUR];
  const ranges = pieces(Info.normalizeZone(zone), lo, hi);
  const phase = interval === "week" ? MONDAY : 0;
  const edges: Array<{ at: number; label: string }> = [];
  const push = (at: number, wall: number) => {
    const label = wallLabel(wall, interval);
    const previous = edges[edges.length - 1];
    if (previous && (previous.at === at || (interval !== "hour" && previous.label === label))) return;
    edges.push({ at, label });
  };
  for (let i = 0; i < ranges.length; i++) {
    const { offset } = ranges[i]!;
    const first = Math.max(ranges[i]!.start, lo);
    const last = Math.min(ranges[i + 1]?.start ?? Number.POSITIVE_INFINITY, hi);
    if (first >= last) continue;
    // A transition: the clock jumped; a new bucket if its label changed (01:59 → 03:00).
    if (first === ranges[i]!.start && wallLabel(first - 1 + ranges[i - 1]!.offset, interval) !== wallLabel(first + offset, interval)) {
      push(first, first + offset);
    }
    for (let wall = phase + Math.ceil((first + offset - phase) / unit) * unit; wall - offset < last; wall += unit)
      push(wall - offset, wall);
  }
  let begin = 0;
  while (begin + 1 < edges.length && edges[begin + 1]!.at <= start) begin++;
  let end = begin + 1;
  while (end < edges.length && edges[end]!.at < stop) end++;
  if (end - begin > max) return undefined;
  const kept = edges.slice(begin, end);
  return { starts: kept.map((e) => e.at), labels: kept.map((e) => e.label), end: edges[end]!.at };
}

/** The sums of the 15-minute rows of a campaign in each bucket: one row per non-empty bucket, `i` from 1. */
export function bucketQuery(campaignId: string, range: Buckets): SQL {
  const thresholds = `{${range.starts.map((ms) => new Date(ms).toISOString()).join(",")}}`;
  const sums = sql.raw(metricSums(METRICS, "campaign_stat_bucket"));
  return sql`
    SELECT width_bucket(bucket, ${thresholds}::timestamptz[]) AS i, ${sums}
    FROM campaign_stat_bucket
    WHERE campaign_id = ${campaignId} AND bucket >= ${new Date(range.starts[0]!)} AND bucket < ${new Date(range.end)}
    GROUP BY 1`;
}

export async function timeline(campaignId: string, query: TimelineQuery): Promise<TimelinePoint[]> {
  const [campaign] = await Database.rows<{ timezone: string; started_at: Date | string | null; created_at: Date | string }>(sql`
    SELECT timezone, started_at, created_at FROM campaign WHERE id = ${campaignId} AND workspace_id = ${Actor.workspaceId()}`);
  if (!campaign) throw notFound("Campaign", campaignId);
  const zone = campaign.timezone;
  const interval = query.interval;
  const to = query.to ? resolveInstant(query.to, zone, "end") : Clock.now();
  let from = query.from ? resolveInstant(query.from, zone, "start") : Database.toDate(campaign.started_at ?? campaign.created_at);
  if (from >= to) {
    throw invalid([
      query.from
        ? { path: "from", message: `must be before to (${to.toISOString()})` }
        : { path: "to", message: `must be after from (${from.toISOString()}, the campaign's start)` },
    ]);
  }
  // The default range of a long campaign shows its latest buckets rather than failing.
  if (!query.from) {
    const earliest = DateTime.fromJSDate(new Date(to.getTime() - 1), { zone })
      .startOf(interval)
      .minus({ [`${interval}s`]: MAX_BUCKETS - 1 })
      .toJSDate();
    if (earliest > from) from = earliest;
  }
  // (A little slack for the default: luxon's estimate and our buckets may differ by one.)
  let range = buckets(from, to, interval, zone, query.from ? MAX_BUCKETS : MAX_BUCKETS + 2);
  if (range && range.starts.length > MAX_BUCKETS) {
    const cut = range.starts.length - MAX_BUCKETS;
    range = { starts: range.starts.slice(cut), labels: range.labels.slice(cut), end: range.end };
  }
  if (!range) {
    throw invalid([
      {
        path: "interval",
        message: `from–to holds more than ${MAX_BUCKETS} ${interval} buckets: narrow the range or use a longer interval`,
      },
    ]);
  }
  const rows = await Database.rows<Record<string, string | number>>(bucketQuery(campaignId, range));
  const points: TimelinePoint[] = range.labels.map((date) => ({ date, ...zeroCounts() }));
  for (const row of rows) {
    const point = points[Number(row.i) - 1];
    if (!point) continue;
    for (const metric of METRICS) point[metric] = Number(row[metric]);
  }
  return points;
}
