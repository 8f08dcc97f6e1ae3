import { type Column, eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Render from "../database/render";
import { pick, read, renderedById as rendered, rowById, type Scoped, unnest } from "../database/typed";
import * as EmailAccount from "../email-account";
import { conflict, type ErrorDetail, invalid, notFound, VisibleError } from "../error";
import * as Scheduler from "../scheduler";
import { createId } from "../util/id";
import { type Page, pageMeta } from "../util/schema";
import { fn, fnFor } from "../util/validation";
import * as Webhook from "../webhook";
import * as Workflow from "../workflow";
import { type CampaignStatus, campaignTable, type PausedReason } from "./campaign.sql";
import * as Enrolment from "./enrolment";
import { lock, type Row, SETTINGS_COLUMNS, settingsOf } from "./lock";
import * as Schema from "./schema";

export {
  CAMPAIGN_CONTACT_STATUSES,
  CAMPAIGN_STATUSES,
  type CampaignStatus,
  campaignContactTable,
  campaignTable,
  type PausedReason,
} from "./campaign.sql";
export { completeIfDone } from "./complete";
export * as Enrolment from "./enrolment";
export { lock, settingsOf } from "./lock";
export type { Settings } from "./schema";
export * as Schema from "./schema";

export interface CampaignStats {
  totalContacts: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  replied: number;
  bounced: number;
  unsubscribed: number;
  /** Emails opened (clicked) by their reader, and by a machine (docs/machine-events.md). */
  humanOpened: number;
  machineOpened: number;
  humanClicked: number;
  machineClicked: number;
}

export interface Campaign {
  id: string;
  name: string;
  description: string | null;
  status: CampaignStatus;
  /** The first of `emailAccountIds`. */
  emailAccountId: string;
  /** The accounts the campaign sends from, in order. */
  emailAccountIds: string[];
  settings: Schema.Settings;
  stats: CampaignStats;
  workflow?: Workflow.Workflow | null;
  pauseReason?: string;
  /** Why the deliverability guard paused it (bounce or complaint rate), until resumed. */
  pausedReason?: PausedReason;
  createdAt: Date;
  startedAt: Date | null;
  updatedAt: Date;
  completedAt?: Date;
  archivedAt?: Date;
}

/** The counters of SPEC §5, summed over the shards of campaign_stat (a few rows per campaign). */
const statsOf = sql<Omit<CampaignStats, "totalContacts">>`(
  SELECT json_build_object(
    'sent', coalesce(sum(s.sent), 0), 'delivered', coalesce(sum(s.delivered), 0),
    'opened', coalesce(sum(s.opened), 0), 'clicked', coalesce(sum(s.clicked), 0),
    'replied', coalesce(sum(s.replied), 0), 'bounced', coalesce(sum(s.bounced), 0),
    'unsubscribed', coalesce(sum(s.unsubscribed), 0),
    'humanOpened', coalesce(sum(s.human_opened), 0), 'machineOpened', coalesce(sum(s.machine_opened), 0),
    'humanClicked', coalesce(sum(s.human_clicked), 0), 'machineClicked', coalesce(sum(s.machine_clicked), 0))
  FROM campaign_stat s WHERE s.campaign_id = "campaign"."id")`;

/** The columns a campaign is shown with (`serialize`): its workspace, pause time and guard window stay in the database. */
const SHOWN = [
  "id",
  "name",
  "description",
  "status",
  "emailAccountId",
  "emailAccountIds",
  ...SETTINGS_COLUMNS,
  "totalContacts",
  "pauseReason",
  "pausedReason",
  "createdAt",
  "startedAt",
  "updatedAt",
  "completedAt",
  "archivedAt",
] as const satisfies ReadonlyArray<keyof Row>;
type Shown = Pick<Row, (typeof SHOWN)[number]>;

type StoredStats = Omit<CampaignStats, "totalContacts">;
const NO_STATS: StoredStats = {
  sent: 0,
  delivered: 0,
  opened: 0,
  clicked: 0,
  replied: 0,
  bounced: 0,
  unsubscribed: 0,
  humanOpened: 0,
  machineOpened: 0,
  humanClicked: 0,
  machineClicked: 0,
};

/** The campaign as the API shows it (built by assignment, in the documented key order: it runs per read). */
function serialize(row: Shown & { workflow?: Row["workflow"] }, summed: StoredStats | null): Campaign {
  const stats = summed ?? NO_STATS;
  const campaign: Campaign = {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    emailAccountId: row.emailAccountId,
    emailAccountIds: row.emailAccountIds,
    settings: settingsOf(row),
    stats: {
      totalContacts: row.totalContacts,
      sent: Number(stats.sent),
      delivered: Number(stats.delivered),
      opened: Number(stats.opened),
      clicked: Number(stats.clicked),
      replied: Number(stats.replied),
      bounced: Number(stats.bounced),
      unsubscribed: Number(stats.unsubscribed),
      humanOpened: Number(stats.humanOpened),
      machineOpened: Number(stats.machineOpened),
      humanClicked: Number(stats.humanClicked),
      machineClicked: Number(stats.machineClicked),
    },
  } as Campaign;
  if ("workflow" in row) campaign.workflow = row.workflow ?? null;
  if (row.pauseReason) campaign.pauseReason = row.pauseReason;
  if (row.pausedReason) campaign.pausedReason = row.pausedReason;
  campaign.createdAt = row.createdAt;
  campaign.startedAt = row.startedAt;
  campaign.updatedAt = row.updatedAt;
  if (row.completedAt) campaign.completedAt = row.completedAt;
  if (row.archivedAt) campaign.archivedAt = row.archivedAt;
  return campaign;
}

const COLUMNS = pick(campaignTable, [...SHOWN, "workflow"]);

/** The campaign with its workflow and counters: one statement, alone or fused with the API key's. */
export const byId: (id: string) => Scoped<Campaign | undefined> = rowById("campaign", sql`${COLUMNS.list}, ${statsOf} AS stats`, (row) =>
  serialize(COLUMNS.decode(row), row.stats as StoredStats | null),
);

/**
 * `byId`'s campaign as its API answer's JSON text, built by PostgreSQL (database/render.ts): what
 * `JSON.stringify(serialize(...))` writes, key for key (a test holds the two together). The route
 * that reads a campaign sends this text as it came: no decoding, no serializing per request.
 */
const RENDERED = (() => {
  const c = campaignTable;
  const of = (keys: readonly (keyof typeof c.$inferSelect)[]) =>
    Object.fromEntries(keys.map((key) => [key, Render.column(c[key as keyof typeof c] as Column)]));
  const stat = (column: string) => Render.integer(`coalesce(sum(s.${column}), 0)`);
  const stats = Render.object({
    totalContacts: Render.integer(`"campaign"."total_contacts"`),
    sent: stat("sent"),
    delivered: stat("delivered"),
    opened: stat("opened"),
    clicked: stat("clicked"),
    replied: stat("replied"),
    bounced: stat("bounced"),
    unsubscribed: stat("unsubscribed"),
    humanOpened: stat("human_opened"),
    machineOpened: stat("machine_opened"),
    humanClicked: stat("human_clicked"),
    machineClicked: stat("machine_clicked"),
  });
  return Render.object({
    ...of(["id", "name", "description", "status", "emailAccountId", "emailAccountIds"]),
    settings: Render.object(of(SETTINGS_COLUMNS)),
    stats: Render.raw(`(SELECT ${stats.sql} FROM campaign_stat s WHERE s.campaign_id = "campaign"."id")`),
    workflow: Render.column(c.workflow),
    pauseReason: Render.optional.text(`"${c.pauseReason.name}"`),
    pausedReason: Render.optional.jsonb(`"${c.pausedReason.name}"`),
    ...of(["createdAt", "startedAt", "updatedAt"]),
    completedAt: Render.optional.time(`"${c.completedAt.name}"`),
    archivedAt: Render.optional.time(`"${c.archivedAt.name}"`),
  });
})();

export const renderedById = rendered("campaign", RENDERED);

export function fromID(id: string): Promise<Campaign | undefined> {
  return read(byId(id));
}

export async function mustExist(id: string): Promise<Campaign> {
  const campaign = await fromID(id);
  if (!campaign) throw notFound("Campaign", id);
  return campaign;
}

const SORT: Record<(typeof Schema.SORT_FIELDS)[number], AnyPgColumn> = {
  createdAt: campaignTable.createdAt,
  updatedAt: campaignTable.updatedAt,
  name: campaignTable.name,
  status: campaignTable.status,
  startedAt: campaignTable.startedAt,
};

const LISTED = pick(campaignTable, SHOWN);

/**
 * A page of the workspace's campaigns (without workflows), with the filter's total: one
 * statement, alone or fused with the API key's. The page is chosen first (index order, ids
 * only), then the counters of those rows alone: the counters never run for rows an OFFSET skips.
 */
export function listOf(query: v.InferOutput<typeof Schema.listQuery>): Scoped<Page<Campaign>> {
  const order = sql.raw(query.order === "asc" ? "ASC" : "DESC");
  const sort = sql.raw(`"${SORT[query.sort].name}"`);
  const filter = (alias: string, param: (name: string) => SQL) =>
    query.status ? sql` AND ${sql.raw(alias)}.status = ${param("status")}` : sql``;
  return {
    name: `campaign_list_${query.status ? "status" : "all"}_${query.sort}_${query.order}`,
    params: { status: query.status, limit: query.perPage, offset: (query.page - 1) * query.perPage },
    many: true,
    query: (workspace, param) => sql`
      SELECT ${LISTED.list}, ${statsOf} AS stats,
             (SELECT count(*)::int FROM campaign x WHERE x.workspace_id = ${workspace}${filter("x", param)}) AS total
      FROM campaign JOIN (
        SELECT p.id AS page_id FROM campaign p WHERE p.workspace_id = ${workspace}${filter("p", param)}
        ORDER BY p.${sort} ${order} NULLS LAST, p.id ${order}
        LIMIT ${param("limit")} OFFSET ${param("offset")}
      ) page ON campaign.id = page.page_id
      ORDER BY campaign.${sort} ${order} NULLS LAST, campaign.id ${order}`,
    decode: async (rows) => {
      let total = Number(rows[0]?.total ?? 0);
      if (!rows.length && query.page > 1) {
        // Past the last page: the total still counts (rare, a second statement).
        const status = query.status ? sql` AND x.status = ${query.status}` : sql``;
        const [row] = await Database.rows<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM campaign x WHERE x.workspace_id = ${Actor.workspaceId()}${status}`,
        );
        total = row?.n ?? 0;
      }
      const data = rows.map((row) => serialize(LISTED.decode(row), row.stats as StoredStats | null));
      return { data, meta: pageMeta(query.page, query.perPage, total) };
    },
  };
}

/** Every account named exists in the workspace (404 naming the first missing one otherwise). */
async function assertEmailAccounts(ids: string[], given: { emailAccountIds?: string[] }) {
  const found = new Set((await EmailAccount.fromIDs(ids)).map((a) => a.id));
  const missing = ids.findIndex((id) => !found.has(id));
  if (missing < 0) return;
  const path = given.emailAccountIds ? `emailAccountIds[${missing}]` : "emailAccountId";
  throw new VisibleError("not_found", `Email account ${ids[missing]} not found`, [{ path, message: "no email account with this id" }]);
}

function checkWorkflow(workflow: Workflow.Workflow | null | undefined): ErrorDetail[] {
  return workflow ? Workflow.graphErrors(workflow) : [];
}

/** The new campaign's row, as `create` shows it. */
const created = pick(campaignTable, [...SHOWN, "workflow"]);

export const create = fn(Schema.createSchema, async (body): Promise<Campaign> => {
  const { settings, errors } = Schema.mergeSettings(Schema.DEFAULT_SETTINGS, body.settings);
  const accounts = Schema.accountsOf(body);
  errors.push(...accounts.errors);
  errors.push(...checkWorkflow(body.workflow));
  if (errors.length) throw invalid(errors);
  const emailAccountIds = accounts.ids!;
  const values = {
    id: createId("campaign", Clock.nowMs()),
    name: body.name,
    description: body.description ?? null,
    emailAccountId: emailAccountIds[0]!,
    emailAccountIds,
    ...settings,
    workflow: body.workflow ?? null,
  };
  const unique = [...new Set(emailAccountIds)];
  // ONE statement (a request's API key fused into it, Database.write): the insert holds the check
  // that every account is the workspace's, and returns the new row as the database stored it
  // (defaults, jsonb), shown with no counts yet. Nothing inserted: say which account is missing.
  for (;;) {
    const row = await Database.write(
      Database.insertion(campaignTable, values, created, {
        name: "accounts_checked",
        where: (param) =>
          sql`(SELECT count(*) FROM email_account a WHERE a.workspace_id = s.workspace AND a.id = ANY(${param("accounts")}::text[])) = ${param("accountCount")}::int`,
        params: { accounts: campaignTable.emailAccountIds.mapToDriverValue(unique), accountCount: unique.length },
      }),
    );
    if (row) return serialize(row, null);
    await assertEmailAccounts(emailAccountIds, body);
  }
});

/**
 * The contacts of a paused campaign waiting on nodes that `workflow` no longer has. Contacts wait
 * on the email they are sent next or on a condition: a node kept under its id but no longer of
 * that kind strands them too.
 */
async function contactsOnRemovedNodes(campaignId: string, workflow: Workflow.Workflow | null): Promise<string[]> {
  const kinds = new Map((workflow?.nodes ?? []).map((n) => [n.id, n.type]));
  const rows = await Database.rows<{ node: string; at_condition: boolean }>(sql`
    SELECT DISTINCT current_node_id AS node, waiting_for IS NOT NULL AS at_condition FROM campaign_contact
    WHERE campaign_id = ${campaignId} AND status IN ('pending', 'in_progress') AND current_node_id IS NOT NULL`);
  return [...new Set(rows.filter((r) => kinds.get(r.node) !== (r.at_condition ? "condition" : "email")).map((r) => r.node))];
}

/** Contacts waiting at a condition whose event the edit changed wait for the new one. */
async function followConditionEvents(campaignId: string, workflow: Workflow.Workflow): Promise<void> {
  const conditions = workflow.nodes.filter((n): n is Workflow.ConditionNode => n.type === "condition");
  if (!conditions.length) return;
  await Database.rows(sql`
    UPDATE campaign_contact cc SET waiting_for = v.event
    FROM ${unnest(conditions, { node_id: ["text", (n) => n.id], event: ["text", (n) => n.data.event] })}
    WHERE cc.campaign_id = ${campaignId} AND cc.current_node_id = v.node_id AND cc.waiting_for IS NOT NULL
      AND cc.waiting_for <> v.event AND cc.status IN ('pending', 'in_progress')`);
}

export const update = fnFor(Schema.updateSchema, async (id: string, body): Promise<Campaign> => {
  const updated = await Database.transaction(async () => {
    const row = await lock(id);
    if (row.status !== "draft" && row.status !== "paused") {
      throw conflict(`Campaign is ${row.status}: only draft or paused campaigns can be modified`, [
        { path: "status", message: `is ${row.status}` },
      ]);
    }
    const { settings, errors } = Schema.mergeSettings(settingsOf(row), body.settings);
    const accounts = Schema.accountsOf(body);
    errors.push(...accounts.errors);
    if (body.workflow !== undefined) errors.push(...checkWorkflow(body.workflow));
    if (errors.length) throw invalid(errors);
    if (accounts.ids) await assertEmailAccounts(accounts.ids, body);
    if (body.workflow !== undefined && row.status === "paused") {
      const stranded = await contactsOnRemovedNodes(id, body.workflow);
      if (stranded.length) {
        throw conflict(
          `Contacts are waiting on nodes the new workflow removes: ${stranded.join(", ")}`,
          stranded.map((node) => ({ path: "workflow.nodes", message: `node "${node}" still has contacts waiting on it`, nodeId: node })),
        );
      }
      if (body.workflow) await followConditionEvents(id, body.workflow);
    }
    const [next] = await Database.use((db) =>
      db
        .update(campaignTable)
        .set({
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(accounts.ids ? { emailAccountId: accounts.ids[0]!, emailAccountIds: accounts.ids } : {}),
          ...(body.workflow !== undefined ? { workflow: body.workflow } : {}),
          ...settings,
          updatedAt: Clock.now(),
        })
        .where(eq(campaignTable.id, id))
        .returning(),
    );
    if (body.settings && next!.status === "paused") {
      await Database.afterCommit(() => Scheduler.use().put({ campaignId: id, window: settingsOf(next!), enabled: false }));
    }
    return next!;
  });
  return mustExist(updated.id);
});

export async function remove(id: string): Promise<{ id: string; deleted: true }> {
  return Database.transaction(async () => {
    const row = await lock(id);
    if (row.status !== "draft") {
      throw conflict(`Campaign is ${row.status}: only drafts can be deleted (archive it instead)`, [
        { path: "status", message: `is ${row.status}` },
      ]);
    }
    await Database.use((db) => db.delete(campaignTable).where(eq(campaignTable.id, id)));
    return { id, deleted: true as const };
  });
}

export type Action = "start" | "pause" | "resume" | "archive";

/** What each action tells the workspace's webhooks (in the action's transaction). */
const WEBHOOK_EVENTS = {
  start: "campaign.started",
  pause: "campaign.paused",
  resume: "campaign.resumed",
  archive: undefined,
} as const satisfies Record<Action, Webhook.NewEvent["type"] | undefined>;

/** SPEC §2's status machine: which statuses each action leaves from, and where it goes. */
export const TRANSITIONS: Record<Action, { from: CampaignStatus[]; to: CampaignStatus }> = {
  start: { from: ["draft"], to: "active" },
  pause: { from: ["active"], to: "paused" },
  resume: { from: ["paused"], to: "active" },
  archive: { from: ["completed", "paused", "draft"], to: "archived" },
};

async function refreshAccounts(campaignId: string): Promise<void> {
  // One statement, the request's first: its API key is fused into it (Database.write; it writes nothing).
  const accounts = await Database.write<Array<Pick<EmailAccount.EmailAccount, "id" | "email" | "status">>>({
    name: "campaign_unverified_accounts",
    query: (workspace, param) => sql`
      SELECT a.id, a.email, a.status FROM campaign c
      JOIN email_account a ON a.workspace_id = c.workspace_id AND a.id = ANY(c.email_account_ids)
      WHERE c.workspace_id = ${workspace} AND c.id = ${param("id")} AND a.status <> 'verified'`,
    params: { id: campaignId },
    decode: (rows) => rows as Array<Pick<EmailAccount.EmailAccount, "id" | "email" | "status">>,
  });
  for (const account of accounts) await EmailAccount.refreshStatus(account);
}

async function startProblems(row: Row): Promise<ErrorDetail[]> {
  const problems: ErrorDetail[] = [];
  const statuses = new Map((await EmailAccount.fromIDs(row.emailAccountIds)).map((a) => [a.id, a.status]));
  row.emailAccountIds.forEach((id, i) => {
    const status = statuses.get(id);
    if (status === "verified") return;
    const path = row.emailAccountIds.length === 1 ? "emailAccountId" : `emailAccountIds[${i}]`;
    problems.push({ path, message: `email account ${id} is ${status ?? "missing"}, not verified` });
  });
  if (!row.workflow) problems.push({ path: "workflow", message: "the campaign has no workflow" });
  else {
    problems.push(...Workflow.graphErrors(row.workflow));
    if (!Workflow.emailNodes(row.workflow).length) problems.push({ path: "workflow.nodes", message: "the workflow has no email node" });
  }
  if (row.totalContacts === 0) problems.push({ path: "contacts", message: "no contacts are enrolled" });
  return problems;
}

/**
 * Run a control action atomically: the row is locked, so of two concurrent `start`s one wins and
 * the other sees `active` (409). Scheduler calls happen after commit.
 */
export async function transition(id: string, action: Action): Promise<Campaign> {
  const rule = TRANSITIONS[action];
  // The account's verification is asked of SES before the row is locked: no SES call while a
  // transaction holds the campaign (the start then reads the status this refresh stored).
  if (action === "start") await refreshAccounts(id);
  await Database.transaction(async () => {
    const row = await lock(id);
    if (!rule.from.includes(row.status)) {
      throw conflict(`Cannot ${action} a campaign that is ${row.status}`, [
        { path: "status", message: `is ${row.status}; ${action} needs ${rule.from.join(" or ")}` },
      ]);
    }
    const now = Clock.now();
    const set: Partial<Row> = { status: rule.to, updatedAt: now };
    if (action === "start") {
      const problems = await startProblems(row);
      if (problems.length) throw conflict(`Campaign cannot start: ${problems.map((p) => p.message).join("; ")}`, problems);
      set.startedAt = row.startedAt ?? now;
      set.pauseReason = null;
      set.pausedReason = null;
      await Enrolment.scheduleFirstSteps(row.id, row.workflow!, settingsOf(row), now);
    }
    if (action === "pause") set.pausedAt = now;
    if (action === "resume") {
      // A new window for the deliverability guard: the emails before the pause no longer count.
      set.pauseReason = null;
      set.pausedReason = null;
      set.guardWindowStart = now;
    }
    if (action === "archive") set.archivedAt = now;
    await Database.use((db) => db.update(campaignTable).set(set).where(eq(campaignTable.id, id)));
    const type = WEBHOOK_EVENTS[action];
    if (type) {
      await Webhook.emit([{ type, key: `${id}:${now.getTime()}`, at: now, data: { campaign: { id, name: row.name, status: rule.to } } }]);
    }
    const window = settingsOf(row);
    await Database.afterCommit(() =>
      action === "archive" ? Scheduler.use().remove(id) : Scheduler.use().put({ campaignId: id, window, enabled: rule.to === "active" }),
    );
  });
  return mustExist(id);
}
