import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, isNull, type SQL, sql } from "drizzle-orm";
import * as Database from "../database";
import { compile, placeholder, type Scoped } from "../database/typed";
import { createId } from "../util/id";
import { apiKeyTable } from "./auth.sql";
import { counts, decide, type RateLimitDecision, WINDOW_SECONDS } from "./rate-limit";

export { apiKeyTable } from "./auth.sql";
export { counts, decide, type RateLimitDecision } from "./rate-limit";

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

const recentHashes = new Map<string, string>();

/** Hex SHA-256 of a key. The hashes of the last keys seen are remembered (it runs on every request). */
export function hashKey(key: string): string {
  let hash = recentHashes.get(key);
  if (hash === undefined) {
    hash = createHash("sha256").update(key).digest("hex");
    if (recentHashes.size >= 1024) recentHashes.clear();
    recentHashes.set(key, hash);
  }
  return hash;
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
  const id = createId("apiKey");
  const counter = `api_key_counter_${id}`;
  const [row] = await Database.transaction(async (tx) => {
    await tx.execute(sql`CREATE SEQUENCE ${sql.identifier(counter)}`);
    return tx
      .insert(apiKeyTable)
      .values({
        id,
        counter,
        workspaceId: input.workspaceId,
        name: input.name,
        tokenHash: hashKey(key),
        tokenPrefix: key.slice(0, KEY_PREFIX.length + 4),
        rateLimit: input.rateLimit ?? 1000,
      })
      .returning();
  });
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
 * Authenticate a request and count it against its key's rate limit in ONE round trip: the key
 * lookup and `nextval` of its counter are one read-only statement (prepared, so planned once per
 * connection). Revocation is seen at once. Time is the database's, shared by all instances. The
 * first request of each minute also rolls the window (and touches `last_used_at`).
 */
/**
 * The key's row as ONE text column, `id workspace rate_limit n window_start window_seq
 * prev_window_seq now_ms` (ids and numbers hold no space): each column of a result costs the
 * driver per request, and this read is joined to every hot read.
 */
const KEY_TEXT = `concat_ws(' ', id, workspace_id, rate_limit, nextval(counter), window_start, window_seq, prev_window_seq,
         (extract(epoch FROM statement_timestamp()) * 1000)::float8) AS key`;
/** The key's statement for a token hash given as `hash` (a parameter, or a literal). */
const keyStatement = (hash: string) => `SELECT ${KEY_TEXT} FROM api_key WHERE token_hash = ${hash} AND revoked_at IS NULL`;
const AUTHENTICATE = keyStatement("$1");

const ROLL = `
  UPDATE api_key SET window_start = $2, window_seq = $3, prev_window_seq = $4, last_used_at = statement_timestamp()
  WHERE id = $1 AND window_start < $2`;

export async function authenticate(key: string): Promise<Authenticated | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  const [row] = await Database.prepared<{ key: string }>("fluenzr_authenticate_key", AUTHENTICATE, [hashKey(key)]);
  return row && counted(row.key);
}

/**
 * `authenticate`'s statement with the key's hash inlined as a literal, for a query that takes no
 * parameters: it rides on a write's BEGIN (Database.Opening). Unprepared, PostgreSQL plans it
 * each time (tens of microseconds, against a round trip saved).
 */
export function authenticationText(key: string): string | undefined {
  if (!KEY_PATTERN.test(key)) return undefined;
  return keyStatement(Database.literal(hashKey(key)));
}

/**
 * What the rows of `authenticationText`'s statement say: undefined for an unknown or revoked
 * key, else the authentication and, when this request opens a new minute, the roll of the key's
 * window (`authenticate` makes it at once; a write makes it once its transaction is over, so the
 * key's row is not locked for the transaction's length).
 */
export function authenticationOf(rows: Record<string, unknown>[]): { auth: Authenticated; roll?: () => Promise<void> } | undefined {
  const key = rows[0]?.key;
  if (typeof key !== "string") return undefined;
  const found = decode(key);
  // A write that carried the key was gated in SQL (`ADMITTED`): what it did is the decision.
  const admitted = rows[0]!.allowed;
  if (typeof admitted === "boolean") found.auth.rateLimit = agreed(found.auth.rateLimit, admitted);
  return found;
}

/**
 * The decision, as the statement that carried the key took it (`ADMITTED`: the same operations
 * on the same values, so they agree; test/auth/admitted.test.ts holds them together).
 */
