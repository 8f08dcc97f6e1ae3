import type { Column } from "drizzle-orm";

/**
 * A resource's JSON built by PostgreSQL, as its API answer's text (#16). A hot read that decodes
 * a row in Node and serializes it again pays, per request, for the driver's parsing of each
 * column, the decoding (dates, arrays), the object and `JSON.stringify`: more CPU than the rest of
 * the request together. Here the statement returns the answer's text and the route sends it as
 * it came. The text means exactly what `JSON.stringify` of the resource as Node builds it means:
 * the same keys in the same order, absent keys absent, timestamps as `toISOString` writes them
 * (milliseconds, truncated, `Z`); numbers may differ in spelling only (`1e-05`), jsonb values keep
 * PostgreSQL's spacing. Tests hold each rendered read to its Node serialization, row by row.
 *
 * A `Json` is an SQL expression whose value is JSON text: never NULL, except an `optional` one,
 * whose key is left out of its object when it is.
 */
export interface Json {
  readonly sql: string;
  readonly optional?: boolean;
}

const KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

/** `to_json`'s text of any value (text, numbers, booleans, arrays, jsonb), `null` for NULL. */
export const value = (expr: string): Json => ({ sql: `coalesce(to_json(${expr})::text, 'null')` });

/** A number that is never NULL (an integer column, a count): its own text is its JSON. */
export const integer = (expr: string): Json => ({ sql: `(${expr})::text` });

/** A timestamp as `Date.prototype.toISOString` writes it, `null` for NULL. */
export const time = (expr: string): Json => ({ sql: `coalesce(${isoOf(expr)}, 'null')` });

/** The value, or no key at all when it is NULL (for text, also when empty; for jsonb, also JSON `null`). */
export const optional = {
  time: (expr: string): Json => ({ sql: isoOf(expr), optional: true }),
  text: (expr: string): Json => ({ sql: `to_json(nullif(${expr}, ''))::text`, optional: true }),
  jsonb: (expr: string): Json => ({ sql: `nullif(${expr}, 'null'::jsonb)::text`, optional: true }),
};

/** An expression that already is JSON text (a subquery's `object`), never NULL. */
export const raw = (expr: string): Json => ({ sql: expr });

const isoOf = (expr: string) => `'"' || to_char((${expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'`;

/**
 * An object of these keys, in this order. `concat` leaves out a NULL argument: an optional key
 * is one argument, `,"key":<value>`, NULL when its value is. The first key is never optional.
 */
export function object(fields: Record<string, Json>): Json {
  const parts = Object.entries(fields).map(([key, json], i) => {
    if (!KEY.test(key)) throw new Error(`A rendered key is an identifier: ${key}`);
    if (i === 0 && json.optional) throw new Error(`The first rendered key is never optional: ${key}`);
    return `'${i === 0 ? "" : ","}"${key}":' || ${json.sql}`;
  });
  // concat takes at most 100 arguments: nest a larger object's keys in objects of their own.
  if (parts.length > 98) throw new Error("A rendered object has at most 98 keys");
  return { sql: `concat('{', ${parts.join(", ")}, '}')` };
}

/** A drizzle column of `alias` (or unqualified), rendered by its type: timestamps as ISO text. */
export function column(col: Column, alias?: string): Json {
  const expr = `${alias ? `${alias}.` : ""}"${col.name}"`;
  if (col.columnType === "PgTimestamp") return time(expr);
  if (col.notNull && col.columnType === "PgInteger") return integer(expr);
  return value(expr);
}
