import { and, asc, desc, eq, getTableColumns, sql } from "drizzle-orm";
import * as v from "valibot";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../database";
import { owned } from "../database/typed";
import { conflict, notFound } from "../error";
import { createId } from "../util/id";
import { emailAddress, order, type Page, pageMeta, pageQuery, requiredText, sortBy } from "../util/schema";
import { fn, fnFor } from "../util/validation";
import * as Webhook from "../webhook";
import { EMAIL_ACCOUNT_STATUSES, type EmailAccountStatus, emailAccountTable, type PausedReason } from "./email-account.sql";
import * as Identity from "./identity";

export { EMAIL_ACCOUNT_STATUSES, type EmailAccountStatus, emailAccountTable } from "./email-account.sql";
export * as Identity from "./identity";

export interface Warmup {
  enabled: boolean;
  startPerDay: number;
  incrementPerDay: number;
  /** When warm-up was last turned on (its day 0, a UTC day); null while it is off. */
  startedAt: Date | null;
}

/** What the account sent on the current UTC day, and what it may still send. */
export interface Today {
  sent: number;
  cap: number;
  remaining: number;
}

export interface EmailAccount {
  id: string;
  email: string;
  name: string;
  replyTo: string | null;
  dailyLimit: number;
  warmup: Warmup;
  minSecondsBetweenEmails: number;
  /** Percent of hard bounces over the account's last 200 sent emails (all campaigns) that pauses it. */
  maxBounceRate: number;
  /** Percent of complaints over the account's last 200 sent emails that pauses it. */
  maxComplaintRate: number;
  status: EmailAccountStatus;
  /** `paused`: the deliverability guard stopped the account; it sends nothing, in any campaign, until resumed. */
  sendingStatus: "active" | "paused";
  /** Why the guard paused the account (only while paused). */
  pausedReason?: PausedReason;
  createdAt: Date;
  updatedAt: Date;
  /** Only on `GET /email-accounts/:id`. */
  today?: Today;
}

const {
  emailKey: _key,
  workspaceId: _ws,
  warmupEnabled: _we,
  warmupStartPerDay: _ws2,
  warmupIncrementPerDay: _wi,
  warmupStartedAt: _wsa,
  pausedAt: _pa,
  guardWindowStart: _gws,
  ...columns
} = getTableColumns(emailAccountTable);
const selection = {
  ...columns,
  warmupEnabled: emailAccountTable.warmupEnabled,
  warmupStartPerDay: emailAccountTable.warmupStartPerDay,
  warmupIncrementPerDay: emailAccountTable.warmupIncrementPerDay,
  warmupStartedAt: emailAccountTable.warmupStartedAt,
};
type Row = Omit<typeof emailAccountTable.$inferSelect, "emailKey" | "workspaceId" | "pausedAt" | "guardWindowStart">;

