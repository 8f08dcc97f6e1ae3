import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { contactTable } from "../contact/contact.sql";
import { timestamps, timestamptz, workspaceIdColumn } from "../database/columns";
import { workspaceTable } from "../workspace/workspace.sql";

export const groupTable = pgTable(
  "contact_group",
  {
    id: text("id").primaryKey(),
    workspaceId: workspaceIdColumn().references(() => workspaceTable.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    ...timestamps,
  },
  (t) => [index("contact_group_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id)],
);

export const groupMemberTable = pgTable(
  "group_member",
  {
    groupId: text("group_id")
      .notNull()
      .references(() => groupTable.id, { onDelete: "cascade" }),
    contactId: text("contact_id")
      .notNull()
      .references(() => contactTable.id, { onDelete: "cascade" }),
    workspaceId: workspaceIdColumn(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.contactId] }), index("group_member_contact_idx").on(t.contactId)],
);
