import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { makePgArray } from "drizzle-orm/pg-core";
import * as v from "valibot";
import * as Actor from "../actor";
import { contactTable } from "../contact/contact.sql";
import * as Database from "../database";
import { owned, pick } from "../database/typed";
import { notFound } from "../error";
import { createId } from "../util/id";
import { idList, optionalText, order, type Page, pageMeta, pageQuery, requiredText, sortBy } from "../util/schema";
import { fn, fnFor } from "../util/validation";
import { groupMemberTable, groupTable } from "./group.sql";

export { groupMemberTable, groupTable } from "./group.sql";

export interface Group {
  id: string;
  name: string;
  description: string | null;
  contactCount: number;
  createdAt: Date;
  updatedAt: Date;
}

// Spelled out: drizzle renders columns unqualified in one-table selects.
const contactCount = sql<number>`(SELECT count(*)::int FROM group_member gm WHERE gm.group_id = "contact_group"."id")`;

const selection = {
  id: groupTable.id,
  name: groupTable.name,
  description: groupTable.description,
  contactCount,
  createdAt: groupTable.createdAt,
  updatedAt: groupTable.updatedAt,
};

export const createSchema = v.object({ name: requiredText(255), description: optionalText(2000) });
export const updateSchema = v.object({ name: v.optional(requiredText(255)), description: optionalText(2000) });
export const listQuery = v.object({ ...pageQuery, sort: sortBy(["createdAt", "updatedAt", "name"], "createdAt"), order });
export const contactIdsBody = v.object({ contactIds: idList("con") });

export async function fromID(id: string): Promise<Group | undefined> {
  const [row] = await Database.use((db) => db.select(selection).from(groupTable).where(owned(groupTable, id)));
  return row;
}

async function mustExist(id: string): Promise<Group> {
  const group = await fromID(id);
  if (!group) throw notFound("Group", id);
  return group;
}

/** Throw NOT_FOUND naming the first of `ids` that is not a group of the current workspace. */
export async function assertExist(ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const unique = [...new Set(ids)];
  // A request's first statement may carry its API key (Database.write): it writes nothing.
  const known = await Database.write({
    name: "groups_exist",
    query: (workspace, param) => sql`SELECT id FROM contact_group WHERE workspace_id = ${workspace} AND id = ANY(${param("ids")}::text[])`,
    params: { ids: makePgArray(unique) },
    decode: (rows) => new Set(rows.map((row) => row.id as string)),
  });
  const missing = unique.find((id) => !known.has(id));
  if (missing) throw notFound("Group", missing);
}

const created = pick(groupTable, ["id", "name", "description", "createdAt", "updatedAt"]);

/** One statement (a request's API key fused into it, Database.write). */
export const create = fn(createSchema, async (input): Promise<Group> => {
  const values = { id: createId("group"), name: input.name, description: input.description ?? null };
  const row = await Database.write(Database.insertion(groupTable, values, created));
  return { ...row!, contactCount: 0 };
});

export const update = fnFor(updateSchema, async (id: string, patch): Promise<Group> => {
  const [row] = await Database.use((db) =>
    db
      .update(groupTable)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(owned(groupTable, id))
      .returning({ id: groupTable.id }),
  );
  if (!row) throw notFound("Group", id);
  return mustExist(id);
});

export async function remove(id: string): Promise<{ id: string; deleted: true }> {
  const [row] = await Database.use((db) => db.delete(groupTable).where(owned(groupTable, id)).returning({ id: groupTable.id }));
  if (!row) throw notFound("Group", id);
  return { id, deleted: true };
}

const SORT = { createdAt: groupTable.createdAt, updatedAt: groupTable.updatedAt, name: groupTable.name } as const;

export async function list(query: v.InferOutput<typeof listQuery>): Promise<Page<Group>> {
  const workspaceId = Actor.workspaceId();
  const direction = query.order === "asc" ? asc : desc;
  const rows = await Database.use((db) =>
    db
      .select({ ...selection, total: sql<number>`count(*) OVER ()::int` })
      .from(groupTable)
      .where(eq(groupTable.workspaceId, workspaceId))
      .orderBy(direction(SORT[query.sort]), direction(groupTable.id))
      .limit(query.perPage)
      .offset((query.page - 1) * query.perPage),
  );
  const total = rows[0]?.total ?? (query.page > 1 ? await count(workspaceId) : 0);
  return { data: rows.map(({ total: _, ...group }) => group), meta: pageMeta(query.page, query.perPage, total) };
}

async function count(workspaceId: string): Promise<number> {
  const [row] = await Database.use((db) =>
    db.select({ n: sql<number>`count(*)::int` }).from(groupTable).where(eq(groupTable.workspaceId, workspaceId)),
  );
  return row?.n ?? 0;
}

export interface MembershipResult {
  added: number;
  skipped: number;
  errors: Array<{ id: string; code: "NOT_FOUND" }>;
}

/**
 * Add contacts to a group in one statement: `added` new memberships, `skipped` contacts already
 * in the group, `errors` ids that are not contacts of this workspace.
 */
export const addContacts = fnFor(contactIdsBody, async (groupId: string, { contactIds }): Promise<MembershipResult> => {
  const workspaceId = Actor.workspaceId();
  await mustExist(groupId);
  const unique = [...new Set(contactIds)];
  const known = await Database.use((db) => db.select({ id: contactTable.id }).from(contactTable).where(owned(contactTable, unique)));
  const knownIds = new Set(known.map((row) => row.id));
  const inserted = knownIds.size
    ? await Database.use((db) =>
        db
          .insert(groupMemberTable)
          .values([...knownIds].map((contactId) => ({ groupId, contactId, workspaceId })))
          .onConflictDoNothing()
          .returning({ id: groupMemberTable.contactId }),
      )
    : [];
  return {
    added: inserted.length,
    skipped: contactIds.length - inserted.length - unique.filter((id) => !knownIds.has(id)).length,
    errors: unique.filter((id) => !knownIds.has(id)).map((id) => ({ id, code: "NOT_FOUND" as const })),
  };
});

export const removeContacts = fnFor(contactIdsBody, async (groupId: string, { contactIds }): Promise<{ removed: number }> => {
  const workspaceId = Actor.workspaceId();
  await mustExist(groupId);
  const removed = await Database.use((db) =>
    db
      .delete(groupMemberTable)
      .where(
        and(
          eq(groupMemberTable.workspaceId, workspaceId),
          eq(groupMemberTable.groupId, groupId),
          inArray(groupMemberTable.contactId, contactIds),
        ),
      )
      .returning({ id: groupMemberTable.contactId }),
  );
  return { removed: removed.length };
});
