import { jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { campaignTable } from "../campaign/campaign.sql";
import { partOf, timestamptz } from "../database/columns";

/**
 * The winner of an email node's A/B test: at most one per (campaign, node), written once (`ON
 * CONFLICT DO NOTHING` under the campaign's lock) and never changed, so every contact reaching
 * the node after `decided_at` gets the same variant.
 */
export const abTestWinnerTable = pgTable(
  "ab_test_winner",
  {
    campaignId: partOf("campaign_id", () => campaignTable.id),
    nodeId: text("node_id").notNull(),
    variantId: text("variant_id").notNull(),
    metric: text("metric").notNull(),
    decidedAt: timestamptz("decided_at").notNull(),
    /** What it was decided on: each variant's sent and successes, and the smallest z against the winner. */
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.nodeId] })],
);
