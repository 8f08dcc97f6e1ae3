import { type SQL, sql } from "drizzle-orm";
import * as Actor from "../actor";
import * as Database from "../database";
import { read, type Scoped } from "../database/typed";
import { notFound } from "../error";
import * as Workflow from "../workflow";

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

export interface EmailStats extends Engagement {
  nodeId: string;
  /** The email's place in the workflow's order (`Workflow.order`: topological, a condition's "yes" branch first). */
  emailNumber: number;
  subject: string;
  /** The condition answers leading to this email (those every route to it shares). */
  path: Workflow.PathAnswer[];
}

/** The counters of one campaign of the workspace, summed over nodes and shards (one row, or none). */
export function globalQuery(workspace: SQL | string, campaignId: SQL | string): SQL {
  return sql`
    SELECT c.total_contacts AS "totalContacts",
           coalesce(sum(s.sent), 0)::bigint AS sent, coalesce(sum(s.delivered), 0)::bigint AS delivered,
           coalesce(sum(s.opened), 0)::bigint AS opened, coalesce(sum(s.clicked), 0)::bigint AS clicked,
           coalesce(sum(s.replied), 0)::bigint AS replied, coalesce(sum(s.bounced), 0)::bigint AS bounced,
           coalesce(sum(s.unsubscribed), 0)::bigint AS unsubscribed,
           coalesce(sum(s.human_opened), 0)::bigint AS "humanOpened", coalesce(sum(s.machine_opened), 0)::bigint AS "machineOpened",
           coalesce(sum(s.human_clicked), 0)::bigint AS "humanClicked", coalesce(sum(s.machine_clicked), 0)::bigint AS "machineClicked"
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
  const [sent, delivered] = [n("sent"), n("delivered")];
  return {
    totalContacts: n("totalContacts"),
    sent,
    delivered,
    opened: n("opened"),
    openRate: rate(n("opened"), delivered),
    clicked: n("clicked"),
    clickRate: rate(n("clicked"), delivered),
    replied: n("replied"),
    replyRate: rate(n("replied"), delivered),
    bounced: n("bounced"),
    bounceRate: rate(n("bounced"), sent),
    unsubscribed: n("unsubscribed"),
    unsubscribeRate: rate(n("unsubscribed"), delivered),
    humanOpened: n("humanOpened"),
    humanOpenRate: rate(n("humanOpened"), delivered),
    machineOpened: n("machineOpened"),
    humanClicked: n("humanClicked"),
    humanClickRate: rate(n("humanClicked"), delivered),
    machineClicked: n("machineClicked"),
  };
}

/**
 * The campaign's workflow reduced to what ordering the emails needs (ids, types, subjects, the
 * conditions' data and edges: bodies of up to 100,000 characters stay in the database), and its counters per node.
 */
export function byEmailQuery(workspaceId: string, campaignId: string): SQL {
  return sql`
    SELECT (SELECT jsonb_agg(jsonb_build_object('id', n->'id', 'type', n->'type',
                   'data', CASE WHEN n->>'type' = 'condition' THEN n->'data' ELSE jsonb_build_object('subject', n->'data'->'subject') END))
            FROM jsonb_array_elements(c.workflow->'nodes') n) AS nodes,
           c.workflow->'edges' AS edges,
           (SELECT coalesce(json_agg(t), '[]') FROM (
              SELECT s.node_id AS "nodeId", sum(s.sent)::bigint AS sent, sum(s.opened)::bigint AS opened,
                     sum(s.clicked)::bigint AS clicked, sum(s.replied)::bigint AS replied,
                     sum(s.human_opened)::bigint AS "humanOpened", sum(s.machine_opened)::bigint AS "machineOpened",
                     sum(s.human_clicked)::bigint AS "humanClicked", sum(s.machine_clicked)::bigint AS "machineClicked"
              FROM campaign_stat s WHERE s.campaign_id = c.id GROUP BY s.node_id) t) AS counters
    FROM campaign c
    WHERE c.id = ${campaignId} AND c.workspace_id = ${workspaceId}`;
}

const NODE_COUNTERS = ["sent", "opened", "clicked", "replied", "humanOpened", "machineOpened", "humanClicked", "machineClicked"] as const;
type NodeCounters = { nodeId: string } & Record<(typeof NODE_COUNTERS)[number], number | string>;

/**
 * `GET /campaigns/:id/stats/emails`: one row per email node of the workflow, in sequence order,
 * zeros for emails not sent yet; rates over the email's `sent`. Counters of nodes a paused
 * campaign's edit removed from the workflow stay in the global statistics only.
 */
export async function byEmail(campaignId: string): Promise<EmailStats[]> {
  const [row] = await Database.rows<{
    nodes: Workflow.Workflow["nodes"] | null;
    edges: Workflow.Workflow["edges"] | null;
    counters: NodeCounters[] | string;
  }>(byEmailQuery(Actor.workspaceId(), campaignId));
  if (!row) throw notFound("Campaign", campaignId);
  if (!row.nodes) return [];
  const counters = typeof row.counters === "string" ? (JSON.parse(row.counters) as NodeCounters[]) : row.counters;
  const byNode = new Map(counters.map((c) => [c.nodeId, c]));
  const workflow = { nodes: row.nodes, edges: row.edges ?? [] };
  const emails = Workflow.emailNodes(workflow);
  const subjects = Workflow.subjects(workflow);
  const paths = Workflow.paths(workflow);
  return emails.map((node, i) => {
    const c = byNode.get(node.id);
    const [sent, opened, clicked, replied, humanOpened, machineOpened, humanClicked, machineClicked] = NODE_COUNTERS.map((k) =>
      Number(c?.[k] ?? 0),
    ) as [number, number, number, number, number, number, number, number];
    return {
      nodeId: node.id,
      emailNumber: i + 1,
      subject: subjects[i]!,
      sent,
      opened,
      openRate: rate(opened, sent),
      clicked,
      clickRate: rate(clicked, sent),
      replied,
      replyRate: rate(replied, sent),
      humanOpened,
      humanOpenRate: rate(humanOpened, sent),
      machineOpened,
      humanClicked,
      humanClickRate: rate(humanClicked, sent),
      machineClicked,
      path: paths.get(node.id) ?? [],
    };
  });
}
