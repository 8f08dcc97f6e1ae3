import { jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { nodeVariant } from "../campaign/campaign.sql";
import { timestamptz } from "../database/columns";

/**
 * The winner of an email node's A/B test: at most one per (campaign, node), written once (`ON
 * CONFLICT DO NOTHING` under the campaign's lock) and never changed, so every contact reaching
 * the node after `decided_at` gets the same variant.
 */
export const abTestWinnerTable = pgTable(
  "ab_test_winner",
  {
    ...nodeVariant(),
    metric: text("metric").notNull(),
    decidedAt: timestamptz("decided_at").notNull(),
    /** What it was decided on: each variant's sent and successes, and the smallest z against the winner. */
    evidence: jsonb("evidence").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.nodeId] })],
);
