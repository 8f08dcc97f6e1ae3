import { integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { timestamptz, workspaceIdColumn } from "../database/columns";

/** Responses of writes sent with an `Idempotency-Key`, replayed for a repeat of the same request. */
export const idempotencyTable = pgTable(
  "idempotency_key",
  {
    workspaceId: workspaceIdColumn(),
    key: text("key").notNull(),
    /** `POST /v1/campaigns`, kept for diagnosis. */
    route: text("route").notNull(),
    /** SHA-256 of method, path and body: the same key with another request is refused (409). */
    requestHash: text("request_hash").notNull(),
    /** null while the first request is still being processed. */
    status: integer("status"),
    response: jsonb("response"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.key] })],
);
