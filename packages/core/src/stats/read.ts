import { type SQL, sql } from "drizzle-orm";
import * as Actor from "../actor";
import * as Database from "../database";
import { read, type Scoped } from "../database/typed";
import { notFound } from "../error";
import * as Workflow from "../workflow";
import { METRIC_COLUMNS, type Metric, metricSums } from "./stats.sql";

/**
 * The statistics of SPEC §5, read from the counters (campaign_stat: a few rows per email node),
 * never from the events: the cost is the same for a campaign with ten events or ten million.
 */

/**
 * `count / denominator × 100` with one decimal, half away from zero, 0 when the denominator is 0.
 * Integer arithmetic: 1/8 = 12.5 % and 1/16 = 6.25 % round the same on every machine.
 */
export function rate(count: number, denominator: number): number {
  if (!denominator) return 0;
  const sign = Math.sign(count) * Math.sign(denominator);
  const n = Math.abs(count) * 1000;
  const d = Math.abs(denominator);
  // round(n / d) half up on non-negative integers, then tenths.
  return (sign * Math.floor((2 * n + d) / (2 * d))) / 10 || 0;
}

/** Engagement counts and their rates, campaign-wide and per email. */
interface Engagement {
  sent: number;
  opened: number;
  openRate: number;
  clicked: number;
  clickRate: number;
  replied: number;
  replyRate: number;
  /** Emails opened (clicked) at least once by their reader, and at least once by a machine (docs/machine-events.md). */
  humanOpened: number;
  humanOpenRate: number;
  machineOpened: number;
  humanClicked: number;
  humanClickRate: number;
  machineClicked: number;
}

export interface GlobalStats extends Engagement {
  totalContacts: number;
  delivered: number;
  bounced: number;
  bounceRate: number;
  unsubscribed: number;
  unsubscribeRate: number;
}

export interface VariantStats extends Engagement {
  id: string;
  /** This variant won the node's A/B test. */
  winner: boolean;
}

export interface EmailStats extends Engagement {
  nodeId: string;
  /** The email's place in the workflow's order (`Workflow.order`: topological, a condition's "yes" branch first). */
  emailNumber: number;
  subject: string;
  /** The condition answers leading to this email (those every route to it shares). */
  path: Workflow.PathAnswer[];
  /** A node with A/B variants: each variant's counts (the node's are their sum). */
  variants?: VariantStats[];
  /** A node with an A/B test: the winning variant's id, null until decided. */
  winner?: string | null;
  decidedAt?: string | null;
}

/** The counters engagement figures read (per email and per variant). */
const ENGAGEMENT_COUNTS = [
  "sent",
  "opened",
  "clicked",
  "replied",
  "humanOpened",
  "machineOpened",
  "humanClicked",
  "machineClicked",
] as const satisfies readonly Metric[];

/** The engagement sums of counter rows aliased `s`, as a select list. */
const engagementSums = sql.raw(metricSums(ENGAGEMENT_COUNTS, "s"));

const globalSums = sql.raw(metricSums(Object.keys(METRIC_COLUMNS) as Metric[], "s", true));

/** The counters of one campaign of the workspace, summed over nodes and shards (one row, or none). */
export function globalQuery(workspace: SQL | string, campaignId: SQL | string): SQL {
  return sql`
    SELECT c.total_contacts AS "totalContacts", ${globalSums}
    FROM campaign c LEFT JOIN campaign_stat s ON s.campaign_id = c.id
    WHERE c.id = ${campaignId} AND c.workspace_id = ${workspace}
    GROUP BY c.id`;
}

/**
 * `GET /campaigns/:id/stats`: the seed's fields, global rates over `delivered` (bounces over
 * `sent`); undefined when the workspace has no such campaign. One statement, alone or fused.
 */
export function globalOf(campaignId: string): Scoped<GlobalStats | undefined> {
  return {
    name: "stats_global",
    query: (workspace, param) => globalQuery(workspace, param("id")),
    params: { id: campaignId },
    decode: ([row]) => row && globalStats(row),
  };
}

export async function global(campaignId: string): Promise<GlobalStats> {
  const stats = await read(globalOf(campaignId));
  if (!stats) throw notFound("Campaign", campaignId);
  return stats;
}

function globalStats(row: Record<string, unknown>): GlobalStats {
  const n = (key: string) => Number(row[key]);
  const [sent, delivered, bounced, unsubscribed] = [n("sent"), n("delivered"), n("bounced"), n("unsubscribed")];
  // Campaign-wide, engagement rates are over delivered emails (bounces over sent).
  const { seed, classes } = engagementOf(n, delivered);
  return {
    totalContacts: n("totalContacts"),
    sent,
    delivered,
    ...seed,
    bounced,
    bounceRate: rate(bounced, sent),
    unsubscribed,
    unsubscribeRate: rate(unsubscribed, delivered),
    ...classes,
  };
}

/**
 * The campaign's workflow reduced to what ordering the emails needs (ids, types, subjects, variant
 * ids and edges: bodies of up to 100,000 characters stay in the database), its counters per node
 * and variant, and its A/B winners.
 */
