import { type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import * as Activity from "../activity";
import * as Actor from "../actor";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import { select } from "../database/typed";
import { conflict, notFound } from "../error";
import * as Suppression from "../suppression";
import { emailAddress, type Page, pageMeta, pageQuery, trimmed } from "../util/schema";
import { fn, fnFor, rowDetails } from "../util/validation";

/**
 * The suppression list as users manage it (`/v1/suppressions`): list, add by hand (an address or
 * a whole domain), import up to 1,000 entries, and delete. Adding an entry applies it at once:
 * contacts with that address (or at that domain) stop being emailable and their open sequences
 * stop. Deleting an automatic entry (a bounce, complaint or unsubscribe recorded it) must be
 * confirmed, and is recorded in the activity of the contact it concerns.
 */

export type Entry = Suppression.Entry;

const { ENTRY, toEntry } = Suppression;

/** A domain name: labels of letters, digits and hyphens (IDNs in their xn-- form), a dot between. */
export const domainName = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.nonEmpty("is required"),
  v.maxLength(253, "must be at most 253 characters"),
  v.regex(
    /^(?!-)(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z][A-Za-z0-9-]{0,62}$/,
    "must be a domain name such as example.com (no @; an international name in its xn-- form)",
  ),
  v.toLowerCase(),
);

const note = v.optional(v.nullable(trimmed(500)));

/** `{email}` or `{domain}`, with an optional note. */
export const entrySchema = v.pipe(
  v.object({ email: v.optional(emailAddress), domain: v.optional(domainName), note }, "must be an object with email or domain"),
  v.check((e) => (e.email === undefined) !== (e.domain === undefined), "give either email or domain, not both"),
);

export const createSchema = entrySchema;

export const bulkSchema = v.object({
  entries: v.pipe(
    v.array(v.unknown(), "must be an array of entries"),
    v.minLength(1, "must hold at least one entry"),
    v.maxLength(1000, "must hold at most 1000 entries"),
  ),
});

export const listQuery = v.object({
  ...pageQuery,
  reason: v.optional(v.picklist(Suppression.SUPPRESSION_REASONS, `must be one of ${Suppression.SUPPRESSION_REASONS.join(", ")}`)),
  email: v.optional(emailAddress),
  domain: v.optional(domainName),
});

export const removeQuery = v.object({
  confirm: v.optional(v.picklist(["true", "false"], "must be true or false"), "false"),
});

export async function fromID(id: string): Promise<Entry | undefined> {
  const [row] = await select(ENTRY, sql`SELECT ${ENTRY.list} FROM suppression WHERE workspace_id = ${Actor.workspaceId()} AND id = ${id}`);
  return row && toEntry(row);
}

/**
 * Entries, newest first. `email` finds what suppresses that address (its own entry or its
 * domain's); `domain` lists the domain's entry and the addresses listed at that domain.
 */
