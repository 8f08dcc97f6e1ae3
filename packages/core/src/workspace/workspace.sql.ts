import { pgTable, text } from "drizzle-orm/pg-core";
import { partOf, timestamptz, workspaceIdColumn } from "../database/columns";

export const workspaceTable = pgTable("workspace", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

/** The first columns of a workspace's record: its id, and the workspace it belongs to (and goes with). */
export const workspaceRecord = () => ({
  id: text("id").primaryKey(),
  workspaceId: partOf("workspace_id", () => workspaceTable.id),
});

/** The same columns for a record whose workspace id is no foreign key (nothing cascades to it from the workspace). */
export const unlinkedWorkspaceRecord = () => ({
  id: text("id").primaryKey(),
  workspaceId: workspaceIdColumn(),
});