function serialize(row: Row): EmailAccount {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    replyTo: row.replyTo,
    dailyLimit: row.dailyLimit,
    warmup: {
      enabled: row.warmupEnabled,
      startPerDay: row.warmupStartPerDay,
      incrementPerDay: row.warmupIncrementPerDay,
      startedAt: row.warmupStartedAt,
    },
    minSecondsBetweenEmails: row.minSecondsBetweenEmails,
    maxBounceRate: row.maxBounceRate,
    maxComplaintRate: row.maxComplaintRate,
    status: row.status,
    sendingStatus: row.pausedReason ? "paused" : "active",
    ...(row.pausedReason ? { pausedReason: row.pausedReason } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const DAY = 86_400_000;

/** The start of the UTC day of `at`: accounts count their days in UTC (see docs/decisions.md). */
export const dayStart = (at: Date) => new Date(Math.floor(at.getTime() / DAY) * DAY);

/**
 * The account's cap for the UTC day of `at`: its daily limit, or less while warming up
 * (`startPerDay + incrementPerDay × days since warm-up began`).
 */
export function capOn(
  account: Pick<Row, "dailyLimit" | "warmupEnabled" | "warmupStartPerDay" | "warmupIncrementPerDay" | "warmupStartedAt">,
  at: Date,
): number {
  if (!account.warmupEnabled) return account.dailyLimit;
  const began = account.warmupStartedAt ?? at;
  const days = Math.max(0, Math.round((dayStart(at).getTime() - dayStart(began).getTime()) / DAY));
  return Math.min(account.dailyLimit, account.warmupStartPerDay + account.warmupIncrementPerDay * days);
}

const dailyLimit = v.pipe(
  v.number(),
  v.integer("must be an integer"),
  v.minValue(1, "must be at least 1"),
  v.maxValue(10000, "must be at most 10000"),
);

const perDay = (min: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(10000, "must be at most 10000"),
  );

const warmupInput = v.object({
  enabled: v.optional(v.boolean("must be true or false")),
  startPerDay: v.optional(perDay(1)),
  incrementPerDay: v.optional(perDay(0)),
});

const minSecondsBetweenEmails = v.pipe(
  v.number("must be a number"),
  v.integer("must be an integer"),
  v.minValue(0, "must be 0 or more"),
  v.maxValue(86400, "must be at most 86400"),
);

/** Same range as the campaign's `maxBounceRate` / `maxComplaintRate`. */
const percent = v.pipe(v.number("must be a number"), v.minValue(0.01, "must be at least 0.01"), v.maxValue(100, "must be at most 100"));

export const createSchema = v.object({
  email: emailAddress,
  name: requiredText(255),
  replyTo: v.optional(v.nullable(emailAddress)),
  dailyLimit: v.optional(dailyLimit, 200),
  warmup: v.optional(warmupInput),
  minSecondsBetweenEmails: v.optional(minSecondsBetweenEmails, 0),
  maxBounceRate: v.optional(percent, 5),
  maxComplaintRate: v.optional(percent, 0.3),
});

export const updateSchema = v.object({
  name: v.optional(requiredText(255)),
  replyTo: v.optional(v.nullable(emailAddress)),
  dailyLimit: v.optional(dailyLimit),
  warmup: v.optional(warmupInput),
  minSecondsBetweenEmails: v.optional(minSecondsBetweenEmails),
  maxBounceRate: v.optional(percent),
  maxComplaintRate: v.optional(percent),
});

/** The warm-up columns an input sets: turning it on (from off) starts its day 0 now. */
function warmupColumns(input: v.InferOutput<typeof warmupInput> | undefined, wasEnabled: boolean, now: Date) {
  if (!input) return {};
  return {
    ...(input.enabled !== undefined ? { warmupEnabled: input.enabled } : {}),
    ...(input.enabled === true && !wasEnabled ? { warmupStartedAt: now } : {}),
    ...(input.enabled === false ? { warmupStartedAt: null } : {}),
    ...(input.startPerDay !== undefined ? { warmupStartPerDay: input.startPerDay } : {}),
    ...(input.incrementPerDay !== undefined ? { warmupIncrementPerDay: input.incrementPerDay } : {}),
  };
}

export const listQuery = v.object({
  ...pageQuery,
  status: v.optional(v.picklist(EMAIL_ACCOUNT_STATUSES, `must be one of ${EMAIL_ACCOUNT_STATUSES.join(", ")}`)),
  sort: sortBy(["createdAt", "updatedAt", "email", "name"], "createdAt"),
  order,
});

export async function fromID(id: string): Promise<EmailAccount | undefined> {
  const [row] = await Database.use((db) => db.select(selection).from(emailAccountTable).where(owned(emailAccountTable, id)));
  return row && serialize(row);
}

/** The workspace's accounts among `ids` (those that exist), as stored. */
export async function fromIDs(ids: readonly string[]): Promise<EmailAccount[]> {
  if (!ids.length) return [];
  const rows = await Database.use((db) => db.select(selection).from(emailAccountTable).where(owned(emailAccountTable, ids)));
  return rows.map(serialize);
}

/**
 * The account as SES sees it now: a pending or failed account is checked again (a domain may
 * have been verified since) and the new status stored.
 */
export async function refreshStatus<A extends Pick<EmailAccount, "id" | "email" | "status" | "today">>(
  account: A,
): Promise<A | EmailAccount> {
  if (account.status === "verified") return account;
  const status = await Identity.status(account.email);
  if (status === account.status) return account;
  const [row] = await Database.use((db) =>
    db.update(emailAccountTable).set({ status, updatedAt: sql`now()` }).where(eq(emailAccountTable.id, account.id)).returning(selection),
  );
  return row ? { ...serialize(row), ...(account.today ? { today: account.today } : {}) } : account;
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
        ...warmupColumns(input.warmup, false, Clock.now()),
        minSecondsBetweenEmails: input.minSecondsBetweenEmails,
        maxBounceRate: input.maxBounceRate,
        maxComplaintRate: input.maxComplaintRate,
        status,
      })
      .onConflictDoNothing()
      .returning(selection),
  );
  if (!row) throw conflict(`An email account for ${input.email} already exists`, [{ path: "email", message: "already exists" }]);
  return serialize(row);
});

export const update = fnFor(updateSchema, async (id: string, patch): Promise<EmailAccount> => {
  const { warmup, ...rest } = patch;
  const row = await Database.transaction(async () => {
    // Turning warm-up on starts its day 0 now: what it was decides, so it is read under a lock.
    const [before] = await Database.use((db) =>
      db
        .select({ warmupEnabled: emailAccountTable.warmupEnabled })
        .from(emailAccountTable)
        .where(owned(emailAccountTable, id))
        .for("update"),
    );
    if (!before) throw notFound("Email account", id);
    const [after] = await Database.use((db) =>
      db
        .update(emailAccountTable)
        .set({ ...rest, ...warmupColumns(warmup, before.warmupEnabled, Clock.now()), updatedAt: sql`now()` })
        .where(owned(emailAccountTable, id))
        .returning(selection),
    );
    return after!;
  });
  return serialize(row);
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
  return { data: rows.map(({ total: _, ...account }) => serialize(account)), meta: pageMeta(query.page, query.perPage, total) };
}

/**
 * Resume an account the deliverability guard paused: it sends again in every campaign, and the
 * guard counts a new window of 200 emails from now (the bounces before no longer count).
 */
export async function resume(id: string): Promise<EmailAccount> {
  const now = Clock.now();
  const row = await Database.transaction(async () => {
    const [before] = await Database.use((db) =>
      db
        .select({ pausedReason: emailAccountTable.pausedReason, email: emailAccountTable.email, name: emailAccountTable.name })
        .from(emailAccountTable)
        .where(owned(emailAccountTable, id))
        .for("update"),
    );
    if (!before) throw notFound("Email account", id);
    // Not paused: nothing to do (the guard's window is left as it is).
    if (!before.pausedReason) {
      const [same] = await Database.use((db) => db.select(selection).from(emailAccountTable).where(owned(emailAccountTable, id)));
      return same!;
    }
    const [after] = await Database.use((db) =>
      db
        .update(emailAccountTable)
        .set({ pausedReason: null, pausedAt: null, guardWindowStart: now, updatedAt: now })
        .where(owned(emailAccountTable, id))
        .returning(selection),
    );
    await Webhook.emit([
      {
        type: "email_account.resumed",
        key: `${id}:${now.getTime()}`,
        at: now,
        data: { emailAccount: { id, email: before.email, name: before.name, sendingStatus: "active" } },
      },
    ]);
    return after!;
  });
  return serialize(row);
}
