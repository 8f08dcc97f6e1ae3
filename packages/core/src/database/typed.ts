import { createHash } from "node:crypto";
import {
  and,
  type Column,
  eq,
  getTableColumns,
  getTableName,
  inArray,
  is,
  Param,
  Placeholder,
  type SQL,
  sql,
  type Table,
} from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import * as Actor from "../actor";
import { array, carrier, inTransaction, opened, prepared, rows } from "./index";
import type { Json } from "./render";

/**
 * Raw SQL whose rows are typed by the schema, not by hand. `pick(table, keys, alias)` renders
 * `alias."db_name" AS "key", …` for the chosen columns of a drizzle table and decodes each row
 * with the column's own mapping (timestamps become `Date`, whatever the driver returned), so a
 * statement's result type is `Pick<typeof table.$inferSelect, K>`. Rename a column in the table
 * and every statement that picks it fails the type-check (or follows the new name in SQL).
 */
export interface Picked<Row> {
  /** The select list: `alias."column" AS "key", …`. */
  readonly list: SQL;
  decode(raw: Record<string, unknown>): Row;
}

type Keys<T extends Table> = keyof T["$inferSelect"] & string;

export function pick<T extends Table, K extends Keys<T>>(
  table: T,
  keys: readonly K[],
  alias?: string,
  /** Prefix of the result names, when two picks of one statement share a key (`status`). */
  as = "",
): Picked<Pick<T["$inferSelect"], K>> {
  const columns = getTableColumns(table) as Record<string, Column>;
  const entries = keys.map((key) => ({ key, name: `${as}${key}`, column: columns[key]!, kind: kindOf(columns[key]!) }));
  const qualifier = alias ? `${alias}.` : "";
  const list = sql.raw(entries.map(({ key, column }) => `${qualifier}"${column.name}" AS "${as}${key}"`).join(", "));
  return {
    list,
    // Runs for every row of every read (per request on the hot ones): names and kinds are worked out above.
    decode(raw) {
      const row: Record<string, unknown> = {};
      for (const { key, name, column, kind } of entries) row[key] = decodeValue(column, kind, raw[name]);
      return row as Pick<T["$inferSelect"], K>;
    },
  };
}

/** Text and booleans come from every driver as they are; a text array too once the driver parsed it. */
type Kind = "as-is" | "text-array" | "mapped";
const AS_IS = new Set(["PgText", "PgVarchar", "PgBoolean"]);

function kindOf(column: Column): Kind {
  if (AS_IS.has(column.columnType)) return "as-is";
  const base = (column as { baseColumn?: Column }).baseColumn;
  return column.columnType === "PgArray" && base && AS_IS.has(base.columnType) ? "text-array" : "mapped";
}

function decodeValue(column: Column, kind: Kind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (kind === "as-is" || (kind === "text-array" && Array.isArray(value))) return value;
  // Drivers differ (pg parses timestamptz to Date, PGlite and Neon may too): decode strings only.
  if (value instanceof Date || (column.dataType === "json" && typeof value !== "string")) return value;
  return column.mapFromDriverValue(value);
}

/** A column's name in SQL, optionally qualified by an alias: `m."ses_message_id"`. */
export function col(column: Column, alias?: string): SQL {
  return sql.raw(`${alias ? `${alias}.` : ""}"${column.name}"`);
}

/** Run `query` and decode its rows with `picked` (extra columns of the query are dropped). */
export async function select<Row>(picked: Picked<Row>, query: SQL): Promise<Row[]> {
  return (await rows<Record<string, unknown>>(query)).map((raw) => picked.decode(raw));
}

export type UnnestType = "text" | "timestamptz" | "int" | "jsonb";

/**
 * `unnest($1::text[], $2::timestamptz[], …) AS alias(name, …)` of `items`, one array per named
 * column: how one statement inserts, updates or joins many rows. Each column is read off every
 * item by its own function, so the arrays always have the same length and order.
 */
export function unnest<Item>(
  items: readonly Item[],
  columns: Record<string, readonly [UnnestType, (item: Item) => unknown]>,
  alias = "v",
): SQL {
  const names = Object.keys(columns);
  const arrays = names.map((name) => {
    const [type, read] = columns[name]!;
    return array(items.map(read), type);
  });
  return sql`unnest(${sql.join(arrays, sql`, `)}) AS ${sql.raw(alias)}(${sql.raw(names.join(", "))})`;
}