export function byEmailQuery(workspaceId: string, campaignId: string): SQL {
  return sql`
    SELECT (SELECT jsonb_agg(jsonb_build_object('id', n->'id', 'type', n->'type', 'data', CASE WHEN n->>'type' = 'condition' THEN n->'data' ELSE jsonb_strip_nulls(jsonb_build_object(
              'subject', n->'data'->'subject', 'abTest', n->'data'->'abTest',
              'variants', (SELECT jsonb_agg(jsonb_build_object('id', x->'id', 'subject', x->'subject'))
                           FROM jsonb_array_elements(CASE WHEN jsonb_typeof(n->'data'->'variants') = 'array' THEN n->'data'->'variants' END) x))) END))
            FROM jsonb_array_elements(c.workflow->'nodes') n) AS nodes,
           c.workflow->'edges' AS edges,
           (SELECT coalesce(json_agg(t), '[]') FROM (
              SELECT s.node_id AS "nodeId", NULL AS "variantId", ${engagementSums}
              FROM campaign_stat s WHERE s.campaign_id = c.id GROUP BY s.node_id
              UNION ALL
              SELECT s.node_id, s.variant_id, ${engagementSums}
              FROM campaign_variant_stat s WHERE s.campaign_id = c.id GROUP BY s.node_id, s.variant_id) t) AS counters,
           (SELECT coalesce(json_agg(json_build_object('nodeId', w.node_id, 'variantId', w.variant_id, 'decidedAt', w.decided_at)), '[]')
            FROM ab_test_winner w WHERE w.campaign_id = c.id) AS winners
    FROM campaign c
    WHERE c.id = ${campaignId} AND c.workspace_id = ${workspaceId}`;
}

type Num = number | string;
type EngagementCount = (typeof ENGAGEMENT_COUNTS)[number];
export type VariantCounts = { nodeId: string; variantId: string | null } & Partial<Record<EngagementCount, Num>>;
type Winner = { nodeId: string; variantId: string; decidedAt: string };

const json = <T>(value: T | string): T => (typeof value === "string" ? (JSON.parse(value) as T) : value);

/**
 * Engagement counts and their rates over `over`: the seed's fields, then the human and machine
 * classes (the API lists them in that order, after the seed's other fields).
 */
function engagementOf(count: (metric: EngagementCount) => number, over: number) {
  const [opened, clicked, replied, humanOpened, humanClicked] = [
    count("opened"),
    count("clicked"),
    count("replied"),
    count("humanOpened"),
    count("humanClicked"),
  ];
  const seed = { opened, openRate: rate(opened, over), clicked, clickRate: rate(clicked, over), replied, replyRate: rate(replied, over) };
  const classes = {
    humanOpened,
    humanOpenRate: rate(humanOpened, over),
    machineOpened: count("machineOpened"),
    humanClicked,
    humanClickRate: rate(humanClicked, over),
    machineClicked: count("machineClicked"),
  };
  return { seed, classes };
}

/** Engagement counts summed over counter rows, and their rates over `sent`. */
function engagement(rows: readonly Partial<VariantCounts>[]): Engagement {
  const sum = (key: EngagementCount) => rows.reduce((total, row) => total + Number(row[key] ?? 0), 0);
  const sent = sum("sent");
  const { seed, classes } = engagementOf(sum, sent);
  return { sent, ...seed, ...classes };
}

/**
 * `GET /campaigns/:id/stats/emails`: one row per email node of the workflow, in sequence order,
 * zeros for emails not sent yet; rates over the email's `sent`. A node with variants also lists
 * each variant (and, with an A/B test, its winner). Counters of nodes a paused campaign's edit
 * removed from the workflow stay in the global statistics only.
 */
export async function byEmail(campaignId: string): Promise<EmailStats[]> {
  const [row] = await Database.rows<{
    nodes: Workflow.Workflow["nodes"] | null;
    edges: Workflow.Workflow["edges"] | null;
    counters: VariantCounts[] | string;
    winners: Winner[] | string;
  }>(byEmailQuery(Actor.workspaceId(), campaignId));
  if (!row) throw notFound("Campaign", campaignId);
  if (!row.nodes) return [];
  const counters = json(row.counters);
  const winners = new Map(json(row.winners).map((w) => [w.nodeId, w]));
  const workflow = { nodes: row.nodes, edges: row.edges ?? [] };
  const emails = Workflow.emailNodes(workflow);
  const subjects = Workflow.subjects(workflow);
  const paths = Workflow.paths(workflow);
  return emails.map((node, i) => {
    const rows = counters.filter((c) => c.nodeId === node.id);
    const stats: EmailStats = {
      nodeId: node.id,
      emailNumber: i + 1,
      subject: subjects[i]!,
      ...engagement(rows.filter((c) => c.variantId === null)),
      path: paths.get(node.id) ?? [],
    };
    const { variants, abTest } = node.data;
    if (!variants) return stats;
    const won = winners.get(node.id);
    const winner = won && variants.some((x) => x.id === won.variantId) ? won : undefined;
    stats.variants = variants.map((variant) => ({
      id: variant.id,
      ...engagement(rows.filter((c) => c.variantId === variant.id)),
      winner: winner?.variantId === variant.id,
    }));
    if (abTest) {
      stats.winner = winner?.variantId ?? null;
      stats.decidedAt = winner ? Database.toDate(winner.decidedAt).toISOString() : null;
    }
    return stats;
  });
}

/**
 * Each variant's counts at these nodes as an A/B test judges them: sent, replies, and the opens and
 * clicks of readers only (a machine's never decide a winner: docs/machine-events.md).
 */
export async function variantCounts(campaignId: string, nodeIds: readonly string[]): Promise<VariantCounts[]> {
  if (!nodeIds.length) return [];
  return Database.rows<VariantCounts>(sql`
    SELECT s.node_id AS "nodeId", s.variant_id AS "variantId", sum(s.sent)::bigint AS sent,
           sum(s.human_opened)::bigint AS opened, sum(s.human_clicked)::bigint AS clicked, sum(s.replied)::bigint AS replied
    FROM campaign_variant_stat s
    WHERE s.campaign_id = ${campaignId} AND s.node_id = ANY(${Database.array([...nodeIds], "text")})
    GROUP BY s.node_id, s.variant_id`);
}
