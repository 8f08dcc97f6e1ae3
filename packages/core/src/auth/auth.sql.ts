import { bigint, customType, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "../database/columns";
import { workspaceRecord } from "../workspace/workspace.sql";

/** A sequence's OID: `nextval(counter)` needs no name lookup. */
const regclass = customType<{ data: string; driverData: string }>({ dataType: () => "regclass" });

export const apiKeyTable = pgTable(
  "api_key",
  {
    ...workspaceRecord(),
    name: text("name").notNull(),
    /** Hex SHA-256 of the full key; the key itself is never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the key (`flz_sk_AbCd`), to tell keys apart in listings. */
    tokenPrefix: text("token_prefix").notNull(),
    rateLimit: integer("rate_limit").notNull().default(1000),
    /**
     * Rate limit: every request takes `nextval(counter)` (non-transactional, no row write, shared
     * by all instances). Once a minute the window is rolled: the counter's values at the start of
     * the current and previous windows are stored here, so counts are differences.
     */
    counter: regclass("counter").notNull(),
    windowStart: bigint("window_start", { mode: "number" }).notNull().default(0),
    windowSeq: bigint("window_seq", { mode: "number" }).notNull().default(0),
    prevWindowSeq: bigint("prev_window_seq", { mode: "number" }).notNull().default(0),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    lastUsedAt: timestamptz("last_used_at"),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [index("api_key_workspace_idx").on(t.workspaceId)],
);
