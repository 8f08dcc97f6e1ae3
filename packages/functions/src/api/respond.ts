import type { Page } from "@fluenzr/core/util";
import type { Context } from "hono";
import type { ApiEnv } from "./env";

/**
 * Headers every response of a request carries (request id, rate limit, ...) are kept in a plain
 * object, not set with `c.header`: that builds a `Headers` instance per request, which the Node
 * adapter then converts back, a measurable share of a hot read. `json` builds its response with
 * the object; `applyHeaders` (the request middleware) adds it to responses built any other way.
 * The request's context remembers the response `json` built (not a WeakSet: an entry per request).
 */
function headersOf(c: Context<ApiEnv>): Record<string, string> {
  let headers = c.get("responseHeaders"); // not c.var: that copies every variable on each access
  if (!headers) {
    headers = {};
    c.set("responseHeaders", headers);
  }
  return headers;
}

/**
 * A request header, as `c.req.header(name)` answers it (repeated headers joined with ", "), read
 * off Node's request when the app runs on @hono/node-server: `c.req.header` there builds a
 * `Headers` instance of every header first, a measurable share of a hot read. `name` is lower case.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const raw = (c.env as { incoming?: { rawHeaders?: string[] } } | undefined)?.incoming?.rawHeaders;
  if (!raw) return c.req.header(name);
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    if (key.length === name.length && key.toLowerCase() === name) value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]}`;
  }
  return value;
}

/** Set a header on this request's response, whichever way it is built. */
export function setHeader(c: Context<ApiEnv>, name: string, value: string) {
  headersOf(c)[name.toLowerCase()] = value;
}

/** A JSON response carrying this request's headers. */
export function json(c: Context<ApiEnv>, body: unknown, status = 200): Response {
  return jsonText(c, JSON.stringify(body), status);
}

function jsonText(c: Context<ApiEnv>, text: string, status: number): Response {
  const response = new Response(text, { status, headers: { "content-type": "application/json", ...headersOf(c) } });
  c.set("jsonResponse", response);
  return response;
}

/**
 * After the handler: put this request's headers on a response `json` did not build (HTML pages,
 * redirects, the framework's own answers). The response is rebuilt with them rather than changed
 * in place: a built response's headers may be immutable, and @hono/node-server's lightweight
 * Response rebuilds itself from its original init when read, dropping headers set afterwards.
 */
export function applyHeaders(c: Context<ApiEnv>) {
  if (c.get("jsonResponse") === c.res) return;
  const entries = Object.entries(headersOf(c));
  if (!entries.length) return;
  const headers = new Headers(c.res.headers);
  for (const [name, value] of entries) headers.set(name, value);
  const { status, statusText } = c.res;
  c.res = new Response(c.res.body, { status, statusText, headers });
}

/** Headers were set after this request's response was built: `applyHeaders` puts them on it. */
export function reapplyHeaders(c: Context<ApiEnv>) {
  c.set("jsonResponse", undefined as unknown as Response);
}

/** The success envelope of SPEC §1. */
export const ok = <T>(c: Context<ApiEnv>, data: T, status: 200 | 201 = 200) => json(c, { success: true as const, data }, status);

/** The success envelope around `data` already JSON text, as PostgreSQL rendered it (core database/render.ts). */
export const okRendered = (c: Context<ApiEnv>, data: string) => jsonText(c, `{"success":true,"data":${data}}`, 200);

export const okPage = <T>(c: Context<ApiEnv>, page: Page<T>) => json(c, { success: true as const, data: page.data, meta: page.meta });