function agreed(decision: RateLimitDecision, allowed: boolean): RateLimitDecision {
  if (allowed === decision.allowed) return decision;
  const { limit, reset } = decision;
  return allowed ? { allowed, limit, remaining: 0, reset } : { allowed, limit, remaining: 0, reset, retryAfter: 1 };
}

/**
 * Does the rate limit admit a request, in SQL, over the key's columns, `n` (its `nextval`), `now_ms`
 * and `win` (the start of its minute, `floor(now_ms / 1000 / 60) * 60`): `counts` then `decide`,
 * the same float8 operations in the same order as in JS, so the two always agree. A write that
 * carries the key (`authenticateWrite`) writes only when it holds.
 */
export const ADMITTED = `(
    CASE WHEN window_start >= win AND n >= window_seq THEN greatest(0, window_seq - prev_window_seq)
         WHEN window_start = win - ${WINDOW_SECONDS} AND n >= window_seq THEN n - window_seq ELSE 0 END
    * (1 - least(greatest(now_ms / 1000 - win, 0), ${WINDOW_SECONDS}) / ${WINDOW_SECONDS})
    + CASE WHEN window_start >= win AND n >= window_seq THEN n - window_seq + 1 ELSE 1 END
    <= rate_limit)`;

/** `KEY_TEXT`'s row (its text the same) with the workspace and `ADMITTED`, for the key's hash given as `hash`. */
const admittedKeyStatement = (hash: SQL) => sql`
  SELECT workspace_id, concat_ws(' ', id, workspace_id, rate_limit, n, window_start, window_seq, prev_window_seq, now_ms) AS key,
    ${sql.raw(ADMITTED)} AS allowed
  FROM (SELECT *, floor(now_ms / 1000 / ${sql.raw(String(WINDOW_SECONDS))}) * ${sql.raw(String(WINDOW_SECONDS))} AS win
        FROM (SELECT id, workspace_id, rate_limit, window_start, window_seq, prev_window_seq, nextval(counter) AS n,
                     (extract(epoch FROM statement_timestamp()) * 1000)::float8 AS now_ms
              FROM api_key WHERE token_hash = ${hash} AND revoked_at IS NULL OFFSET 0) a) b`;

/**
 * A write carrying its key (Database.Opening.carry): ONE statement, the key's row (as
 * `authenticate` reads it, its `nextval` drawn once in a `MATERIALIZED` CTE) and the write, whose
 * workspace is the key's only when the key is known and admitted (`ADMITTED`), else NULL, so that
 * a refused key writes nothing. The key's rows (for `authenticationOf`: none for an unknown or
 * revoked key) and the write's.
 */
export async function authenticateWrite(
  key: string,
  write: Scoped<unknown>,
): Promise<{ opening: Record<string, unknown>[]; rows: Record<string, unknown>[] }> {
  if (!KEY_PATTERN.test(key)) return { opening: [], rows: [] };
  const build = () => sql`
    WITH k AS MATERIALIZED (${admittedKeyStatement(placeholder("auth.hash"))}),
    w AS (${write.query(sql.raw("(SELECT workspace_id FROM k WHERE allowed)"), placeholder)})
    SELECT ${sql.raw(`k.key AS "${AUTH_PREFIX}key", k.allowed AS "${AUTH_PREFIX}allowed"`)}, r.*
    FROM k LEFT JOIN (SELECT ${sql.raw(`true AS "${AUTH_PREFIX}ord"`)}, w.* FROM w) r ON true`;
  const { name, text, params } = compile(`write:${write.name}`, build, { ...write.params, "auth.hash": hashKey(key) });
  const raw = await Database.prepared<Record<string, unknown>>(name, text, params);
  const first = raw[0];
  if (!first) return { opening: [], rows: [] };
  return {
    opening: [{ key: first[`${AUTH_PREFIX}key`], allowed: first[`${AUTH_PREFIX}allowed`] }],
    rows: first[`${AUTH_PREFIX}ord`] === null ? [] : raw,
  };
}

/** The rate-limit decision for a key just read (`KEY_TEXT`), rolling its window first when due. */
function counted(key: string): Authenticated | Promise<Authenticated> {
  const { auth, roll } = decode(key);
  return roll ? roll().then(() => auth) : auth;
}

