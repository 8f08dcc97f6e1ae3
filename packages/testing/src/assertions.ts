import * as Auth from "@fluenzr/core/auth";
import * as Database from "@fluenzr/core/database";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import type { ApiClient, ApiResponse } from "./api";
import type { TestWorkspace } from "./factories";

/** Assertions on the API's envelopes (SPEC §1), shared by the API suites. */

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UNAUTHORIZED = { success: false, error: { code: "UNAUTHORIZED", message: "Invalid or missing API key" } };
export const ERROR_CODES = {
  400: "VALIDATION_ERROR",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  429: "RATE_LIMITED",
  500: "INTERNAL_ERROR",
} as Record<number, string>;

/** The documented fields of each resource, sorted: a response holds exactly these. */
export const FIELDS = {
  contact: [
    "company",
    "createdAt",
    "customFields",
    "email",
    "firstName",
    "groups",
    "id",
    "jobTitle",
    "lastName",
    "phone",
    "status",
    "tags",
    "timezone",
    "updatedAt",
    "website",
  ],
  group: ["contactCount", "createdAt", "description", "id", "name", "updatedAt"],
  emailAccount: [
    "createdAt",
    "dailyLimit",
    "email",
    "id",
    "maxBounceRate",
    "maxComplaintRate",
    "minSecondsBetweenEmails",
    "name",
    "replyTo",
    "sendingStatus",
    "status",
    "updatedAt",
    "warmup",
  ],
};

/** A success envelope with this status; returns `data`. */
/**
 * Whatever the input, the answer is an envelope, never a 500: success with only `data` and
 * `meta`, or an error whose code matches its status; a 400 is a VALIDATION_ERROR whose details
 * carry string paths and messages.
 */
