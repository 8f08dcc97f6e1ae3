import { type SQL, sql } from "drizzle-orm";
import { DateTime } from "luxon";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import { invalid, notFound } from "../error";
import { isoDateTime, resolveInstant } from "./range";

/**
 * `GET /campaigns/:id/stats/timeline`: the counters per local hour, day or ISO week of the
 * campaign's timezone, every bucket present. The local bucket boundaries are computed here (luxon
 * knows DST days of 23 and 25 hours, and +05:45), then PostgreSQL sums the 15-minute UTC rows of
 * campaign_stat_bucket between each pair of boundaries (`width_bucket` over the sorted list).
 * Local hours, days and weeks of every zone in use start on a quarter hour, so each 15-minute
 * row falls inside exactly one local bucket: the sums are exact.
 */

export const INTERVALS = ["hour", "day", "week"] as const;
export type Interval = (typeof INTERVALS)[number];

/** At most this many buckets per answer (more is a 400): 41 days of hours, 2.7 years of days. */
export const MAX_BUCKETS = 1000;

export const METRICS = ["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"] as const;

export const timelineQuery = v.object({
  from: v.optional(isoDateTime),
  to: v.optional(isoDateTime),
  interval: v.optional(v.picklist(INTERVALS, "must be hour, day or week"), "day"),
});

export type TimelineQuery = v.InferOutput<typeof timelineQuery>;

export interface TimelinePoint {
  /** The bucket's local start: `YYYY-MM-DD` (day, week) or `YYYY-MM-DDTHH:00` (hour). */
  date: string;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
  bounced: number;
  unsubscribed: number;
}

export interface Buckets {
  /** Local starts of the buckets, in order. */
  starts: DateTime[];
  /** Where the last bucket ends. */
  end: DateTime;
}

function next(at: DateTime, interval: Interval): DateTime {
  // Hours are elapsed time (a 25-hour day has two 02:00 hours); days and weeks are calendar time.
  const stepped = interval === "hour" ? at.plus({ hours: 1 }) : interval === "day" ? at.plus({ days: 1 }) : at.plus({ weeks: 1 });
  const floored = stepped.startOf(interval);
  return floored > at ? floored : stepped;
}

/**
 * The local buckets covering [from, to): from the bucket holding `from` to the one holding the
 * last instant before `to`. Undefined when there would be more than `max`: the work is bounded
 * whatever range is asked.
 */
export function buckets(from: Date, to: Date, interval: Interval, zone: string, max = MAX_BUCKETS): Buckets | undefined {
  const starts: DateTime[] = [DateTime.fromJSDate(from, { zone }).startOf(interval)];
  const end = to.getTime();
  for (;;) {
    const following = next(starts[starts.length - 1]!, interval);
    if (following.toMillis() >= end) return { starts, end: following };
    if (starts.length >= max) return undefined;
    starts.push(following);
  }
}

export function label(start: DateTime, interval: Interval): string {
  return start.toFormat(interval === "hour" ? "yyyy-MM-dd'T'HH:00" : "yyyy-MM-dd");
}

/** The sums of the 15-minute rows of a campaign in each bucket: one row per non-empty bucket, `i` from 1. */
export function bucketQuery(campaignId: string, range: Buckets): SQL {
  const thresholds = `{${range.starts.map((s) => s.toUTC().toISO()).join(",")}}`;
  const sums = sql.raw(METRICS.map((m) => `sum(${m})::bigint AS ${m}`).join(", "));
  return sql`
    SELECT width_bucket(bucket, ${thresholds}::timestamptz[]) AS i, ${sums}
    FROM campaign_stat_bucket
    WHERE campaign_id = ${campaignId} AND bucket >= ${range.starts[0]!.toJSDate()} AND bucket < ${range.end.toJSDate()}
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
  const range = buckets(from, to, interval, zone);
  if (!range) {
    throw invalid([
      {
        path: "interval",
        message: `from–to holds more than ${MAX_BUCKETS} ${interval} buckets: narrow the range or use a longer interval`,
      },
    ]);
  }
  const rows = await Database.rows<Record<string, string | number>>(bucketQuery(campaignId, range));
  const points: TimelinePoint[] = range.starts.map((start) => ({
    date: label(start, interval),
    sent: 0,
    delivered: 0,
    opened: 0,
    clicked: 0,
    replied: 0,
    bounced: 0,
    unsubscribed: 0,
  }));
  for (const row of rows) {
    const point = points[Number(row.i) - 1];
    if (!point) continue;
    for (const metric of METRICS) point[metric] = Number(row[metric]);
  }
  return points;
}
