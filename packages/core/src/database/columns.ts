import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, text, timestamp } from "drizzle-orm/pg-core";

export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const timestamps = {
  createdAt: timestamptz("created_at").notNull().defaultNow(),
  updatedAt: timestamptz("updated_at").notNull().defaultNow(),
};

export const workspaceIdColumn = () => text("workspace_id").notNull();

/** A required reference to a row this one belongs to: deleting that row deletes this one. */
export const partOf = (name: string, target: () => AnyPgColumn) => text(name).notNull().references(target, { onDelete: "cascade" });

/** lower(email), generated: the key of an email's case-insensitive uniqueness per workspace. */
export const emailKeyOf = (email: () => AnyPgColumn) =>
  text("email_key")
    .notNull()
    .generatedAlwaysAs((): SQL => sql`lower(${email()})`);
