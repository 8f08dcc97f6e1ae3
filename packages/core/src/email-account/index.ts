import { and, asc, desc, eq, getTableColumns, sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Database from "../database";
import { owned } from "../database/typed";
import { conflict, notFound } from "../error";
import { createId } from "../util/id";
import { emailAddress, order, type Page, pageMeta, pageQuery, requiredText, sortBy } from "../util/schema";
import { fn, fnFor } from "../util/validation";
import { EMAIL_ACCOUNT_STATUSES, type EmailAccountStatus, emailAccountTable } from "./email-account.sql";
import * as Identity from "./identity";

export { EMAIL_ACCOUNT_STATUSES, type EmailAccountStatus, emailAccountTable } from "./email-account.sql";
export * as Identity from "./identity";

export interface EmailAccount {
  id: string;
  email: string;
  name: string;
  replyTo: string | null;
  dailyLimit: number;
  status: EmailAccountStatus;
  createdAt: Date;
  updatedAt: Date;
}

const { emailKey: _key, workspaceId: _ws, ...selection } = getTableColumns(emailAccountTable);

const dailyLimit = v.pipe(
  v.number(),
  v.integer("must be an integer"),
  v.minValue(1, "must be at least 1"),
  v.maxValue(10000, "must be at most 10000"),
);

export const createSchema = v.object({
  email: emailAddress,
  name: requiredText(255),
  replyTo: v.optional(v.nullable(emailAddress)),
  dailyLimit: v.optional(dailyLimit, 200),
});

export const updateSchema = v.object({
  name: v.optional(requiredText(255)),
  replyTo: v.optional(v.nullable(emailAddress)),
  dailyLimit: v.optional(dailyLimit),
});

export const listQuery = v.object({
  ...pageQuery,
  status: v.optional(v.picklist(EMAIL_ACCOUNT_STATUSES, `must be one of ${EMAIL_ACCOUNT_STATUSES.join(", ")}`)),
  sort: sortBy(["createdAt", "updatedAt", "email", "name"], "createdAt"),
  order,
});

export async function fromID(id: string): Promise<EmailAccount | undefined> {
  const [row] = await Database.use((db) => db.select(selection).from(emailAccountTable).where(owned(emailAccountTable, id)));
  return row;
}

/**
 * The account as SES sees it now: a pending or failed account is checked again (a domain may
 * have been verified since) and the new status stored.
 */
export async function refreshStatus(account: EmailAccount): Promise<EmailAccount> {
  if (account.status === "verified") return account;
  const status = await Identity.status(account.email);
  if (status === account.status) return account;
  const [row] = await Database.use((db) =>
    db.update(emailAccountTable).set({ status, updatedAt: sql`now()` }).where(eq(emailAccountTable.id, account.id)).returning(selection),
  );
  return row ?? account;
}

export const create = fn(createSchema, async (input): Promise<EmailAccount> => {
  const workspaceId = Actor.workspaceId();
  const status = await Identity.status(input.email);
  const [row] = await Database.use((db) =>
    db
      .insert(emailAccountTable)
      .values({
        id: createId("emailAccount"),
        workspaceId,
        email: input.email,
        name: input.name,
        replyTo: input.replyTo ?? null,
        dailyLimit: input.dailyLimit,
        status,
      })
      .onConflictDoNothing()
      .returning(selection),
  );
  if (!row) throw conflict(`An email account for ${input.email} already exists`, [{ path: "email", message: "already exists" }]);
  return row;
});

export const update = fnFor(updateSchema, async (id: string, patch): Promise<EmailAccount> => {
  const [row] = await Database.use((db) =>
    db
      .update(emailAccountTable)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(owned(emailAccountTable, id))
      .returning(selection),
  );
  if (!row) throw notFound("Email account", id);
  return row;
});

const SORT = {
  createdAt: emailAccountTable.createdAt,
  updatedAt: emailAccountTable.updatedAt,
  email: emailAccountTable.emailKey,
  name: emailAccountTable.name,
} as const;

export async function list(query: v.InferOutput<typeof listQuery>): Promise<Page<EmailAccount>> {
  const workspaceId = Actor.workspaceId();
  const by = query.order === "asc" ? asc : desc;
  const where = and(eq(emailAccountTable.workspaceId, workspaceId), query.status ? eq(emailAccountTable.status, query.status) : undefined);
  const rows = await Database.use((db) =>
    db
      .select({ ...selection, total: sql<number>`count(*) OVER ()::int` })
      .from(emailAccountTable)
      .where(where)
      .orderBy(by(SORT[query.sort]), by(emailAccountTable.id))
      .limit(query.perPage)
      .offset((query.page - 1) * query.perPage),
  );
  let total = rows[0]?.total ?? 0;
  if (!rows.length && query.page > 1) {
    const [row] = await Database.use((db) => db.select({ n: sql<number>`count(*)::int` }).from(emailAccountTable).where(where));
    total = row?.n ?? 0;
  }
  return { data: rows.map(({ total: _, ...account }) => account), meta: pageMeta(query.page, query.perPage, total) };
}
