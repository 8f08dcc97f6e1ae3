import { sql } from "drizzle-orm";
import * as Activity from "../activity";
import * as Database from "../database";
import * as Log from "../log";
import * as Stats from "../stats";
import { Outbox } from "../webhook";
import type { EmailNode, Workflow } from "../workflow";
import { Variants } from "../workflow";
import { type Arm, decide } from "./ztest";

export { abTestWinnerTable } from "./abtest.sql";
export * as ZTest from "./ztest";

/**
 * A/B variants at send time. A contact's variant at a node is the node's winner once its A/B test
 * has one, otherwise the weighted deterministic choice of `Variants.choose` (the same on every
 * retry). Winners are decided here, by the sender, under the campaign's row lock: the counters
 * are read, the z-test run, and the winner inserted once (`ON CONFLICT DO NOTHING` on the
 * (campaign, node) key), so two senders cannot decide two winners and a decision never changes.
 */

/** How many of a variant's emails count for each metric, as `Stats.variantCounts` reads them (human opens and clicks only). */
const SUCCESSES = { openRate: "opened", clickRate: "clicked", replyRate: "replied" } as const satisfies Record<
  Variants.Metric,
  keyof Stats.VariantCounts
>;

export interface Decided {
  nodeId: string;
  variantId: string;
  decidedAt: Date;
}

/** What `assign` needs of the locked campaign. */
export interface Campaign {
  id: string;
  workspaceId: string;
  workflow: Workflow | null;
}

/** The variant of a contact at a node: null for a node without variants. */
export type Assigner = (node: EmailNode, contactId: string) => string | null;

/**
 * Under the campaign's lock, before emails to `jobs` are composed: decide the A/B tests of their
 * nodes that can be decided now, and return who gets which variant. `now` is the decision's time.
 */
export async function assign(campaign: Campaign, jobs: ReadonlyArray<{ contactId: string; nodeId: string }>, now: Date): Promise<Assigner> {
  const nodes = new Map<string, EmailNode>();
  for (const node of campaign.workflow?.nodes ?? []) {
    if (node.type === "email" && node.data.variants && jobs.some((j) => j.nodeId === node.id)) nodes.set(node.id, node);
  }
  const winners = new Map<string, string>();
  if (nodes.size) {
    for (const won of await winnersOf(campaign.id, [...nodes.keys()])) winners.set(won.nodeId, won.variantId);
    const open = [...nodes.values()].filter((node) => node.data.abTest && !winners.has(node.id));
    if (open.length) {
      const decided = await decideOpen(campaign, open, (nodeId) => jobs.find((j) => j.nodeId === nodeId)!.contactId, now);
      for (const won of decided) winners.set(won.nodeId, won.variantId);
    }
  }
  return (node, contactId) => {
    const variants = node.data.variants;
    if (!variants) return null;
    const winner = winners.get(node.id);
    if (winner && variants.some((x) => x.id === winner)) return winner;
    return Variants.choose(variants, { campaignId: campaign.id, contactId, nodeId: node.id });
  };
}

export async function winnersOf(campaignId: string, nodeIds: readonly string[]): Promise<Decided[]> {
  const rows = await Database.rows<{ node_id: string; variant_id: string; decided_at: Date | string }>(sql`
    SELECT node_id, variant_id, decided_at FROM ab_test_winner
    WHERE campaign_id = ${campaignId} AND node_id = ANY(${Database.array([...nodeIds], "text")})`);
  return rows.map((r) => ({ nodeId: r.node_id, variantId: r.variant_id, decidedAt: Database.toDate(r.decided_at) }));
}

/** The arms of a node's test: each variant's sent and successes for its metric (zeros for one not sent yet). */
export function arms(node: EmailNode, counts: readonly Stats.VariantCounts[]): Arm[] {
  const metric = node.data.abTest!.metric;
  return node.data.variants!.map((variant) => {
    const row = counts.find((c) => c.nodeId === node.id && c.variantId === variant.id);
    return { id: variant.id, n: Number(row?.sent ?? 0), successes: Number(row?.[SUCCESSES[metric]] ?? 0) };
  });
}

/**
 * Decide the tests of these nodes that can be decided now: record each winner once, with an
 * activity event (on `contactOf(node)`, the first contact to get it) and the
 * `campaign.ab_test_decided` webhook event.
 */
async function decideOpen(
  campaign: Campaign,
  nodes: readonly EmailNode[],
  contactOf: (nodeId: string) => string,
  now: Date,
): Promise<Decided[]> {
  const counts = await Stats.variantCounts(
    campaign.id,
    nodes.map((n) => n.id),
  );
  const decided: Decided[] = [];
  for (const node of nodes) {
    const test = node.data.abTest!;
    const measured = arms(node, counts);
    const verdict = decide(measured, { minSent: test.minSentPerVariant, confidence: test.confidence });
    if (!verdict) continue;
    const evidence = {
      metric: test.metric,
      z: round(verdict.z, 4),
      confidence: round(verdict.confidence, 6),
      variants: measured.map((arm) => ({ id: arm.id, sent: arm.n, successes: arm.successes })),
    };
    const [row] = await Database.rows<{ name: string }>(sql`
      INSERT INTO ab_test_winner (campaign_id, node_id, variant_id, metric, decided_at, evidence)
      VALUES (${campaign.id}, ${node.id}, ${verdict.winner}, ${test.metric}, ${now}, ${JSON.stringify(evidence)}::jsonb)
      ON CONFLICT (campaign_id, node_id) DO NOTHING
      RETURNING (SELECT name FROM campaign WHERE id = ${campaign.id}) AS name`);
    if (!row) {
      // Decided meanwhile (it cannot under the lock, but the key settles it either way): that one stands.
      const [won] = await winnersOf(campaign.id, [node.id]);
      if (won) decided.push(won);
      continue;
    }
    decided.push({ nodeId: node.id, variantId: verdict.winner, decidedAt: now });
    await Activity.record({
      workspaceId: campaign.workspaceId,
      campaignId: campaign.id,
      contactId: contactOf(node.id),
      nodeId: node.id,
      type: "ab_winner",
      occurredAt: now,
      metadata: { winner: verdict.winner, ...evidence },
      providerKey: `ab_winner:${campaign.id}:${node.id}`,
    });
    await Outbox.emit([
      {
        type: "campaign.ab_test_decided",
        key: `${campaign.id}:${node.id}`,
        at: now,
        workspaceId: campaign.workspaceId,
        data: {
          campaign: { id: campaign.id, name: row.name },
          nodeId: node.id,
          winner: verdict.winner,
          decidedAt: now.toISOString(),
          ...evidence,
        },
      },
    ]);
    Log.info("A/B test decided", { campaignId: campaign.id, nodeId: node.id, winner: verdict.winner, z: evidence.z });
  }
  return decided;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
