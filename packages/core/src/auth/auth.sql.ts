import { bigint, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz, workspaceIdColumn } from "../database/columns";
import { workspaceTable } from "../workspace/workspace.sql";

export const apiKeyTable = pgTable(
  "api_key",
  {
    id: text("id").primaryKey(),
    workspaceId: workspaceIdColumn().references(() => workspaceTable.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** Hex SHA-256 of the full key; the key itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the key (`flz_sk_AbCd`), to tell keys apart in listings. */
    tokenPrefix: text("token_prefix").notNull(),
    rateLimit: integer("rate_limit").notNull().default(1000),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    lastUsedAt: timestamptz("last_used_at"),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [index("api_key_workspace_idx").on(t.workspaceId)],
);

/**
 * Per-key request counters for the sliding-window rate limit, shared by every API instance.
 * UNLOGGED (migration 0001): counters are worth nothing after a crash and must not pay for WAL.
 */
export const apiRateLimitTable = pgTable("api_rate_limit", {
  keyId: text("key_id").primaryKey(),
  /** Epoch second at which the current one-minute window started. */
  windowStart: bigint("window_start", { mode: "number" }).notNull(),
  count: integer("count").notNull(),
  prevCount: integer("prev_count").notNull(),
});