export function expectEnvelope(res: ApiResponse, label = "") {
  const context = `${label ? `${label}: ` : ""}${res.text.slice(0, 2000)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(typeof res.body, context).toBe("object");
  if (res.status < 300) {
    expect(res.body.success).toBe(true);
    expect(Object.keys(res.body).every((k) => ["success", "data", "meta"].includes(k))).toBe(true);
    return;
  }
  expect(res.body.success).toBe(false);
  expect(res.body.error.code).toBe(ERROR_CODES[res.status]);
  expect(typeof res.body.error.message).toBe("string");
  if (res.status === 400) {
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(Array.isArray(res.body.error.details) && res.body.error.details.length > 0, context).toBe(true);
    for (const d of res.body.error.details) expect([typeof d.path, typeof d.message], context).toEqual(["string", "string"]);
  }
}

export function expectOk<T = any>(res: ApiResponse, status: 200 | 201 = 200): T {
  expect({ status: res.status, success: res.body?.success }, JSON.stringify(res.body)).toEqual({ status, success: true });
  expect(Object.keys(res.body).sort()).toEqual(res.body.meta ? ["data", "meta", "success"] : ["data", "success"]);
  return res.body.data;
}

/** A page: `data` is an array and `meta` exactly this. Returns `data`. */
export function expectPage<T = any>(res: ApiResponse, meta: { page: number; perPage: number; total: number; totalPages: number }): T[] {
  const data = expectOk<T[]>(res);
  expect(Array.isArray(data)).toBe(true);
  expect(res.body.meta).toEqual(meta);
  return data;
}

/** An error envelope, exactly: code, message (any string unless given) and details only when expected. */
export function expectError(res: ApiResponse, status: number, code: string, expected: { message?: unknown; details?: unknown } = {}) {
  const error = { code, message: expected.message ?? expect.any(String), ...(expected.details ? { details: expected.details } : {}) };
  expect({ status: res.status, body: res.body }).toEqual({ status, body: { success: false, error } });
}

/**
 * A 400 VALIDATION_ERROR whose details are exactly these: `{path: message}` (a message may be a
 * matcher), or a list of paths (messages then only need to be non-empty strings).
 */
export function expectValidation(res: ApiResponse, expected: Record<string, unknown> | string[]) {
  expectError(res, 400, "VALIDATION_ERROR", { message: "Request validation failed", details: expect.any(Array) });
  const details = res.body.error.details as Array<{ path: string; message: string }>;
  for (const detail of details) expect(Object.keys(detail).sort()).toEqual(["message", "path"]);
  if (Array.isArray(expected)) {
    expect(details.map((d) => d.path).sort()).toEqual([...expected].sort());
    for (const detail of details) expect(detail.message).toMatch(/\S/);
  } else {
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    const want = Object.entries(expected).map(([path, message]) => ({ path, message }));
    expect([...details].sort(byPath)).toEqual(want.sort(byPath));
  }
}

/** A second key of `ws`, already revoked. */
export async function revokedKey(ws: TestWorkspace): Promise<string> {
  const key = await Auth.createKey({ workspaceId: ws.id, name: "revoked" });
  await Auth.revokeKey(key.id);
  return key.key;
}

/**
 * Every way to present no valid key answers the same 401 envelope, with no rate-limit headers
 * (nothing was counted) and a request id. The key of `ws` is used to build malformed headers around
 * a key that would otherwise work, and a second key of `ws` is revoked for the occasion; send a
 * `body` that would succeed so a leak would show.
 */
export async function expectAuthFailures(api: ApiClient, method: string, path: string, options: { ws: TestWorkspace; body?: unknown }) {
  const { ws, body } = options;
  const validKey = ws.key;
  const revoked = await revokedKey(ws);
  const cases: Array<[string, { key?: string | null; headers?: Record<string, string> }]> = [
    ["no Authorization header", { key: null }],
    ["an unknown well-formed key", { key: `flz_sk_${"Z".repeat(32)}` }],
    ["a malformed key", { key: "flz_sk_short" }],
    ["a revoked key", { key: revoked }],
    ["a key without a scheme", { key: null, headers: { authorization: validKey } }],
    ["another scheme", { key: null, headers: { authorization: `Basic ${validKey}` } }],
    ["an empty Bearer", { key: null, headers: { authorization: "Bearer " } }],
    ["a key followed by junk", { key: null, headers: { authorization: `Bearer ${validKey} junk` } }],
    ["a truncated key", { key: validKey.slice(0, -1) }],
    ["the key in X-Api-Key", { key: null, headers: { "x-api-key": validKey } }],
  ];
  for (const [label, request] of cases) {
    const res = await api.request(method, path, { ...request, body });
    const seen = { status: res.status, body: res.body, limit: res.headers.get("x-ratelimit-limit") };
    expect(seen, `${method} ${path} with ${label}`).toEqual({ status: 401, body: UNAUTHORIZED, limit: null });
    expect(res.headers.get("x-request-id"), label).toMatch(/\S/);
  }
}

/** Every row a workspace owns (contacts, groups, memberships, email accounts), to prove nothing moved. */
export async function snapshot(workspaceId: string) {
  const [contacts, groups, members, accounts] = [
    await Database.rows(sql`SELECT * FROM contact WHERE workspace_id = ${workspaceId} ORDER BY id`),
    await Database.rows(sql`SELECT * FROM contact_group WHERE workspace_id = ${workspaceId} ORDER BY id`),
    await Database.rows(sql`SELECT * FROM group_member WHERE workspace_id = ${workspaceId} ORDER BY group_id, contact_id`),
    await Database.rows(sql`SELECT * FROM email_account WHERE workspace_id = ${workspaceId} ORDER BY id`),
  ];
  return { contacts, groups, members, accounts };
}

export async function counts(workspaceId: string) {
  const [row] = await Database.rows<{ contacts: number; groups: number; members: number; accounts: number }>(sql`
    SELECT (SELECT count(*)::int FROM contact WHERE workspace_id = ${workspaceId}) AS contacts,
           (SELECT count(*)::int FROM contact_group WHERE workspace_id = ${workspaceId}) AS groups,
           (SELECT count(*)::int FROM group_member WHERE workspace_id = ${workspaceId}) AS members,
           (SELECT count(*)::int FROM email_account WHERE workspace_id = ${workspaceId}) AS accounts`);
  return row!;
}
