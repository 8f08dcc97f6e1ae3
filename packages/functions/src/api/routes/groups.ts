import { notFound } from "@fluenzr/core/error";
import * as Group from "@fluenzr/core/group";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";

const tag = "Groups";

export const groups = new Hono<ApiEnv>()
  .get(
    "/",
    doc({
      operationId: "listGroups",
      tag,
      summary: "List groups",
      description: "Sort on createdAt, updatedAt or name.",
      data: "Group",
      paged: true,
    }),
    query(Group.listQuery),
    async (c) => okPage(c, await Group.list(c.req.valid("query"))),
  )
  .post(
    "/",
    doc({
      operationId: "createGroup",
      tag,
      summary: "Create a group",
      description: "Honours `Idempotency-Key`.",
      data: "Group",
      status: 201,
      body: true,
      idempotent: true,
      errors: { 409: "The `Idempotency-Key` was used for another request, or its first request still runs." },
      requestExample: { name: "LinkedIn leads", description: "Leads from the January LinkedIn campaign" },
    }),
    idempotent,
    body(Group.createSchema),
    async (c) => ok(c, await Group.create(c.req.valid("json")), 201),
  )
  .get(
    "/:id",
    doc({
      operationId: "getGroup",
      tag,
      summary: "Get a group",
      description: "The group and its number of contacts.",
      data: "Group",
      errors: { 404: "No group with this id in the workspace." },
    }),
    async (c) => {
      const id = pathId(c, "group");
      const group = await Group.fromID(id);
      if (!group) throw notFound("Group", id);
      return ok(c, group);
    },
  )
  .put(
    "/:id",
    doc({
      operationId: "updateGroup",
      tag,
      summary: "Update a group",
      description: "Partial: only the given fields change.",
      data: "Group",
      body: true,
      errors: { 404: "No group with this id in the workspace." },
      requestExample: { description: "Leads from January and February" },
    }),
    body(Group.updateSchema),
    async (c) => ok(c, await Group.update(pathId(c, "group"), c.req.valid("json"))),
  )
  .delete(
    "/:id",
    doc({
      operationId: "deleteGroup",
      tag,
      summary: "Delete a group",
      description: "Its contacts stay.",
      data: "Deleted",
      example: { id: "grp_a1b2c3", deleted: true },
      errors: { 404: "No group with this id in the workspace." },
    }),
    async (c) => ok(c, await Group.remove(pathId(c, "group"))),
  )
  .post(
    "/:id/contacts",
    doc({
      operationId: "addGroupContacts",
      tag,
      summary: "Add contacts to a group",
      description: "`skipped`: already members; `errors`: ids not in the workspace.",
      data: "MembershipResult",
      body: true,
      errors: { 404: "No group with this id in the workspace." },
      requestExample: { contactIds: ["con_xyz789"] },
    }),
    body(Group.contactIdsBody),
    async (c) => ok(c, await Group.addContacts(pathId(c, "group"), c.req.valid("json"))),
  )
  .delete(
    "/:id/contacts",
    doc({
      operationId: "removeGroupContacts",
      tag,
      summary: "Remove contacts from a group",
      description: "The contacts stay in the workspace.",
      data: "Removed",
      body: true,
      errors: { 404: "No group with this id in the workspace." },
      requestExample: { contactIds: ["con_xyz789"] },
    }),
    body(Group.contactIdsBody),
    async (c) => ok(c, await Group.removeContacts(pathId(c, "group"), c.req.valid("json"))),
  );
