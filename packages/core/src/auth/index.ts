import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import * as Database from "../database";
import { createId } from "../util/id";
import { apiKeyTable } from "./auth.sql";
import { decide, type RateLimitDecision, WINDOW_SECONDS } from "./rate-limit";

export { apiKeyTable, apiRateLimitTable } from "./auth.sql";
export { decide, type RateLimitDecision } from "./rate-limit";

export const KEY_PREFIX = "flz_sk_";
export const KEY_PATTERN = /^flz_sk_[A-Za-z0-9]{32}$/;
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `flz_sk_` + 32 alphanumeric characters, uniformly drawn (rejection sampling, ~190 bits). */
export function generateKey(): string {
  let out = KEY_PREFIX;
  while (out.length < KEY_PREFIX.length + 32) {
    for (const byte of randomBytes(48)) {
      if (byte < 248 && out.length < KEY_PREFIX.length + 32) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export interface ApiKeyInfo {
  id: string;
  workspaceId: string;
  name: string;
  prefix: string;
  rateLimit: number;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toInfo(row: typeof apiKeyTable.$inferSelect): ApiKeyInfo {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    name: row.name,
    prefix: row.tokenPrefix,
    rateLimit: row.rateLimit,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

/** Create a key; the returned `key` is the only time it exists outside the caller's hands. */
export async function createKey(input: {
  workspaceId: string;
  name: string;
  key?: string;
  rateLimit?: number;
}): Promise<ApiKeyInfo & { key: string }> {
  const key = input.key ?? generateKey();
  if (!KEY_PATTERN.test(key)) throw new Error("An API key is flz_sk_ followed by 32 letters or digits");
  const [row] = await Database.use((db) =>
    db
      .insert(apiKeyTable)
      .values({
        id: createId("apiKey"),
        workspaceId: input.workspaceId,
        name: input.name,
        tokenHash: hashKey(key),
        tokenPrefix: key.slice(0, KEY_PREFIX.length + 4),
        rateLimit: input.rateLimit ?? 1000,
      })
      .returning(),
  );
  return { ...toInfo(row!), key };
}

/** The key with this secret, revoked or not. */
export async function fromKey(key: string): Promise<ApiKeyInfo | undefined> {
  const [row] = await Database.use((db) =>
    db
      .select()
      .from(apiKeyTable)
      .where(eq(apiKeyTable.tokenHash, hashKey(key))),
  );
  return row ? toInfo(row) : undefined;
}

export async function listKeys(workspaceId: string): Promise<ApiKeyInfo[]> {
  const rows = await Database.use((db) =>
    db.select().from(apiKeyTable).where(eq(apiKeyTable.workspaceId, workspaceId)).orderBy(desc(apiKeyTable.createdAt)),
  );
  return rows.map(toInfo);
}

/** Revoke a key; the next request made with it is refused (auth reads the database every time). */
export async function revokeKey(keyId: string, at = new Date()): Promise<ApiKeyInfo | undefined> {
  const [row] = await Database.use((db) =>
    db
      .update(apiKeyTable)
      .set({ revokedAt: at })
      .where(and(eq(apiKeyTable.id, keyId), isNull(apiKeyTable.revokedAt)))
      .returning(),
  );
  return row ? toInfo(row) : undefined;
}

export interface Authenticated {
  keyId: string;
  workspaceId: string;
  rateLimit: RateLimitDecision;
}

/**
 * Authenticate a request and count it against its key's rate limit, in ONE round trip: the key
 * lookup, the counter upsert (sliding window, shared by every instance through the database) and
 * the throttled `last_used_at` touch are one statement. Time is the database's, so instances with
 * skewed clocks still share windows.
 */
const AUTHENTICATE = `
  WITH clock AS (
    SELECT (extract(epoch FROM statement_timestamp()) * 1000)::float8 AS now_ms,
           (floor(extract(epoch FROM statement_timestamp()) / ${WINDOW_SECONDS}) * ${WINDOW_SECONDS})::bigint AS window_start
  ), k AS (
    SELECT id, workspace_id, rate_limit, last_used_at FROM api_key
    WHERE token_hash = $1 AND revoked_at IS NULL
  ), counter AS (
    INSERT INTO api_rate_limit AS r (key_id, window_start, count, prev_count)
    SELECT k.id, clock.window_start, 1, 0 FROM k, clock
    ON CONFLICT (key_id) DO UPDATE SET
      prev_count = CASE
        WHEN r.window_start >= excluded.window_start THEN r.prev_count
        WHEN r.window_start = excluded.window_start - ${WINDOW_SECONDS} THEN r.count
        ELSE 0 END,
      count = CASE WHEN r.window_start >= excluded.window_start THEN r.count + 1 ELSE 1 END,
      window_start = greatest(r.window_start, excluded.window_start)
    RETURNING count, prev_count, window_start
  ), touch AS (
    UPDATE api_key SET last_used_at = statement_timestamp()
    FROM k WHERE api_key.id = k.id
      AND (k.last_used_at IS NULL OR k.last_used_at < statement_timestamp() - interval '1 minute')
    RETURNING 1
  )
  SELECT k.id, k.workspace_id, k.rate_limit, counter.count, counter.prev_count, counter.window_start, clock.now_ms
  FROM k, counter, clock`;

/** Prepared (named): PostgreSQL parses and plans the statement once per connection. */
export async function authenticate(key: string): Promise<Authenticated | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  const [row] = await Database.prepared<{
    id: string;
    workspace_id: string;
    rate_limit: number;
    count: number;
    prev_count: number;
    window_start: string | number;
    now_ms: string | number;
  }>("fluenzr_authenticate", AUTHENTICATE, [hashKey(key)]);
  if (!row) return undefined;
  return {
    keyId: row.id,
    workspaceId: row.workspace_id,
    rateLimit: decide({
      limit: row.rate_limit,
      count: row.count,
      prevCount: row.prev_count,
      windowStart: Number(row.window_start),
      nowMs: Number(row.now_ms),
    }),
  };
}
