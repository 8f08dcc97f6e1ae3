import { AsyncLocalStorage } from "node:async_hooks";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as Log from "../log";
import type { Batched } from "./batch";

/**
 * The database port. One of three drivers is installed at start-up (database/neon.ts in
 * Lambda, database/pg.ts for a `DATABASE_URL` server, database/pglite.ts embedded); the domain
 * only sees `use`, `transaction` and `afterCommit`.
 */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Executor = Db | Tx;

export type DriverKind = "neon" | "pg" | "pglite";

export interface DatabaseHandle {
  kind: DriverKind;
  db: Db;
  /**
   * A named (server-side prepared) statement outside any transaction: PostgreSQL parses and
   * plans it once per connection. For the hottest statements only (API key auth).
   */
  prepared<T>(name: string, text: string, params: unknown[]): Promise<T[]>;
  /**
   * Named statements executed in order in ONE round trip and one transaction, all or none
   * (database/batch.ts): the rows of each. Outside any transaction.
   */
  batch<T>(statements: readonly Batched[]): Promise<T[][]>;
  migrate(folder?: string): Promise<void>;
  close(): Promise<void>;
  /** Statements sent to the server so far (each a round trip; BEGIN and COMMIT included). */
  roundTrips(): number;
}

interface TxContext {
  tx: Tx;
  effects: Array<() => unknown>;
}

const context = new AsyncLocalStorage<TxContext>();
let handle: DatabaseHandle | undefined;

export function install(next: DatabaseHandle): void {
  handle = next;
}

export function current(): DatabaseHandle {
  if (!handle) throw new Error("Database not configured: call Database.install() at start-up");
  return handle;
}

/** Round trips made through the installed database so far (compare before and after an operation). */
export function roundTrips(): number {
  return current().roundTrips();
}

export function isInstalled(): boolean {
  return handle !== undefined;
}

/** Run `cb` with the current transaction if there is one, else with the pool. */
export function use<T>(cb: (db: Executor) => Promise<T>): Promise<T> {
  const ctx = context.getStore();
  return cb(ctx ? ctx.tx : current().db);
}

/** Is a transaction open in this async context? (Tests check that no SES/Scheduler/SQS call runs in one.) */
export function inTransaction(): boolean {
  return context.getStore() !== undefined;
}

export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

/**
 * Run `cb` in a transaction, joining the outer one when nested. Effects registered with
 * `afterCommit` run once the outermost transaction has committed, and never if it rolls back.
 */
export async function transaction<T>(cb: (tx: Tx) => Promise<T>, options?: { isolationLevel?: IsolationLevel }): Promise<T> {
  const outer = context.getStore();
  if (outer) return cb(outer.tx);
  for (let attempt = 1; ; attempt++) {
    const effects: TxContext["effects"] = [];
    try {
      const result = await current().db.transaction((tx) => context.run({ tx, effects }, () => cb(tx)), options);
      await runEffects(effects);
      return result;
    } catch (error) {
      // A deadlock or serialization failure aborted the whole transaction: run it again.
      if (attempt < 3 && isRetryable(error)) continue;
      throw error;
    }
  }
}

function isRetryable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "40P01" || code === "40001") return true;
  }
  return false;
}

/**
 * Register work that must only happen if the current transaction commits (calls to SQS, the
 * Scheduler, SES). Outside a transaction it runs at once. A failing effect is logged, not
 * thrown: the data is committed, and the sweeper repairs what the effect should have done.
 */
export async function afterCommit(effect: () => unknown): Promise<void> {
  const ctx = context.getStore();
  if (ctx) ctx.effects.push(effect);
  else await runEffects([effect]);
}

async function runEffects(effects: TxContext["effects"]) {
  for (const effect of effects) {
    try {
      await effect();
    } catch (error) {
      Log.error("after-commit effect failed", { error });
    }
  }
}

const preparedQueries = new WeakMap<object, Map<string, unknown>>();

/**
 * Build a drizzle prepared query once per executor (pool or transaction) and reuse it: the query
 * text is built once in JS, and with a name PostgreSQL plans it once per connection.
 */
export function reuse<Q>(db: Executor, name: string, build: (db: Executor) => Q): Q {
  let byName = preparedQueries.get(db);
  if (!byName) {
    byName = new Map();
    preparedQueries.set(db, byName);
  }
  let query = byName.get(name) as Q | undefined;
  if (!query) {
    query = build(db);
    byName.set(name, query);
  }
  return query;
}

/** Run a named prepared statement (see DatabaseHandle.prepared); never inside a transaction. */
export function prepared<T>(name: string, text: string, params: unknown[]): Promise<T[]> {
  if (context.getStore()) throw new Error(`prepared statement ${name} cannot join a transaction`);
  return current().prepared<T>(name, text, params);
}

/** Run named statements in one round trip and one transaction (see DatabaseHandle.batch); never inside a transaction. */
export function batch<T>(statements: readonly Batched[]): Promise<T[][]> {
  if (context.getStore()) throw new Error("a batch cannot join a transaction");
  if (!statements.length) return Promise.resolve([]);
  return current().batch<T>(statements);
}

/** Raw SQL returning rows (every driver answers `{ rows }`). Cast types in SQL (`::int`). */
export async function rows<T>(query: SQL): Promise<T[]> {
  return use(async (db) => {
    const result = (await db.execute(query)) as unknown as { rows: T[] };
    return result.rows;
  });
}

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

/** A unique constraint was violated (SQLSTATE 23505), whichever driver raised it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}

/**
 * The database refused a value (bad encoding, number out of range, malformed literal): the
 * request's fault, answered 400 by the API as a safety net behind validation.
 */
export function isInvalidInput(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "22P05" || code === "22021" || code === "22003" || code === "22P02" || code === "22001") return true;
  }
  return false;
}

/**
 * A typed array parameter: `ARRAY[$1, $2]::text[]` (or an empty one). With `unnest(...)` of
 * several of them, one statement reads or writes many rows.
 */
export function array(values: readonly unknown[], type: "text" | "timestamptz" | "int" | "jsonb"): SQL {
  if (!values.length) return sql`ARRAY[]::${sql.raw(type)}[]`;
  return sql`ARRAY[${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )}]::${sql.raw(type)}[]`;
}

/** `%` and `_` are wildcards in LIKE patterns; escape them in user input. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
export { type Batched, literal, UnbatchableValue } from "./batch";
export type { Scoped } from "./typed";