export async function list(query: v.InferOutput<typeof listQuery>): Promise<Page<Entry>> {
  const workspaceId = Actor.workspaceId();
  const filters: SQL[] = [sql`workspace_id = ${workspaceId}`];
  if (query.reason) filters.push(sql`reason = ${query.reason}`);
  if (query.email) {
    filters.push(sql`(email_hash = ${Suppression.hashOf(query.email)} OR domain = ${Suppression.domainOf(query.email)})`);
  }
  if (query.domain) {
    filters.push(sql`(domain = ${query.domain} OR (email IS NOT NULL AND ${Suppression.domainOf(sql`email`)} = ${query.domain}))`);
  }
  const where = sql.join(filters, sql` AND `);
  const rows = await Database.rows<Record<string, unknown> & { total: number }>(sql`
    SELECT ${ENTRY.list}, count(*) OVER ()::int AS total FROM suppression WHERE ${where}
    ORDER BY created_at DESC, id DESC
    LIMIT ${query.perPage} OFFSET ${(query.page - 1) * query.perPage}`);
  let total = rows[0]?.total ?? 0;
  if (!rows.length && query.page > 1) {
    const [row] = await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM suppression WHERE ${where}`);
    total = row?.n ?? 0;
  }
  return { data: rows.map((raw) => toEntry(ENTRY.decode(raw))), meta: pageMeta(query.page, query.perPage, total) };
}

type Target = Suppression.Target & { note?: string | null };

/** Add manual entries and apply them to the contacts they match, in one transaction. */
async function addManual(workspaceId: string, targets: readonly Target[]): Promise<Array<{ entry: Entry; created: boolean }>> {
  const at = Clock.now();
  const touched = new Set<string>();
  const results = await Database.transaction(async () => {
    const out: Array<{ entry: Entry; created: boolean }> = [];
    for (const target of targets) {
      const { entry, created } = await Suppression.put(workspaceId, target, "manual", { note: target.note ?? null, at });
      if (created) for (const id of await Suppression.applyToContacts(workspaceId, entry, at)) touched.add(id);
      out.push({ entry, created });
    }
    return out;
  });
  for (const campaignId of touched) await completeIfDone(campaignId);
  return results;
}

/** Add one address or domain by hand. An address or domain already listed is a 409 naming its entry. */
export const create = fn(createSchema, async (input): Promise<Entry> => {
  const target: Target = input.email !== undefined ? { email: input.email, note: input.note } : { domain: input.domain!, note: input.note };
  const [result] = await addManual(Actor.workspaceId(), [target]);
  if (!result!.created) {
    const what = input.email !== undefined ? `The address ${input.email}` : `The domain ${input.domain}`;
    throw conflict(`${what} is already on the suppression list (${result!.entry.id}, ${result!.entry.reason})`, [
      { path: input.email !== undefined ? "email" : "domain", message: `already suppressed by ${result!.entry.id}` },
    ]);
  }
  return result!.entry;
});

export interface BulkError {
  index: number;
  code: "VALIDATION_ERROR";
  message: string;
  details: Array<{ path: string; message: string }>;
}

export interface BulkResult {
  created: number;
  /** Already on the list (or twice in the request). */
  skipped: number;
  errors: BulkError[];
}

/** Up to 1,000 entries in one transaction; invalid ones are reported by index, the others added. */
export const bulk = fn(bulkSchema, async (input): Promise<BulkResult> => {
  const errors: BulkError[] = [];
  const targets: Target[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  input.entries.forEach((raw, index) => {
    const result = v.safeParse(entrySchema, raw);
    if (!result.success) {
      errors.push({
        index,
        code: "VALIDATION_ERROR",
        message: "Invalid entry",
        details: rowDetails(result.issues, "entries", index),
      });
      return;
    }
    const { email, domain, note } = result.output;
    const key = email !== undefined ? `e:${email.toLowerCase()}` : `d:${domain}`;
    if (seen.has(key)) {
      skipped++;
      return;
    }
    seen.add(key);
    targets.push(email !== undefined ? { email, note } : { domain: domain!, note });
  });
  const results = targets.length ? await addManual(Actor.workspaceId(), targets) : [];
  const created = results.filter((r) => r.created).length;
  return { created, skipped: skipped + results.length - created, errors };
});

/**
 * Delete an entry: the address (or domain) may be emailed again, by contacts created or updated
 * from now on. Contacts that took a status from it keep it (a status is history; change it on the
 * contact). An automatic entry needs `confirm` and is recorded in the activity of every campaign
 * the contact with that address is in.
 */
export const remove = fnFor(removeQuery, async (id: string, query): Promise<{ id: string; deleted: true }> => {
  const workspaceId = Actor.workspaceId();
  await Database.transaction(async () => {
    const [row] = await select(
      ENTRY,
      sql`SELECT ${ENTRY.list} FROM suppression WHERE workspace_id = ${workspaceId} AND id = ${id} FOR UPDATE`,
    );
    if (!row) throw notFound("Suppression", id);
    if (row.reason !== "manual" && query.confirm !== "true") {
      throw conflict(`Suppression ${id} was added by a ${row.reason} event: deleting it needs ?confirm=true`, [
        { path: "confirm", message: `must be true to delete an entry added by a ${row.reason} event` },
      ]);
    }
    await Database.rows(sql`DELETE FROM suppression WHERE id = ${id}`);
    if (row.reason === "manual" || row.email === null) return;
    const at = Clock.now();
    const enrolled = await Database.rows<{ campaign_id: string; contact_id: string }>(sql`
      SELECT cc.campaign_id, c.id AS contact_id FROM contact c JOIN campaign_contact cc ON cc.contact_id = c.id
      WHERE c.workspace_id = ${workspaceId} AND c.email_key = lower(${row.email})`);
    for (const { campaign_id: campaignId, contact_id: contactId } of enrolled) {
      await Activity.record({
        workspaceId,
        campaignId,
        contactId,
        type: "unsuppressed",
        occurredAt: at,
        metadata: { suppressionId: id, reason: row.reason },
        providerKey: `unsuppressed:${id}:${campaignId}`,
      });
    }
  });
  return { id, deleted: true as const };
});
