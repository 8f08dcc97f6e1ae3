import { type SQL, sql } from "drizzle-orm";
import type * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import { contactTable } from "../contact/contact.sql";
import { contactConditions } from "../contact/filter";
import * as Database from "../database";
import { pick, unnest } from "../database/typed";
import { conflict, notFound } from "../error";
import { addDelays, dueAt, type SendWindow, windowOf } from "../schedule";
import { type Page, pageMeta } from "../util/schema";
import { fnFor } from "../util/validation";
import * as Workflow from "../workflow";
import { campaignContactTable, type PathStep } from "./campaign.sql";
import { completeIfDone } from "./complete";
import { lock, type Row, settingsOf } from "./lock";
import type * as Schema from "./schema";
import { addContactsSchema, removeContactsSchema } from "./schema";

/**
 * Who is in a campaign. Enrolment is one statement whatever the number of contacts: the
 * candidates are selected, the active ones inserted (already enrolled ones skipped by the primary
 * key), and the campaign's contact counter moved, together.
 */

const textArray = (values: readonly string[]) => Database.array(values, "text");

/** The first email and when it is due, for contacts starting now (`window`: the contact's, see `windowOf`). */
export function firstStep(workflow: Workflow.Workflow, window: SendWindow, from: Date) {
  const step = Workflow.nextStep(workflow);
  return { nodeId: step.nodeId, at: dueAt(addDelays(from, step.delays, window), window) };
}

/**
 * In `contact` timezone mode, the first step's due time of each timezone among `contacts` (a query
 * of `SELECT id`): `[{zone, at}]` for a join on the contact's timezone. Read before the statement
 * that schedules them (one read of the zones present, usually a handful); nothing in `campaign` mode.
 */
async function dueByZone(workflow: Workflow.Workflow, window: SendWindow, contacts: SQL, from: Date) {
  if (window.timezoneMode !== "contact") return [];
  const zones = await Database.rows<{ zone: string }>(sql`
    SELECT DISTINCT k.timezone AS zone FROM contact k WHERE k.id IN (${contacts}) AND k.timezone IS NOT NULL`);
  return zones.map(({ zone }) => ({ zone, at: firstStep(workflow, windowOf(window, zone), from).at }));
}

/** `next_run_at` of contact `k`: its zone's due time, or the campaign's. */
function dueOf(zones: Array<{ zone: string; at: Date | null }>, fallback: Date | null, contactId: SQL): SQL {
  if (!zones.length) return sql`${fallback}::timestamptz`;
  return sql`coalesce((SELECT z.at FROM ${unnest(zones, { zone: ["text", (z) => z.zone], at: ["timestamptz", (z) => z.at] }, "z")}
    WHERE z.zone = (SELECT k.timezone FROM contact k WHERE k.id = ${contactId})), ${fallback}::timestamptz)`;
}

/** On start: every contact enrolled in the draft gets its first step. */
export async function scheduleFirstSteps(campaignId: string, workflow: Workflow.Workflow, window: SendWindow, now: Date) {
  const step = firstStep(workflow, window, now);
  const zones = await dueByZone(
    workflow,
    window,
    sql`SELECT contact_id FROM campaign_contact WHERE campaign_id = ${campaignId} AND status = 'pending'`,
    now,
  );
  await Database.use((db) =>
    db.execute(sql`
      UPDATE campaign_contact cc SET current_node_id = ${step.nodeId}, next_run_at = ${dueOf(zones, step.at, sql`cc.contact_id`)}, updated_at = ${now}
      WHERE campaign_id = ${campaignId} AND status = 'pending'`),
  );
}

export type SkipReason = "already_enrolled" | "unsubscribed" | "bounced" | "complained";

export interface AddResult {
  added: number;
  skipped: number;
  errors: Array<{ id: string; code: "NOT_FOUND" }>;
  /**
   * When contacts were named by id and some were skipped: why each one was. Suppressed addresses show as
   * the status the suppression list gave the contact (unsubscribed, bounced, complained).
   */
  skippedContacts?: Array<{ id: string; reason: SkipReason }>;
}

const ENROLLING: Row["status"][] = ["draft", "active", "paused"];

function assertEnrolling(row: Row) {
  if (!ENROLLING.includes(row.status)) {
    throw conflict(`Campaign is ${row.status}: contacts can be added or removed in draft, active or paused campaigns`, [
      { path: "status", message: `is ${row.status}` },
    ]);
  }
}

