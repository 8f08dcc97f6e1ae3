import * as Group from "@fluenzr/core/group";
import type { Context } from "hono";
import { collection } from "../collection";
import { found, pathId } from "../ids";
import { body, operations } from "../openapi";
import { ok } from "../respond";

const missing = "No group with this id in the workspace.";
/** Adding and removing members: the same body and errors. */
const members = { body: true, errors: { 404: missing }, requestExample: { contactIds: ["con_xyz789"] } } as const;

const op = operations("Groups", {
  getGroup: { summary: "Get a group", description: "The group and its number of contacts.", data: "Group", errors: { 404: missing } },
  updateGroup: {
    summary: "Update a group",
    description: "Partial: only the given fields change.",
    data: "Group",
    body: true,
    errors: { 404: missing },
    requestExample: { description: "Leads from January and February" },
  },
  deleteGroup: {
    summary: "Delete a group",
    description: "Its contacts stay.",
    data: "Deleted",
    errors: { 404: missing },
  },
  addGroupContacts: {
    summary: "Add contacts to a group",
    description: "`skipped`: already members; `errors`: ids not in the workspace.",
    data: "MembershipResult",
    ...members,
  },
  removeGroupContacts: {
    summary: "Remove contacts from a group",
    description: "The contacts stay in the workspace.",
    data: "Removed",
    ...members,
  },
});

const groupId = (c: Context) => pathId(c, "group");

export const groups = collection(
  "Groups",
  Group,
  {
    list: { operationId: "listGroups", summary: "List groups", description: "Sort on createdAt, updatedAt or name.", data: "Group" },
    create: {
      operationId: "createGroup",
      summary: "Create a group",
      description: "Honours `Idempotency-Key`.",
      data: "Group",
      requestExample: { name: "LinkedIn leads", description: "Leads from the January LinkedIn campaign" },
    },
  },
  { keyOnBegin: true },
)
  .get("/:id", op.getGroup, async (c) => ok(c, found(await Group.fromID(groupId(c)), "group", c)))
  .put("/:id", op.updateGroup, body(Group.updateSchema), async (c) => ok(c, await Group.update(groupId(c), c.req.valid("json"))))
  .delete("/:id", op.deleteGroup, async (c) => ok(c, await Group.remove(groupId(c))))
  .post("/:id/contacts", op.addGroupContacts, body(Group.contactIdsBody), async (c) =>
    ok(c, await Group.addContacts(groupId(c), c.req.valid("json"))),
  )
  .delete("/:id/contacts", op.removeGroupContacts, body(Group.contactIdsBody), async (c) =>
    ok(c, await Group.removeContacts(groupId(c), c.req.valid("json"))),
  );
