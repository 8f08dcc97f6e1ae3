import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { contactTable } from "../contact/contact.sql";
import { partOf, timestamps, timestamptz, workspaceIdColumn } from "../database/columns";
import { workspaceRecord } from "../workspace/workspace.sql";

export const groupTable = pgTable(
  "contact_group",
  {
    ...workspaceRecord(),
    name: text("name").notNull(),
    description: text("description"),
    ...timestamps,
  },
  (t) => [index("contact_group_workspace_created_idx").on(t.workspaceId, t.createdAt, t.id)],
);

export const groupMemberTable = pgTable(
  "group_member",
  {
    groupId: partOf("group_id", () => groupTable.id),
    contactId: partOf("contact_id", () => contactTable.id),
    workspaceId: workspaceIdColumn(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.contactId] }), index("group_member_contact_idx").on(t.contactId)],
);