export const add = fnFor(addContactsSchema, async (campaignId: string, body): Promise<AddResult> => {
  return Database.transaction(async () => {
    const workspaceId = Actor.workspaceId();
    const row = await lock(campaignId);
    assertEnrolling(row);
    const now = Clock.now();
    // Contacts joining a started campaign start right away; in a draft they wait for `start`.
    const window = settingsOf(row);
    const step = row.status !== "draft" && row.workflow ? firstStep(row.workflow, window, now) : { nodeId: null, at: null };

    let requested: SQL = sql`SELECT NULL::text AS id WHERE false`;
    let known: SQL;
    let candidates: SQL;
    if (body.contactIds) {
      requested = sql`SELECT DISTINCT unnest(${textArray(body.contactIds)}) AS id`;
      known = sql`SELECT id FROM contact WHERE workspace_id = ${workspaceId} AND id IN (SELECT id FROM requested)`;
      candidates = sql`SELECT id, status FROM contact WHERE workspace_id = ${workspaceId} AND id IN (SELECT id FROM requested)`;
    } else if (body.groupIds) {
      requested = sql`SELECT DISTINCT unnest(${textArray(body.groupIds)}) AS id`;
      known = sql`SELECT id FROM contact_group WHERE workspace_id = ${workspaceId} AND id IN (SELECT id FROM requested)`;
      // A contact in several of the groups is one candidate.
      const distinct = body.groupIds.length > 1 ? sql`DISTINCT` : sql``;
      candidates = sql`
        SELECT ${distinct} c.id, c.status FROM group_member gm JOIN contact c ON c.id = gm.contact_id
        WHERE gm.group_id IN (SELECT id FROM known) AND c.workspace_id = ${workspaceId}`;
    } else {
      const filters = body.filters!;
      known = sql`SELECT NULL::text AS id WHERE false`;
      candidates = sql`SELECT "contact"."id" AS id, "contact"."status" AS status FROM contact WHERE ${contactConditions(workspaceId, filters)}`;
    }
    const zones =
      step.nodeId && row.workflow
        ? await dueByZone(
            row.workflow,
            window,
            sql`WITH requested AS (${requested}), known AS (${known}) SELECT id FROM (${candidates}) c`,
            now,
          )
        : [];
    const [result] = await Database.rows<{
      matched: number;
      added: number;
      missing: string[];
      skipped: Array<{ id: string; reason: SkipReason }>;
    }>(sql`
      WITH requested AS (${requested}),
      known AS (${known}),
      candidates AS (${candidates}),
      inserted AS (
        INSERT INTO campaign_contact (campaign_id, contact_id, workspace_id, status, current_node_id, next_run_at, created_at, updated_at)
        SELECT ${campaignId}, id, ${workspaceId}, 'pending', ${step.nodeId}, ${dueOf(zones, step.at, sql`c.id`)}, ${now}, ${now}
        FROM candidates c WHERE c.status = 'active'
          -- Already enrolled ones are skipped; the campaign row lock keeps concurrent adds apart.
          AND NOT EXISTS (SELECT 1 FROM campaign_contact x WHERE x.campaign_id = ${campaignId} AND x.contact_id = c.id)
        RETURNING contact_id
      ),
      counted AS (
        UPDATE campaign SET total_contacts = total_contacts + (SELECT count(*) FROM inserted), updated_at = ${now}
        WHERE id = ${campaignId} RETURNING 1
      )
      SELECT (SELECT count(*)::int FROM candidates) AS matched,
             (SELECT count(*)::int FROM inserted) AS added,
             ARRAY(SELECT id FROM requested WHERE id NOT IN (SELECT id FROM known) ORDER BY id) AS missing,
             ${
               body.contactIds
                 ? sql`(SELECT coalesce(json_agg(json_build_object('id', c.id,
                          'reason', CASE WHEN c.status <> 'active' THEN c.status ELSE 'already_enrolled' END) ORDER BY c.id), '[]')
                        FROM candidates c WHERE c.id NOT IN (SELECT contact_id FROM inserted))`
                 : sql`NULL`
             } AS skipped
      FROM counted`);
    return {
      added: result!.added,
      skipped: result!.matched - result!.added,
      errors: result!.missing.map((id) => ({ id, code: "NOT_FOUND" as const })),
      ...(body.contactIds && result!.skipped.length ? { skippedContacts: result!.skipped } : {}),
    };
  });
});

