import { notFound } from "@fluenzr/core/error";
import * as Group from "@fluenzr/core/group";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";
import * as Out from "../schemas";

const tag = "Groups";

export const groups = new Hono<ApiEnv>()
  .get("/", doc({ tag, summary: "List groups", data: Out.Group, paged: true }), query(Group.listQuery), async (c) =>
    okPage(c, await Group.list(c.req.valid("query"))),
  )
  .post("/", doc({ tag, summary: "Create a group", data: Out.Group, status: 201 }), idempotent, body(Group.createSchema), async (c) =>
    ok(c, await Group.create(c.req.valid("json")), 201),
  )
  .get("/:id", doc({ tag, summary: "Get a group", data: Out.Group, errors: [404] }), async (c) => {
    const id = pathId(c, "group");
    const group = await Group.fromID(id);
    if (!group) throw notFound("Group", id);
    return ok(c, group);
  })
  .put("/:id", doc({ tag, summary: "Update a group", data: Out.Group, errors: [404] }), body(Group.updateSchema), async (c) =>
    ok(c, await Group.update(pathId(c, "group"), c.req.valid("json"))),
  )
  .delete("/:id", doc({ tag, summary: "Delete a group (its contacts stay)", data: Out.Deleted, errors: [404] }), async (c) =>
    ok(c, await Group.remove(pathId(c, "group"))),
  )
  .post(
    "/:id/contacts",
    doc({ tag, summary: "Add contacts to a group", data: Out.MembershipResult, errors: [404] }),
    body(Group.contactIdsBody),
    async (c) => ok(c, await Group.addContacts(pathId(c, "group"), c.req.valid("json"))),
  )
  .delete(
    "/:id/contacts",
    doc({ tag, summary: "Remove contacts from a group", data: Out.Removed, errors: [404] }),
    body(Group.contactIdsBody),
    async (c) => ok(c, await Group.removeContacts(pathId(c, "group"), c.req.valid("json"))),
  );