/**
 * The condition that keeps a statement in the actor's workspace: `workspace_id = <its id> AND
 * id = <id>` (or `id IN (<ids>)`). Every read or write of a workspace's row by id goes through it.
 */
export function owned(table: { workspaceId: Column; id: Column }, id: string | readonly string[]): SQL {
  return and(eq(table.workspaceId, Actor.workspaceId()), typeof id === "string" ? eq(table.id, id) : inArray(table.id, [...id]))!;
}

/**
 * A read of one workspace's rows whose workspace is an SQL expression: the actor's id as a
 * parameter when run alone (`read`), or a column of the API key's row when the authentication
 * and the read are fused into one statement (auth/authenticateWith): one round trip either way.
 * Values go in through `param(name)`: placeholders filled from `params`, so a statement's text is
 * built once per `name` (and kind) and then only filled: no SQL is assembled per request.
 */
export interface Scoped<T> {
  /** Names the statement's text: reads whose text differs (a filter, a sort) differ in name. */
  name: string;
  /** The statement; `param(name)` stands for the value `params[name]`. */
  query(workspace: SQL, param: (name: string) => SQL): SQL;
  /** The placeholders' values. */
  params: Record<string, unknown>;
  /** Several rows, in the statement's order (a page); else at most one row. */
  many?: boolean;
  /**
   * The one column of the statement's one row at most, never NULL when there is a row (a
   * rendered resource): fused as a scalar subquery beside the key's row, cheaper in PostgreSQL
   * than a lateral join.
   */
  single?: string;
  /**
   * The value from the statement's rows (it may read more, rarely: an empty page's total). Rows
   * may carry other columns (the key's, when fused): read columns by name, never spread a row.
   */
  decode(rows: Record<string, unknown>[]): T | Promise<T>;
}

const dialect = new PgDialect();
const compiled = new Map<string, { name: string; text: string; slots: Slot[] }>();

/**
 * Reads of one row of a workspace's `table` by id, `select` being its columns (and what it gathers
 * with them): a statement named `<table>_by_id`, alone or fused with the API key's. The statement
 * and the decoder are made once here; each read is then only its id (hot reads run per request).
 * Two reads of one table by id differ in `name`.
 */
export function rowById<T>(
  table: string,
  select: SQL,
  decode: (row: Record<string, unknown>) => T,
  name = `${table}_by_id`,
): (id: string) => Scoped<T | undefined> {
  const query = (workspace: SQL, param: (name: string) => SQL) =>
    sql`SELECT ${select} FROM ${sql.raw(table)} WHERE workspace_id = ${workspace} AND id = ${param("id")}`;
  const decodeRows = (rows: Record<string, unknown>[]) => (rows[0] ? decode(rows[0]) : undefined);
  return (id) => ({ name, query, params: { id }, decode: decodeRows });
}

/**
 * Reads of one row of a workspace's `table` by id as JSON text PostgreSQL renders (render.ts):
 * what the API answers, sent as it comes (a statement named `<table>_rendered_by_id`).
 */
export function renderedById(table: string, json: Json): (id: string) => Scoped<string | undefined> {
  const read = rowById(table, sql.raw(`${json.sql} AS body`), (row) => row.body as string, `${table}_rendered_by_id`);
  return (id) => ({ ...read(id), single: "body" });
}

/**
 * The statement's text and parameters (placeholders filled with `values`), and a
 * prepared-statement name for its text; the text is built the first time a `key` is seen, and
 * which parameter each placeholder fills is worked out then too (filling runs per request).
 */
export function compile(key: string, build: () => SQL, values: Record<string, unknown>): { name: string; text: string; params: unknown[] } {
  let statement = compiled.get(key);
  if (!statement) {
    const { sql: text, params } = dialect.sqlToQuery(build());
    const hash = createHash("sha1").update(text).digest("hex").slice(0, 12);
    statement = { name: `fluenzr_${key.replace(/[^a-z0-9_]/gi, "_").slice(0, 40)}_${hash}`, text, slots: params.map(slotOf) };
    compiled.set(key, statement);
  }
  const { name, text, slots } = statement;
  const params = new Array<unknown>(slots.length);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    if (slot.placeholder === undefined) {
      params[i] = slot.value;
      continue;
    }
    if (!(slot.placeholder in values)) throw new Error(`No value for placeholder "${slot.placeholder}" was provided`);
    const value = values[slot.placeholder];
    params[i] = slot.encode ? slot.encode(value) : value;
  }
  return { name, text, params };
}