export const remove = fnFor(removeContactsSchema, async (campaignId: string, { contactIds }): Promise<{ removed: number }> => {
  const removed = await Database.transaction(async () => {
    const row = await lock(campaignId);
    assertEnrolling(row);
    const now = Clock.now();
    const [result] = await Database.rows<{ removed: number }>(sql`
      WITH deleted AS (
        DELETE FROM campaign_contact WHERE campaign_id = ${campaignId} AND contact_id = ANY(${textArray(contactIds)})
        RETURNING 1
      ),
      counted AS (
        UPDATE campaign SET total_contacts = total_contacts - (SELECT count(*) FROM deleted), updated_at = ${now}
        WHERE id = ${campaignId} RETURNING 1
      )
      SELECT (SELECT count(*)::int FROM deleted) AS removed FROM counted`);
    return { removed: result!.removed, active: row.status === "active" };
  });
  // Removing the last contacts with steps to go completes an active campaign.
  if (removed.active && removed.removed) await completeIfDone(campaignId);
  return { removed: removed.removed };
});

export interface CampaignContact {
  contactId: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  status: (typeof campaignContactTable.$inferSelect)["status"];
  /** The node the contact waits at: the email it is sent next, or a condition. */
  currentNodeId: string | null;
  /** At a condition: the event it waits for (null at an email). */
  waitingFor: Workflow.ConditionEvent | null;
  /** The conditions answered so far, in order. */
  path: PathStep[];
  /** When the next email is due; at a condition, when it is answered at the latest ("no" at its deadline). */
  nextSendAt: Date | null;
  lastSentAt: Date | null;
  /** An out-of-office reply holds the next email until then (null: no hold, or it has passed). */
  holdUntil: Date | null;
  /** The current step's email while SES's answer is unknown (see sending/evidence). */
  sending: { messageId: string; nodeId: string; since: Date } | null;
  error: string | null;
  addedAt: Date;
  updatedAt: Date;
}

const LISTED_PROGRESS = pick(
  campaignContactTable,
  ["contactId", "status", "currentNodeId", "waitingFor", "path", "nextRunAt", "lastSentAt", "holdUntil", "error", "createdAt", "updatedAt"],
  "cc",
);
const LISTED_CONTACT = pick(contactTable, ["email", "firstName", "lastName"], "c");

export async function list(campaignId: string, query: v.InferOutput<typeof Schema.contactsQuery>): Promise<Page<CampaignContact>> {
  const workspaceId = Actor.workspaceId();
  const [exists] = await Database.rows<{ id: string }>(
    sql`SELECT id FROM campaign WHERE id = ${campaignId} AND workspace_id = ${workspaceId}`,
  );
  if (!exists) throw notFound("Campaign", campaignId);
  const status = query.status ? sql` AND cc.status = ${query.status}` : sql``;
  const raw = await Database.rows<{ sending_id: string | null; sending_since: Date | string | null; total: number }>(sql`
    SELECT ${LISTED_PROGRESS.list}, ${LISTED_CONTACT.list},
           m.id AS sending_id, m.created_at AS sending_since,
           (SELECT count(*)::int FROM campaign_contact x WHERE x.campaign_id = ${campaignId}${query.status ? sql` AND x.status = ${query.status}` : sql``}) AS total
    FROM campaign_contact cc JOIN contact c ON c.id = cc.contact_id
    LEFT JOIN message m ON m.campaign_id = cc.campaign_id AND m.contact_id = cc.contact_id AND m.node_id = cc.current_node_id
                       AND m.status = 'sending'
    WHERE cc.campaign_id = ${campaignId}${status}
    ORDER BY cc.created_at, cc.contact_id
    LIMIT ${query.perPage} OFFSET ${(query.page - 1) * query.perPage}`);
  let total = raw[0]?.total ?? 0;
  if (!raw.length && query.page > 1) {
    const [row] = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM campaign_contact cc WHERE cc.campaign_id = ${campaignId}${status}`,
    );
    total = row?.n ?? 0;
  }
  return {
    data: raw.map((r) => {
      const { createdAt: addedAt, nextRunAt: nextSendAt, holdUntil, ...progress } = LISTED_PROGRESS.decode(r);
      const sending =
        r.sending_id && r.sending_since && progress.currentNodeId
          ? { messageId: r.sending_id, nodeId: progress.currentNodeId, since: Database.toDate(r.sending_since) }
          : null;
      // A hold is shown while it holds: once passed it no longer explains anything.
      const held = holdUntil && holdUntil > Clock.now() && progress.status === "in_progress" ? holdUntil : null;
      return { ...progress, ...LISTED_CONTACT.decode(r), nextSendAt, holdUntil: held, sending, addedAt };
    }),
    meta: pageMeta(query.page, query.perPage, total),
  };
}
