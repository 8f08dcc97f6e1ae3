import { notFound } from "@fluenzr/core/error";
import * as Group from "@fluenzr/core/group";
import { isId } from "@fluenzr/core/util";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";
import * as Out from "../schemas";

const tag = "Groups";

/** A malformed id names no group: 404 before any query (a NUL byte must never reach SQL). */
const groupId = (id: string) => {
  if (!isId("group", id)) throw notFound("Group", id);
  return id;
};

export const groups = new Hono<ApiEnv>()
  .get("/", doc({ tag, summary: "List groups", data: Out.Group, paged: true }), query(Group.listQuery), async (c) =>
    okPage(c, await Group.list(c.req.valid("query"))),
  )
  .post("/", doc({ tag, summary: "Create a group", data: Out.Group, status: 201 }), body(Group.createSchema), async (c) =>
    ok(c, await Group.create(c.req.valid("json")), 201),
  )
  .get("/:id", doc({ tag, summary: "Get a group", data: Out.Group, errors: [404] }), async (c) => {
    const id = groupId(c.req.param("id"));
    const group = await Group.fromID(id);
    if (!group) throw notFound("Group", id);
    return ok(c, group);
  })
  .put("/:id", doc({ tag, summary: "Update a group", data: Out.Group, errors: [404] }), body(Group.updateSchema), async (c) =>
    ok(c, await Group.update(groupId(c.req.param("id")), c.req.valid("json"))),
  )
  .delete("/:id", doc({ tag, summary: "Delete a group (its contacts stay)", data: Out.Deleted, errors: [404] }), async (c) =>
    ok(c, await Group.remove(groupId(c.req.param("id")))),
  )
  .post(
    "/:id/contacts",
    doc({ tag, summary: "Add contacts to a group", data: Out.MembershipResult, errors: [404] }),
    body(Group.contactIdsBody),
    async (c) => ok(c, await Group.addContacts(groupId(c.req.param("id")), c.req.valid("json"))),
  )
  .delete(
    "/:id/contacts",
    doc({ tag, summary: "Remove contacts from a group", data: Out.Removed, errors: [404] }),
    body(Group.contactIdsBody),
    async (c) => ok(c, await Group.removeContacts(groupId(c.req.param("id")), c.req.valid("json"))),
  );
