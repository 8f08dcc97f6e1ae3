import { sql } from "drizzle-orm";
import * as Database from "../database";
import { COUNTERS, type Counter } from "./stats.sql";

export * as Read from "./read";
export {
  byEmail,
  type EmailStats,
  type GlobalStats,
  global,
  rate,
  type VariantCounts,
  type VariantStats,
  variantCounts,
} from "./read";
export { COUNTERS, type Counter, campaignStatBucketTable, campaignStatTable, campaignVariantStatTable } from "./stats.sql";
export * as Timeline from "./timeline";
export { INTERVALS, type Interval, MAX_BUCKETS, type TimelinePoint, type TimelineQuery, timeline, timelineQuery } from "./timeline";

/**
 * Counter rows per campaign and node (and per bucket) are split this many ways: as many
 * transactions of one campaign can commit together (each holds its shard until it commits).
 * Measured with 16 SES deliveries in flight: 4 shards applied 0.26–0.42 of the machine's
 * single-row commit rate, 16 shards 0.44–0.51 (docs/decisions.md). A quiet campaign still
 * writes one row per node and bucket: shards are taken lowest first.
 */
export const SHARDS = 16;
export const BUCKET_MINUTES = 15;

export function bucketOf(at: Date): Date {
  const ms = BUCKET_MINUTES * 60_000;
  return new Date(Math.floor(at.getTime() / ms) * ms);
}

export type Deltas = Partial<Record<Counter, number>>;

/**
 * `SELECT ... AS n`: the shard this transaction writes for the campaign (`key` is
 * `hashtext(campaign_id)`), see `bump`. Also used inside single-statement event handling.
 */
export function shardSelect(key: string): string {
  return `SELECT coalesce(
        (SELECT s FROM generate_series(0, ${SHARDS - 1}) s WHERE pg_try_advisory_xact_lock(${key}, s) LIMIT 1),
        (SELECT r.s FROM (SELECT floor(random() * ${SHARDS})::int AS s) r, LATERAL pg_advisory_xact_lock(${key}, r.s) l)
      )::smallint AS n`;
}

/** The 15-minute bucket of a timestamp expression, in SQL (the same as `bucketOf`). */
export const bucketSql = (at: string) => `to_timestamp(floor(extract(epoch FROM ${at}) / ${BUCKET_MINUTES * 60}) * ${BUCKET_MINUTES * 60})`;

/**
 * Add to a campaign's counters, for one email node in the bucket of `at` (and for the A/B variant its emails were, if any): one statement (two
 * upserts), meant to run in the transaction that records what happened. Deltas may be negative
 * (an earlier open arriving late moves the count to its bucket).
 *
 * The shard is the first one of the campaign whose transaction-scoped advisory lock is free (or
 * already ours): only the lock holder writes that shard's rows, so concurrent transactions never
 * wait on each other's counter rows, whatever order they bump nodes and buckets in (a random shard
 * per call deadlocked two senders bumping two nodes in opposite orders). Later bumps of the same
 * transaction reuse its shard. When every shard is taken, it waits for one.
 */

export async function bump(campaignId: string, nodeId: string, at: Date, deltas: Deltas, variantId: string | null = null): Promise<void> {
  const entries = COUNTERS.map((name) => [name, deltas[name] ?? 0] as const);
  if (entries.every(([, n]) => n === 0)) return;

  const columns = sql.raw(COUNTERS.join(", "));
  const values = sql.join(
    entries.map(([, n]) => sql`${n}::int`),
    sql`, `,
  );
  const set = (table: string) =>
    sql.raw(
      entries
        .filter(([, n]) => n !== 0)
        .map(([name]) => `${name} = ${table}.${name} + excluded.${name}`)
        .join(", "),
    );
  await Database.rows(sql`
    WITH campaign_key AS (SELECT ${campaignId}::text AS id),
    shard AS (${sql.raw(shardSelect("hashtext((SELECT id FROM campaign_key))"))}),
    totals AS (
      INSERT INTO campaign_stat (campaign_id, node_id, shard, ${columns}) SELECT ${campaignId}, ${nodeId}, shard.n, ${values} FROM shard
      ON CONFLICT (campaign_id, node_id, shard) DO UPDATE SET ${set("campaign_stat")}
      RETURNING 1
    ), variants AS (
      INSERT INTO campaign_variant_stat (campaign_id, node_id, variant_id, shard, ${columns})
      SELECT ${campaignId}, ${nodeId}, ${variantId}::text, shard.n, ${values} FROM shard WHERE ${variantId}::text IS NOT NULL
      ON CONFLICT (campaign_id, node_id, variant_id, shard) DO UPDATE SET ${set("campaign_variant_stat")}
      RETURNING 1
    ), buckets AS (
      INSERT INTO campaign_stat_bucket (campaign_id, bucket, shard, ${columns}) SELECT ${campaignId}, ${bucketOf(at)}, shard.n, ${values} FROM shard
      ON CONFLICT (campaign_id, bucket, shard) DO UPDATE SET ${set("campaign_stat_bucket")}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM totals) + (SELECT count(*) FROM variants) + (SELECT count(*) FROM buckets) AS n`);
}
