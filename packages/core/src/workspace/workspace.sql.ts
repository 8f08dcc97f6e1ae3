import { pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "../database/columns";

export const workspaceTable = pgTable("workspace", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});
