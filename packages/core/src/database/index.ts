import { AsyncLocalStorage } from "node:async_hooks";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import * as Log from "../log";
import type { Batched } from "./batch";
import type { Scoped } from "./typed";

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

/**
 * Run `cb` with the current transaction if there is one, else with the pool (after the
 * context's opening statement, if it has one that has not run).
 */
export function use<T>(cb: (db: Executor) => Promise<T>): Promise<T> {
  const ctx = context.getStore();
  if (ctx) return cb(ctx.tx);
  return afterOpening(() => cb(current().db));
}

/** Run `send` (a statement outside any transaction) once the context's opening statement ran. */
function afterOpening<T>(send: () => Promise<T>): Promise<T> {
  const opening = opened();
  return opening ? opening.then(send) : send();
}

/**
 * A statement that must run before anything else a context sends: the API key's check on a
 * write (api/middleware/auth.ts). It rides on the BEGIN of the context's first transaction, in
 * the same round trip: `BEGIN; <text>` as one simple-protocol query (node-postgres and Neon's
 * driver send one statement per round trip otherwise), so `text` has its values inlined. A
 * statement sent outside a transaction before that first waits for it to run alone.
 */
export interface Opening {
  /** The statement, with no parameters (its values inlined and quoted by its author). */
  text: string;
  /** Its rows, once. Throw to refuse: the transaction rolls back and the error is the context's. */
  accept(rows: Record<string, unknown>[]): void;
  /** Run it alone (the context's first statement is not a transaction's BEGIN), then `accept` as above. */
  alone(): Promise<void>;
  /**
   * Send `statement` (a write outside a transaction, `write` in database/typed.ts) with the opening
   * fused into it, as one statement: its workspace is the key's, and it writes nothing when the key
   * refuses. The opening's rows (for `accept`) and the statement's.
   */
  carry?(statement: Scoped<unknown>): Promise<{ opening: Record<string, unknown>[]; rows: Record<string, unknown>[] }>;
}

interface OpeningState {
  opening: Opening;
  /** Settles once it ran and was accepted (rejects with its refusal). */
  done?: Promise<void>;
}

const openings = new AsyncLocalStorage<OpeningState>();

/** Run `fn` with `opening` sent before anything it sends (see `Opening`). */
export function withOpening<T>(opening: Opening, fn: () => T): T {
  return openings.run({ opening }, fn);
}

/**
 * Make sure the context's opening statement ran (alone, if no transaction carried it yet):
 * undefined when there is none, else a promise that rejects with its refusal.
 */
export function opened(): Promise<void> | undefined {
  const state = openings.getStore();
  if (!state) return undefined;
  // Outside the opening's context: its own statements must not wait for it.
  state.done ??= openings.exit(() => state.opening.alone());
  return state.done;
}

/**
 * The context's opening, claimed by a statement about to be sent outside a transaction that can
 * carry it (`Opening.carry`): a function sending that statement with it, or undefined when there
 * is none left (or it cannot be carried, or a transaction is open). When the statement fails, the
 * opening runs alone: its refusal is the answer, else the statement's failure.
 */
export function carrier(): ((statement: Scoped<unknown>) => Promise<Record<string, unknown>[]>) | undefined {
  const state = openings.getStore();
  const carry = state?.opening.carry;
  if (!carry || state.done || context.getStore()) return undefined;
  const claimed = claimOpening()!;
  return async (statement) => {
    let sent: Awaited<ReturnType<typeof carry>>;
    try {
      // Outside the opening's context: its own statement must not wait for it.
      sent = await openings.exit(() => carry(statement));
    } catch (error) {
      const refusal = await openings
        .exit(() => state.opening.alone())
        .then(
          () => undefined,
          (refused: unknown) => refused,
        );
      claimed.ran(refusal);
      throw refusal ?? error;
    }
    claimed.accept(sent.opening);
    return sent.rows;
  };
}

/** The context's opening, claimed for a transaction about to BEGIN (undefined when there is none left). */
function claimOpening():
  | { rider: BeginRider; accept(rows: Record<string, unknown>[]): void; fail(error: unknown): boolean; ran(refusal?: unknown): void }
  | undefined {
  const state = openings.getStore();
  if (!state || state.done) return undefined;
  let settle!: (error?: unknown) => void;
  state.done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  state.done.catch(() => {}); // the transaction's caller gets the refusal; a later statement too, when it asks
  let settled = false;
  return {
    rider: { text: state.opening.text },
    accept(rows) {
      settled = true;
      try {
        state.opening.accept(rows);
        settle();
      } catch (error) {
        settle(error);
        throw error;
      }
    },
    fail(error) {
      if (settled) return false;
      settle(error);
      return true;
    },
    /** It ran some other way (alone, where `accept` was called): undefined, or its refusal. */
    ran(refusal) {
      settled = true;
      settle(refusal);
    },
  };
}

/**
 * A statement for the driver to send with the next BEGIN of this context, in the same round trip
 * (poolHandle in database/driver.ts); a driver that does not sets no `rows`, and the statement
 * is then the transaction's first.
 */
export interface BeginRider {
  text: string;
  /** Taken by a BEGIN: later ones leave it. */
  taken?: boolean;
  /** Its rows, when it rode on BEGIN. */
  rows?: Record<string, unknown>[];
}

const riders = new AsyncLocalStorage<BeginRider>();

/** The statement to send with this context's next BEGIN, if any (for drivers). */
export function beginRider(): BeginRider | undefined {
  const rider = riders.getStore();
  return rider && !rider.taken ? rider : undefined;
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
    // The context's opening statement, when it has not run: on this BEGIN, else first in the transaction.
    const opening = claimOpening();
    try {
      const run = (tx: Tx) =>
        context.run({ tx, effects }, async () => {
          if (opening) {
            const { rider } = opening;
            opening.accept(rider.rows ?? ((await tx.execute(sql.raw(rider.text))) as unknown as { rows: Record<string, unknown>[] }).rows);
          }
          return cb(tx);
        });
      const result = opening
        ? await riders.run(opening.rider, () => current().db.transaction(run, options))
        : await current().db.transaction(run, options);
      await runEffects(effects);
      return result;
    } catch (error) {
      // The opening did not run: nothing may run after it (its refusal, or the failure, is the context's).
      if (opening?.fail(error)) throw error;
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
  return afterOpening(() => current().prepared<T>(name, text, params));
}

/** Run named statements in one round trip and one transaction (see DatabaseHandle.batch); never inside a transaction. */
export function batch<T>(statements: readonly Batched[]): Promise<T[][]> {
  if (context.getStore()) throw new Error("a batch cannot join a transaction");
  if (!statements.length) return Promise.resolve([]);
  return afterOpening(() => current().batch<T>(statements));
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
export { insertion, read, type Scoped, write } from "./typed";
