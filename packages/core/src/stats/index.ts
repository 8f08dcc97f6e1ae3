import { sql } from "drizzle-orm";
import * as Database from "../database";
import { COUNTERS, type Counter } from "./stats.sql";

export { COUNTERS, type Counter, campaignStatBucketTable, campaignStatTable } from "./stats.sql";

/** Counter rows per campaign and node (and per bucket) are split this many ways. */
export const SHARDS = 4;
export const BUCKET_MINUTES = 15;

export function bucketOf(at: Date): Date {
  const ms = BUCKET_MINUTES * 60_000;
  return new Date(Math.floor(at.getTime() / ms) * ms);
}

export type Deltas = Partial<Record<Counter, number>>;

/**
 * Add to a campaign's counters, for one email node, in the bucket of `at`: one statement (two
 * upserts), meant to run in the transaction that records what happened. Deltas may be negative
 * (an earlier open arriving late moves the count to its bucket).
 */
export async function bump(campaignId: string, nodeId: string, at: Date, deltas: Deltas): Promise<void> {
  const entries = COUNTERS.map((name) => [name, deltas[name] ?? 0] as const);
  if (entries.every(([, n]) => n === 0)) return;
  const shard = Math.floor(Math.random() * SHARDS);
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
    WITH totals AS (
      INSERT INTO campaign_stat (campaign_id, node_id, shard, ${columns}) VALUES (${campaignId}, ${nodeId}, ${shard}, ${values})
      ON CONFLICT (campaign_id, node_id, shard) DO UPDATE SET ${set("campaign_stat")}
      RETURNING 1
    ), buckets AS (
      INSERT INTO campaign_stat_bucket (campaign_id, bucket, shard, ${columns}) VALUES (${campaignId}, ${bucketOf(at)}, ${shard}, ${values})
      ON CONFLICT (campaign_id, bucket, shard) DO UPDATE SET ${set("campaign_stat_bucket")}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM totals) + (SELECT count(*) FROM buckets) AS n`);
}