/** The authentication a key's row (`KEY_TEXT`) gives, and the roll of its window when due. */
function decode(key: string): { auth: Authenticated; roll?: () => Promise<void> } {
  const [id, workspaceId, rateLimit, n, windowStart, windowSeq, prevWindowSeq, now] = key.split(" ") as [string, ...string[]];
  const nowMs = Number(now);
  const window = Math.floor(nowMs / 1000 / WINDOW_SECONDS) * WINDOW_SECONDS;
  const counted = counts(
    { windowStart: Number(windowStart), windowSeq: Number(windowSeq), prevWindowSeq: Number(prevWindowSeq) },
    Number(n),
    window,
  );
  const authenticated: Authenticated = {
    keyId: id,
    workspaceId: workspaceId!,
    rateLimit: decide({ limit: Number(rateLimit), count: counted.count, prevCount: counted.prevCount, windowStart: window, nowMs }),
  };
  const roll = counted.roll;
  if (!roll) return { auth: authenticated };
  return {
    auth: authenticated,
    roll: async () => {
      await Database.prepared("fluenzr_roll_window", ROLL, [id, roll.windowStart, roll.windowSeq, roll.prevWindowSeq]);
    },
  };
}

const AUTH_PREFIX = "auth.";

/**
 * A fused read commits without waiting for the disk. It writes nothing but its key's `nextval`,
 * and one `nextval` in 32 WAL-logs the sequence, which gives the statement a transaction id and
 * its commit a WAL flush: one hot read in 32 waited for an fsync (`IO:WALSync` in
 * pg_stat_activity under load, a share of requests that sets the p99). Set for this statement's
 * own transaction only (`set_config(…, true)`): what a crash could lose is a few counts of the
 * rate limit (the sequence restarts from its last logged value, already 32 ahead). Never on a
 * write: the key's statement riding on a write's BEGIN or carried by its statement keeps the
 * write's synchronous commit.
 */
const ASYNC_COMMIT = `set_config('synchronous_commit', 'off', true) AS "${AUTH_PREFIX}async"`;

/**
 * Authenticate and read in ONE statement: the key's row (as `authenticate` reads it) and the
 * scoped read joined to it laterally, its workspace taken from the key. A wrong or revoked key
 * reads nothing; a refused (rate-limited) request's rows are read and dropped. Returns undefined
 * for an unknown key, else the authentication and the read's rows (decoded by the caller, in
 * the workspace's context).
 */
export async function authenticateWith(
  key: string,
  scoped: Scoped<unknown>,
): Promise<{ auth: Authenticated; rows: Record<string, unknown>[] } | undefined> {
  if (!KEY_PATTERN.test(key)) return undefined;
  if (Database.inTransaction()) throw new Error("A fused read is a request's first statement, never inside a transaction");
  const single = scoped.single;
  const build = () => {
    const keyRow = sql`SELECT workspace_id, ${sql.raw(KEY_TEXT)} FROM api_key WHERE token_hash = ${placeholder("auth.hash")} AND revoked_at IS NULL`;
    const read = scoped.query(sql.raw("k.workspace_id"), placeholder);
    // One value (a rendered resource): a scalar subquery beside the key's row. The key's select is
    // not flattened into the statement (nextval is volatile): it runs once, as the CTE does below.
    if (single)
      return sql`
      SELECT ${sql.raw(`k.key AS "${AUTH_PREFIX}key", ${ASYNC_COMMIT}`)}, (${read}) AS ${sql.identifier(single)}
      FROM (${keyRow}) k`;
    // A page keeps its order through the lateral join (numbered rows); one row needs none of that.
    const [numbered, ordered] = scoped.many
      ? [sql.raw(`row_number() OVER () AS "${AUTH_PREFIX}ord", `), sql.raw(`ORDER BY r."${AUTH_PREFIX}ord"`)]
      : [sql.raw(`true AS "${AUTH_PREFIX}ord", `), sql``];
    return sql`
    WITH k AS MATERIALIZED (${keyRow})
    SELECT ${sql.raw(`k.key AS "${AUTH_PREFIX}key", ${ASYNC_COMMIT}`)}, r.*
    FROM k LEFT JOIN LATERAL (SELECT ${numbered}q.* FROM (${read}) q) r ON true
    ${ordered}`;
  };
  const { name, text, params } = compile(`auth:${scoped.name}`, build, { ...scoped.params, "auth.hash": hashKey(key) });
  const raw = await Database.prepared<Record<string, unknown>>(name, text, params);
  const first = raw[0];
  if (!first) return undefined;
  // The read's rows as they came (a decoder picks its columns by name; the "auth." ones stay
  // unread): copying each row without them cost more than the rest of the decoding.
  const rows = first[single ?? `${AUTH_PREFIX}ord`] === null ? [] : raw;
  return { auth: await counted(first[`${AUTH_PREFIX}key`] as string), rows };
}