/** A parameter of a compiled statement: a fixed value, or a placeholder (encoded by its column, as drizzle's fillPlaceholders does). */
interface Slot {
  placeholder?: string;
  value?: unknown;
  encode?: (value: unknown) => unknown;
}

function slotOf(param: unknown): Slot {
  if (is(param, Placeholder)) return { placeholder: param.name };
  if (is(param, Param) && is(param.value, Placeholder)) {
    const encoder = param.encoder;
    return { placeholder: param.value.name, encode: (value) => encoder.mapToDriverValue(value) };
  }
  return { value: param };
}

/** Placeholders, for a statement compiled once and filled per call. */
export const placeholder = (name: string) => sql.placeholder(name) as unknown as SQL;

/** Run a scoped read in the actor's workspace: a named prepared statement outside transactions. */
export async function read<T>(scoped: Scoped<T>): Promise<T> {
  // A write whose key is checked by its first statement knows its workspace after it.
  const opening = inTransaction() ? undefined : opened();
  if (opening) await opening;
  const workspaceId = Actor.workspaceId();
  if (inTransaction()) {
    // Inside a transaction, a plain statement on its connection (named ones stay outside).
    return scoped.decode(await rows<Record<string, unknown>>(scoped.query(sql`${workspaceId}`, (name) => sql`${scoped.params[name]}`)));
  }
  const build = () => scoped.query(placeholder("workspace"), placeholder);
  const { name, text, params } = compile(`alone:${scoped.name}`, build, { ...scoped.params, workspace: workspaceId });
  return scoped.decode(await prepared<Record<string, unknown>>(name, text, params));
}

/**
 * Run a scoped write as `read` runs a read, in the actor's workspace. When it is the request's first
 * statement and the request's API key is still to be checked (a `keyOnBegin` write, see
 * `Opening.carry`), the key's check is fused into it: one statement, one round trip. Its workspace
 * is then an expression that is NULL when the key is refused, so its SQL must write nothing for a
 * NULL workspace (`workspace_id = <workspace>` matches nothing; `insertion` selects no row). A
 * read that is a write's first statement uses it too (a bulk import's groups, a start's accounts).
 */
export async function write<T>(scoped: Scoped<T>): Promise<T> {
  const carry = carrier();
  return carry ? scoped.decode(await carry(scoped)) : read(scoped);
}

/**
 * A write of one new row of a workspace's `table` (for `write`): `INSERT … SELECT` of `values`,
 * each encoded and cast as its column is, in the workspace given and only when it is not NULL and
 * `where` holds (which sees the workspace as `s.workspace`); its row is `returning`'s, or undefined
 * when nothing was inserted. `conflict` follows the insert (`ON CONFLICT DO NOTHING`). The
 * statement is named by its table and columns: `name` tells apart those whose `where` or `conflict` differ.
 */
export function insertion<T extends Table, R>(
  table: T,
  values: Partial<T["$inferInsert"]>,
  returning: Picked<R>,
  options: { name?: string; where?: (param: (name: string) => SQL) => SQL; params?: Record<string, unknown>; conflict?: SQL } = {},
): Scoped<R | undefined> {
  const columns = getTableColumns(table) as Record<string, Column>;
  // An undefined value takes the column's default, as in drizzle's inserts.
  const keys = Object.keys(values).filter((key) => key !== "workspaceId" && (values as Record<string, unknown>)[key] !== undefined);
  const params: Record<string, unknown> = { ...options.params };
  for (const key of keys) {
    const value = (values as Record<string, unknown>)[key];
    params[`v.${key}`] = value === null ? null : columns[key]!.mapToDriverValue(value);
  }
  const names = keys.map((key) => `"${columns[key]!.name}"`).join(", ");
  const tableName = getTableName(table);
  return {
    name: `insert_${tableName}_${options.name ?? ""}_${keys.join("_")}`,
    query: (workspace, param) => sql`
      INSERT INTO ${sql.identifier(tableName)} ("workspace_id", ${sql.raw(names)})
      SELECT s.workspace, ${sql.join(
        keys.map((key) => sql`${param(`v.${key}`)}::${sql.raw(columns[key]!.getSQLType())}`),
        sql`, `,
      )}
      FROM (SELECT ${workspace}::text AS workspace) s
      WHERE s.workspace IS NOT NULL${options.where ? sql` AND ${options.where(param)}` : sql``}
      ${options.conflict ?? sql``}
      RETURNING ${returning.list}`,
    params,
    decode: (rows) => (rows[0] ? returning.decode(rows[0]) : undefined),
  };
}
