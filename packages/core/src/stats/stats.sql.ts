import type { HasDefault, NotNull } from "drizzle-orm";
import { integer, type PgColumnBuilderBase, type PgIntegerBuilderInitial, pgTable, primaryKey, smallint, text } from "drizzle-orm/pg-core";
import { campaignTable, nodeVariant } from "../campaign/campaign.sql";
import { partOf, timestamptz } from "../database/columns";

/**
 * What can happen to an email, as the seed's statistics name it and in their order: the
 * counters, the statistics' metrics and the activity feed's event types all start from it.
 */
export const OUTCOMES = ["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"] as const;

export const COUNTERS = [
  ...OUTCOMES,
  "complained",
  "failed",
  /** Emails with at least one open (click) judged human, and with at least one judged a machine's. */
  "human_opened",
  "machine_opened",
  "human_clicked",
  "machine_clicked",
] as const;
export type Counter = (typeof COUNTERS)[number];

/** The statistics' name of each counter they show (`humanOpened` → `human_opened`). */
export const METRIC_COLUMNS = {
  ...(Object.fromEntries(OUTCOMES.map((outcome) => [outcome, outcome])) as { [O in (typeof OUTCOMES)[number]]: O }),
  humanOpened: "human_opened",
  machineOpened: "machine_opened",
  humanClicked: "human_clicked",
  machineClicked: "machine_clicked",
} as const satisfies Record<string, Counter>;
export type Metric = keyof typeof METRIC_COLUMNS;

/** `sum(<alias>.<column>)::bigint AS "<metric>"` for each metric, a select list over counter rows (0 for none with `orZero`). */
export function metricSums(metrics: readonly Metric[], alias: string, orZero = false): string {
  return metrics
    .map((metric) => {
      const sum = `sum(${alias}.${METRIC_COLUMNS[metric]})`;
      return `${orZero ? `coalesce(${sum}, 0)` : sum}::bigint AS "${metric}"`;
    })
    .join(", ");
}

/** One integer column per counter, 0 until counted. */
const counters = Object.fromEntries(COUNTERS.map((counter) => [counter, integer(counter).notNull().default(0)])) as {
  [C in Counter]: HasDefault<NotNull<PgIntegerBuilderInitial<C>>>;
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

/**
 * The same counters per A/B variant of an email node, for the emails that were one (a node
 * without variants has no rows here). Written beside `campaign_stat` in the same statements, with
 * the same shard; a table of its own so `campaign_stat`'s key, and the code already deployed
 * against it, stay as they were.
 */
export const campaignVariantStatTable = pgTable(
  "campaign_variant_stat",
  {
    ...nodeVariant(),
    shard: smallint("shard").notNull(),
    ...counters,
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.nodeId, t.variantId, t.shard] })],
);
