import { integer, type PgColumnBuilderBase, pgTable, primaryKey, smallint, text } from "drizzle-orm/pg-core";
import { campaignTable } from "../campaign/campaign.sql";
import { partOf, timestamptz } from "../database/columns";

export const COUNTERS = ["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed", "complained", "failed"] as const;
export type Counter = (typeof COUNTERS)[number];

const counters = {
  sent: integer("sent").notNull().default(0),
  delivered: integer("delivered").notNull().default(0),
  opened: integer("opened").notNull().default(0),
  clicked: integer("clicked").notNull().default(0),
  replied: integer("replied").notNull().default(0),
  bounced: integer("bounced").notNull().default(0),
  unsubscribed: integer("unsubscribed").notNull().default(0),
  complained: integer("complained").notNull().default(0),
  failed: integer("failed").notNull().default(0),
};

/**
 * A table of the counters of a campaign by one more key column, split in a few shards so
 * concurrent senders and webhook deliveries updating one campaign do not queue on one row; reads
 * sum the shards (a handful of rows). Its primary key: the campaign, the key, the shard.
 */
function countersBy<Name extends string, Key extends string, Column extends PgColumnBuilderBase>(name: Name, key: Key, column: Column) {
  const keyColumn = { [key]: column } as Record<Key, Column>;
  return pgTable(
    name,
    { campaignId: partOf("campaign_id", () => campaignTable.id), ...keyColumn, shard: smallint("shard").notNull(), ...counters },
    (t) => [primaryKey({ columns: [t.campaignId, t[key], t.shard] })],
  );
}

/** Counters per campaign and email node. Each email counts once per milestone (ten opens of one email make one `opened`). */
export const campaignStatTable = countersBy("campaign_stat", "nodeId", text("node_id").notNull());

/**
 * The same counters in 15-minute buckets (UTC instants), fine enough to regroup into hours, days
 * and ISO weeks of any timezone, +05:45 included. A 90-day timeline reads at most 8,640 rows per
 * shard, however many events the campaign has.
 */
export const campaignStatBucketTable = countersBy("campaign_stat_bucket", "bucket", timestamptz("bucket").notNull());
