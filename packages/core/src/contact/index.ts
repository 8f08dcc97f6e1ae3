import { and, asc, desc, eq, getTableColumns, inArray, type SQL, sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Render from "../database/render";
import { owned, pick, read, renderedById as rendered, rowById, type Scoped } from "../database/typed";
import { conflict, notFound } from "../error";
import * as Group from "../group";
import { groupMemberTable } from "../group/group.sql";
import * as Suppression from "../suppression";
import { createId } from "../util/id";
import { type Page, pageMeta } from "../util/schema";
import { fn, fnFor, rowDetails } from "../util/validation";
import * as Webhook from "../webhook";
import { type ContactStatus, type CustomFieldValue, contactTable } from "./contact.sql";
import { type ContactFilter, contactConditions } from "./filter";
import * as Schema from "./schema";

export { CONTACT_STATUSES, type ContactStatus, contactTable } from "./contact.sql";
export { type ContactFilter, contactConditions } from "./filter";
export * as Schema from "./schema";

export interface Contact {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  jobTitle: string | null;
  phone: string | null;
  website: string | null;
  status: ContactStatus;
  groups: Array<{ id: string; name: string }>;
  tags: string[];
  customFields: Record<string, CustomFieldValue>;
  /** IANA timezone, or null (campaigns then use their own). */
  timezone: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const { emailKey: _emailKey, workspaceId: _workspaceId, ...publicColumns } = getTableColumns(contactTable);

// The outer column is spelled out: in a one-table select Drizzle renders `${contactTable.id}` as a
// bare "id", which inside this subquery would resolve to g.id and match nothing.
const GROUPS_OF_CONTACT = `coalesce((
  SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name, g.id)
  FROM group_member gm JOIN contact_group g ON g.id = gm.group_id
  WHERE gm.contact_id = "contact"."id"), '[]'::json)`;
const groupsOfContact = sql.raw(GROUPS_OF_CONTACT) as SQL<Contact["groups"]>;

const selection = { ...publicColumns, groups: groupsOfContact };

/** Tags are kept sorted and unique. */
function normalizeTags(tags: readonly string[] | undefined): string[] {
  return [...new Set(tags ?? [])].sort();
}

const textArray = (values: readonly string[]) => Database.array(values, "text");

const PUBLIC = pick(contactTable, Object.keys(publicColumns) as Array<keyof typeof publicColumns>);

/** The contact with its groups: one statement, alone or fused with the API key's. */
export const byId: (id: string) => Scoped<Contact | undefined> = rowById(
  "contact",
  sql`${PUBLIC.list}, ${groupsOfContact} AS groups`,
  (row) => ({
    ...PUBLIC.decode(row),
    groups: row.groups as Contact["groups"],
  }),
);

/**
 * `byId`'s contact as its API answer's JSON text, built by PostgreSQL (database/render.ts), key
 * for key what `JSON.stringify` of `byId`'s contact writes (a test holds the two together).
 */
export const renderedById = rendered(
  "contact",
  Render.object({
    ...Object.fromEntries(Object.entries(publicColumns).map(([key, column]) => [key, Render.column(column)])),
    groups: Render.raw(`(${GROUPS_OF_CONTACT})::text`),
  }),
);

export function fromID(id: string): Promise<Contact | undefined> {
  return read(byId(id));
}

/** Many contacts of the workspace by id (in no particular order). */
async function contactsByIds(ids: readonly string[]): Promise<Contact[]> {
  const workspaceId = Actor.workspaceId();
  return Database.use((db) =>
    db
      .select(selection)
      .from(contactTable)
      .where(and(eq(contactTable.workspaceId, workspaceId), inArray(contactTable.id, [...ids]))),
  );
}

async function mustExist(id: string): Promise<Contact> {
  const contact = await fromID(id);
  if (!contact) throw notFound("Contact", id);
  return contact;
}

async function addMemberships(workspaceId: string, contactIds: string[], groupIds: readonly string[]) {
  if (!contactIds.length || !groupIds.length) return;
  await Database.use((db) =>
    db
      .insert(groupMemberTable)
      .values(contactIds.flatMap((contactId) => [...new Set(groupIds)].map((groupId) => ({ groupId, contactId, workspaceId }))))
      .onConflictDoNothing(),
  );
}

export const create = fn(Schema.createSchema, (input): Promise<Contact> => {
  return Database.transaction(async () => {
    const workspaceId = Actor.workspaceId();
    await Group.assertExist(input.groupIds ?? []);
    const id = createId("contact");
    const status = await statusOnArrival(workspaceId, input.email, input.status);
    const inserted = await Database.use((db) =>
      db
        .insert(contactTable)
        .values(newRow(id, workspaceId, input, status))
        .onConflictDoNothing()
        .returning({ id: contactTable.id }),
    );
    if (!inserted.length)
      throw conflict(`A contact with email ${input.email} already exists`, [{ path: "email", message: "already exists" }]);
    await addMemberships(workspaceId, [id], input.groupIds ?? []);
    const contact = await mustExist(id);
    await Webhook.emit([{ type: "contact.created", key: id, at: contact.createdAt, data: { contact } }]);
    return contact;
  });
});

/** A new contact's row: what the input gives, its absent fields empty. */
function newRow(
  id: string,
  workspaceId: string,
  input: v.InferOutput<typeof Schema.bulkRowSchema>,
  status: ContactStatus,
): typeof contactTable.$inferInsert {
  return {
    id,
    workspaceId,
    email: input.email,
    firstName: input.firstName ?? null,
    lastName: input.lastName ?? null,
    company: input.company ?? null,
    jobTitle: input.jobTitle ?? null,
    phone: input.phone ?? null,
    website: input.website ?? null,
    status,
    tags: normalizeTags(input.tags),
    customFields: input.customFields ?? {},
    timezone: input.timezone ?? null,
  };
}

/** Statuses that keep a contact from ever being emailed again (SPEC §3). */
const SUPPRESSED: ContactStatus[] = ["unsubscribed", "bounced", "complained"];
const isSuppressedStatus = (status: ContactStatus | undefined): status is Suppression.ContactSuppressedStatus =>
  status !== undefined && SUPPRESSED.includes(status);

/**
 * The status a contact arriving with `email` gets: one on the suppression list takes the status
 * its entry gives (never `active`); one given a suppressed status puts its address on the list.
 */
async function statusOnArrival(workspaceId: string, email: string, requested: ContactStatus | undefined): Promise<ContactStatus> {
  if (isSuppressedStatus(requested)) {
    await Suppression.put(workspaceId, { email }, requested);
    return requested;
  }
  const reason = (await Suppression.reasonsFor(workspaceId, [email])).get(email);
  return reason ? Suppression.contactStatus(reason) : "active";
}

export const update = fnFor(Schema.updateSchema, async (id: string, patch): Promise<Contact> => {
  return Database.transaction(() => updateParsed(id, patch));
});

async function updateParsed(id: string, patch: v.InferOutput<typeof Schema.updateSchema>): Promise<Contact> {
  const workspaceId = Actor.workspaceId();
  if (patch.status === "active") {
    const current = await mustExist(id);
    if (SUPPRESSED.includes(current.status)) {
      throw conflict(`Contact is ${current.status}: an unsubscribed, bounced or complained contact cannot be made active again`, [
        { path: "status", message: `is ${current.status}` },
      ]);
    }
  }
  const { customFields, tags, ...columns } = patch;
  const set: Record<string, unknown> = { ...columns, updatedAt: sql`now()` };
  if (tags) set.tags = normalizeTags(tags);
  if (customFields) {
    const kept = Object.fromEntries(Object.entries(customFields).filter(([, value]) => value !== null));
    const removed = Object.keys(customFields).filter((key) => customFields[key] === null);
    set.customFields = sql`(${contactTable.customFields} || ${JSON.stringify(kept)}::jsonb) - ${textArray(removed)}`;
  }
  if (patch.email) {
    // Another workspace's contact is a missing one: 404 before any check of the new email.
    await mustExist(id);
    const taken = await Database.use((db) =>
      db
        .select({ id: contactTable.id })
        .from(contactTable)
        .where(and(eq(contactTable.workspaceId, workspaceId), sql`${contactTable.emailKey} = lower(${patch.email})`)),
    );
    if (taken.some((row) => row.id !== id)) {
      throw conflict(`A contact with email ${patch.email} already exists`, [{ path: "email", message: "already exists" }]);
    }
  }
  if (isSuppressedStatus(patch.status) || patch.email) {
    // A suppressed status puts the address on the list; an active contact moved to an address
    // on the list takes the status its entry gives.
    const current = await mustExist(id);
    const email = patch.email ?? current.email;
    if (isSuppressedStatus(patch.status)) await Suppression.put(workspaceId, { email }, patch.status);
    else if ((patch.status ?? current.status) === "active") set.status = await statusOnArrival(workspaceId, email, "active");
  }
  const [row] = await Database.use((db) =>
    db.update(contactTable).set(set).where(owned(contactTable, id)).returning({ id: contactTable.id }),
  );
  if (!row) throw notFound("Contact", id);
  const contact = await mustExist(id);
  await Webhook.emit([{ type: "contact.updated", key: `${id}:${contact.updatedAt.getTime()}`, at: contact.updatedAt, data: { contact } }]);
  return contact;
}

export async function remove(id: string): Promise<{ id: string; deleted: true }> {
  // Its enrolments go with it (the foreign key cascades); each campaign's `totalContacts` is
  // lowered in the same statement (a data-modifying CTE always runs), so `start` sees a campaign left with no contact (SPEC §2: 409).
  return Database.transaction(async () => {
    const workspaceId = Actor.workspaceId();
    const [row] = await Database.rows<{ id: string; email: string }>(sql`
    WITH enrolled AS (
      DELETE FROM campaign_contact WHERE workspace_id = ${workspaceId} AND contact_id = ${id} RETURNING campaign_id
    ),
    counted AS (
      UPDATE campaign SET total_contacts = campaign.total_contacts - n.count
      FROM (SELECT campaign_id, count(*)::int AS count FROM enrolled GROUP BY campaign_id) n
      WHERE campaign.id = n.campaign_id RETURNING 1
    )
    DELETE FROM contact WHERE workspace_id = ${workspaceId} AND id = ${id} RETURNING id, email`);
    if (!row) throw notFound("Contact", id);
    const at = Clock.now();
    await Webhook.emit([{ type: "contact.deleted", key: id, at, data: { contact: { id, email: row.email } } }]);
    return { id, deleted: true as const };
  });
}

const SORT_COLUMNS = {
  createdAt: contactTable.createdAt,
  updatedAt: contactTable.updatedAt,
  email: contactTable.emailKey,
  firstName: contactTable.firstName,
  lastName: contactTable.lastName,
  company: contactTable.company,
} as const;

async function page(
  filter: ContactFilter,
  sort: keyof typeof SORT_COLUMNS,
  direction: "asc" | "desc",
  pageNumber: number,
  perPage: number,
): Promise<Page<Contact>> {
  const workspaceId = Actor.workspaceId();
  const where = contactConditions(workspaceId, filter);
  const by = direction === "asc" ? asc : desc;
  const column = SORT_COLUMNS[sort];
  const nullsLast: SQL = sql`${column} ${sql.raw(direction)} NULLS LAST`;
  const rows = await Database.use((db) => {
    // Page first (ids only, with the total), then groups for those rows alone: the groups
    // subquery never runs for the rows an OFFSET skips.
    const page = db
      .select({ pageId: contactTable.id, total: sql<number>`count(*) OVER ()::int`.as("total") })
      .from(contactTable)
      .where(where)
      .orderBy(nullsLast, by(contactTable.id))
      .limit(perPage)
      .offset((pageNumber - 1) * perPage)
      .as("page");
    return db
      .select({ ...selection, total: page.total })
      .from(contactTable)
      .innerJoin(page, eq(contactTable.id, page.pageId))
      .orderBy(nullsLast, by(contactTable.id));
  });
  let total = rows[0]?.total ?? 0;
  if (!rows.length && pageNumber > 1) {
    const [row] = await Database.use((db) => db.select({ n: sql<number>`count(*)::int` }).from(contactTable).where(where));
    total = row?.n ?? 0;
  }
  return { data: rows.map(({ total: _, ...contact }) => contact), meta: pageMeta(pageNumber, perPage, total) };
}

/** The contact list; `query` is `Schema.listQuery`'s output (the HTTP layer parses the URL). */
export const list = (query: v.InferOutput<typeof Schema.listQuery>) =>
  page(
    {
      email: query.email,
      status: query.status,
      groupIds: query.groupId ? [query.groupId] : undefined,
      tags: query.tag ? [query.tag] : undefined,
      timezone: query.timezone,
    },
    query.sort,
    query.order,
    query.page,
    query.perPage,
  );

export const search = fn(Schema.searchSchema, (input) =>
  page(
    {
      query: input.query,
      status: input.filters.status,
      groupIds: input.filters.groups,
      tags: input.filters.tags,
      customFields: input.filters.customFields,
      timezone: input.filters.timezone,
    },
    input.sort.field,
    input.sort.order,
    input.page,
    input.perPage,
  ),
);

export interface BulkError {
  index: number;
  email?: string;
  code: "VALIDATION_ERROR";
  message: string;
  details: Array<{ path: string; message: string }>;
}

export interface BulkResult {
  created: number;
  updated: number;
  skipped: number;
  errors: BulkError[];
}

/**
 * Import up to 1000 contacts in one transaction. Invalid rows are reported with their index and
 * the others imported. An email already in the workspace (or earlier in the same request) is
 * skipped, or with `onDuplicate: "update"` updated: given fields overwrite, custom fields merge,
 * tags add up. An import never changes an existing contact's status, so re-importing a list
 * cannot re-activate unsubscribed or bounced contacts.
 */
export const bulk = fn(Schema.bulkSchema, async (input): Promise<BulkResult> => {
  const errors: BulkError[] = [];
  const rows: Array<v.InferOutput<typeof Schema.bulkRowSchema>> = [];
  const seen = new Set<string>();
  let skipped = 0;
  input.contacts.forEach((raw, index) => {
    const result = v.safeParse(Schema.bulkRowSchema, raw);
    if (!result.success) {
      const email = (raw as { email?: unknown } | null)?.email;
      errors.push({
        index,
        ...(typeof email === "string" ? { email } : {}),
        code: "VALIDATION_ERROR",
        message: "Invalid contact",
        details: rowDetails(result.issues, "contacts", index),
      });
      return;
    }
    const key = result.output.email.toLowerCase();
    if (seen.has(key)) {
      skipped++;
      return;
    }
    seen.add(key);
    rows.push(result.output);
  });
  // The request's first statement (its API key rides on it): the groups' check, else the BEGIN.
  await Group.assertExist(input.groupIds ?? []);
  if (!rows.length) return { created: 0, updated: 0, skipped, errors };

  return Database.transaction(async () => {
    const workspaceId = Actor.workspaceId();
    const suppressed = await Suppression.reasonsFor(
      workspaceId,
      rows.map((row) => row.email),
    );
    await Suppression.putMany(
      workspaceId,
      rows.flatMap((row) => (isSuppressedStatus(row.status) ? [{ email: row.email, reason: row.status }] : [])),
      new Date(),
    );
    const statusOf = (row: (typeof rows)[number]): ContactStatus => {
      if (row.status && row.status !== "active") return row.status;
      const reason = suppressed.get(row.email);
      return reason ? Suppression.contactStatus(reason) : "active";
    };
    const values = rows.map((row) => newRow(createId("contact"), workspaceId, row, statusOf(row)));
    const written = await Database.use((db) => {
      const insert = db.insert(contactTable).values(values);
      const upsert =
        input.onDuplicate === "update"
          ? insert.onConflictDoUpdate({
              target: [contactTable.workspaceId, contactTable.emailKey],
              set: {
                firstName: sql`coalesce(excluded.first_name, ${contactTable.firstName})`,
                lastName: sql`coalesce(excluded.last_name, ${contactTable.lastName})`,
                company: sql`coalesce(excluded.company, ${contactTable.company})`,
                jobTitle: sql`coalesce(excluded.job_title, ${contactTable.jobTitle})`,
                phone: sql`coalesce(excluded.phone, ${contactTable.phone})`,
                website: sql`coalesce(excluded.website, ${contactTable.website})`,
                tags: sql`ARRAY(SELECT DISTINCT t FROM unnest(${contactTable.tags} || excluded.tags) t ORDER BY t)`,
                customFields: sql`${contactTable.customFields} || excluded.custom_fields`,
                timezone: sql`coalesce(excluded.timezone, ${contactTable.timezone})`,
                updatedAt: sql`now()`,
              },
            })
          : insert.onConflictDoNothing();
      return upsert.returning({ id: contactTable.id, inserted: sql<boolean>`(xmax = 0)` });
    });
    const groupIds = [...new Set(input.groupIds ?? [])];
    if (groupIds.length) {
      const keys = rows.map((row) => row.email.toLowerCase());
      await Database.use((db) =>
        db.execute(sql`
          INSERT INTO group_member (group_id, contact_id, workspace_id)
          SELECT g.id, c.id, c.workspace_id
          FROM contact c CROSS JOIN unnest(${textArray(groupIds)}) AS g(id)
          WHERE c.workspace_id = ${workspaceId} AND c.email_key = ANY(${textArray(keys)})
          ON CONFLICT DO NOTHING`),
      );
    }
    // One event per contact written, in one statement: created, or updated (`onDuplicate: "update"`).
    if (written.length && (await Webhook.Outbox.wants(workspaceId, ["contact.created", "contact.updated"]))) {
      const at = Clock.now();
      const byId = new Map((await contactsByIds(written.map((row) => row.id))).map((c) => [c.id, c]));
      await Webhook.emit(
        written.flatMap((row) => {
          const contact = byId.get(row.id);
          if (!contact) return [];
          const type = row.inserted ? ("contact.created" as const) : ("contact.updated" as const);
          const key = row.inserted ? row.id : `${row.id}:${contact.updatedAt.getTime()}`;
          return [{ type, key, at: row.inserted ? contact.createdAt : at, data: { contact } }];
        }),
      );
    }
    const created = written.filter((row) => row.inserted).length;
    return { created, updated: written.length - created, skipped: skipped + rows.length - written.length, errors };
  });
});

export const addToGroups = fnFor(Schema.groupIdsBody, async (id: string, { groupIds }): Promise<Contact> => {
  return Database.transaction(async () => {
    const workspaceId = Actor.workspaceId();
    await mustExist(id);
    await Group.assertExist(groupIds);
    await addMemberships(workspaceId, [id], groupIds);
    return mustExist(id);
  });
});

export const removeFromGroups = fnFor(Schema.groupIdsBody, async (id: string, { groupIds }): Promise<Contact> => {
  const workspaceId = Actor.workspaceId();
  await mustExist(id);
  await Group.assertExist(groupIds);
  await Database.use((db) =>
    db
      .delete(groupMemberTable)
      .where(
        and(eq(groupMemberTable.workspaceId, workspaceId), eq(groupMemberTable.contactId, id), inArray(groupMemberTable.groupId, groupIds)),
      ),
  );
  return mustExist(id);
});

/**
 * Set a contact's tags to `tags` (SQL over its `tags` and the given ones, `$tags`), then read it: the
 * update is a `Database.write` (a request's API key fused into it), the read follows.
 */
async function setTags(name: string, id: string, given: readonly string[], tags: (given: SQL) => SQL): Promise<Contact> {
  const updated = await Database.write({
    name: `contact_tags_${name}`,
    query: (workspace, param) => sql`
      UPDATE contact SET tags = ${tags(sql`${param("tags")}::text[]`)}, updated_at = now()
      WHERE workspace_id = ${workspace} AND id = ${param("id")} RETURNING id`,
    params: { id, tags: contactTable.tags.mapToDriverValue([...given]) },
    decode: (rows) => rows.length > 0,
  });
  if (!updated) throw notFound("Contact", id);
  return mustExist(id);
}

export const addTags = fnFor(Schema.tagsBody, async (id: string, { tags }): Promise<Contact> => {
  return setTags("add", id, tags, (given) => sql`ARRAY(SELECT DISTINCT t FROM unnest(contact.tags || ${given}) t ORDER BY t)`);
});

export const removeTags = fnFor(Schema.tagsBody, async (id: string, { tags }): Promise<Contact> => {
  return setTags("remove", id, tags, (given) => sql`ARRAY(SELECT t FROM unnest(contact.tags) t WHERE t <> ALL(${given}) ORDER BY t)`);
});
