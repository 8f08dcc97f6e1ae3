import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import { invalid, notFound } from "../error";
import { createId } from "../util/id";
import { type Page, pageMeta, pageQuery, trimmed } from "../util/schema";
import { fn, fnFor } from "../util/validation";
import * as Address from "./address";
import { EVENT_TYPES, type EventType, ROTATION_OVERLAP_MS } from "./events";
import { webhookSubscriptionTable } from "./webhook.sql";

/**
 * Subscriptions (`/v1/webhooks`): a URL, the event types it wants, and the secret that signs what
 * it receives. The secret is shown at creation and on rotation only.
 */

export interface Subscription {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WithSecret extends Subscription {
  secret: string;
}

export const SUBSCRIPTION = pick(
  webhookSubscriptionTable,
  ["id", "url", "events", "description", "enabled", "disabledReason", "createdAt", "updatedAt"],
  "w",
);

const url = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.nonEmpty("is required"),
  v.maxLength(2048, "must be at most 2048 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const why = Address.urlRefusal(dataset.value);
    if (why) addIssue({ message: why });
  }),
);

const KNOWN = new Set<string>([...EVENT_TYPES, "*"]);

const events = v.pipe(
  v.array(v.string("must be a string"), "must be an array of event types"),
  v.minLength(1, "must list at least one event type"),
  v.maxLength(EVENT_TYPES.length + 1, `must list at most ${EVENT_TYPES.length + 1} event types`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const unknown = dataset.value.filter((type) => !KNOWN.has(type));
    if (unknown.length) {
      addIssue({ message: `unknown event types: ${unknown.join(", ")} (known: "*", ${EVENT_TYPES.join(", ")})` });
    }
  }),
  v.transform((list) => [...new Set(list)]),
);

const description = v.optional(v.nullable(trimmed(500)));

export const createSchema = v.object({ url, events, description });

export const updateSchema = v.object({
  url: v.optional(url),
  events: v.optional(events),
  description,
  enabled: v.optional(v.boolean("must be true or false")),
});

export const listQuery = v.object({ ...pageQuery });

const newSecret = () => `whsec_${randomBytes(24).toString("base64url")}`;

/** A name that resolves to a private address now is refused now (delivery checks again on connect). */
async function assertReachable(target: string) {
  const why = await Address.resolveRefusal(target);
  // An unresolvable name is accepted: the endpoint may not exist yet; attempts fail until it does.
  if (why && !why.endsWith("does not resolve")) throw invalid([{ path: "url", message: why }]);
}

export async function fromID(id: string): Promise<Subscription | undefined> {
  const [row] = await select(
    SUBSCRIPTION,
    sql`SELECT ${SUBSCRIPTION.list} FROM webhook_subscription w WHERE w.workspace_id = ${Actor.workspaceId()} AND w.id = ${id}`,
  );
  return row;
}

export async function mustExist(id: string): Promise<Subscription> {
  const found = await fromID(id);
  if (!found) throw notFound("Webhook", id);
  return found;
}

export async function list(query: v.InferOutput<typeof listQuery>): Promise<Page<Subscription>> {
  const workspaceId = Actor.workspaceId();
  const rows = await Database.rows<Record<string, unknown> & { total: number }>(sql`
    SELECT ${SUBSCRIPTION.list}, count(*) OVER ()::int AS total FROM webhook_subscription w
    WHERE w.workspace_id = ${workspaceId}
    ORDER BY w.created_at DESC, w.id DESC
    LIMIT ${query.perPage} OFFSET ${(query.page - 1) * query.perPage}`);
  let total = rows[0]?.total ?? 0;
  if (!rows.length && query.page > 1) {
    const [row] = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM webhook_subscription WHERE workspace_id = ${workspaceId}`,
    );
    total = row?.n ?? 0;
  }
  return { data: rows.map((row) => SUBSCRIPTION.decode(row)), meta: pageMeta(query.page, query.perPage, total) };
}

export const create = fn(createSchema, async (input): Promise<WithSecret> => {
  const workspaceId = Actor.workspaceId();
  await assertReachable(input.url);
  const secret = newSecret();
  const now = Clock.now();
  const [row] = await select(
    SUBSCRIPTION,
    sql`
    INSERT INTO webhook_subscription AS w (id, workspace_id, url, events, description, secret, created_at, updated_at)
    VALUES (${createId("webhook")}, ${workspaceId}, ${input.url}, ${Database.array(input.events, "text")}, ${input.description ?? null},
            ${secret}, ${now}, ${now})
    RETURNING ${SUBSCRIPTION.list}`,
  );
  return { ...row!, secret };
});

export const update = fnFor(updateSchema, async (id: string, patch): Promise<Subscription> => {
  const workspaceId = Actor.workspaceId();
  if (patch.url !== undefined) await assertReachable(patch.url);
  const sets = [sql`updated_at = ${Clock.now()}`];
  if (patch.url !== undefined) sets.push(sql`url = ${patch.url}`);
  if (patch.events !== undefined) sets.push(sql`events = ${Database.array(patch.events, "text")}`);
  if (patch.description !== undefined) sets.push(sql`description = ${patch.description}`);
  if (patch.enabled !== undefined) {
    sets.push(sql`enabled = ${patch.enabled}`);
    // Enabled again (by hand): the reason it was disabled and its run of failures are forgotten.
    if (patch.enabled) sets.push(sql`disabled_reason = NULL, failing_since = NULL, failures_since = 0`);
    else sets.push(sql`disabled_reason = 'disabled by the user'`);
  }
  const [row] = await select(
    SUBSCRIPTION,
    sql`UPDATE webhook_subscription w SET ${sql.join(sets, sql`, `)}
        WHERE w.workspace_id = ${workspaceId} AND w.id = ${id} RETURNING ${SUBSCRIPTION.list}`,
  );
  if (!row) throw notFound("Webhook", id);
  return row;
});

export async function remove(id: string): Promise<{ id: string; deleted: true }> {
  const [row] = await Database.rows<{ id: string }>(
    sql`DELETE FROM webhook_subscription WHERE workspace_id = ${Actor.workspaceId()} AND id = ${id} RETURNING id`,
  );
  if (!row) throw notFound("Webhook", id);
  return { id, deleted: true };
}

export interface Rotated extends WithSecret {
  /** Until then the previous secret signs too (a second `sha256=` value in the signature header). */
  previousSecretExpiresAt: Date;
}

/** A new secret; the current one keeps signing for 24 hours, beside it. */
export async function rotateSecret(id: string): Promise<Rotated> {
  const secret = newSecret();
  const now = Clock.now();
  const expires = new Date(now.getTime() + ROTATION_OVERLAP_MS);
  const [row] = await select(
    SUBSCRIPTION,
    sql`UPDATE webhook_subscription w
        SET previous_secret = w.secret, previous_secret_expires_at = ${expires}, secret = ${secret}, updated_at = ${now}
        WHERE w.workspace_id = ${Actor.workspaceId()} AND w.id = ${id} RETURNING ${SUBSCRIPTION.list}`,
  );
  if (!row) throw notFound("Webhook", id);
  return { ...row, secret, previousSecretExpiresAt: expires };
}

/** The secrets that sign now, newest first. */
export function signingSecrets(
  row: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now: Date,
): string[] {
  return row.previousSecret && row.previousSecretExpiresAt && row.previousSecretExpiresAt > now
    ? [row.secret, row.previousSecret]
    : [row.secret];
}

export type { EventType };
