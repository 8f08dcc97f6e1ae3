import * as Contact from "@fluenzr/core/contact";
import { notFound } from "@fluenzr/core/error";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";
import * as Out from "../schemas";

const tag = "Contacts";

export const contacts = new Hono<ApiEnv>()
  .get(
    "/",
    doc({
      tag,
      summary: "List contacts",
      description: "Filters: `email` (contains), `status`, `groupId`, `tag`.",
      data: Out.Contact,
      paged: true,
    }),
    query(Contact.Schema.listQuery),
    async (c) => okPage(c, await Contact.list(c.req.valid("query"))),
  )
  .post(
    "/",
    doc({ tag, summary: "Create a contact", data: Out.Contact, status: 201, errors: [404, 409] }),
    idempotent,
    body(Contact.Schema.createSchema),
    async (c) => ok(c, await Contact.create(c.req.valid("json")), 201),
  )
  .post(
    "/bulk",
    doc({
      tag,
      summary: "Import up to 1000 contacts",
      description:
        "Invalid rows are reported in `errors` with their index; the others are imported in one transaction. " +
        "`onDuplicate: update` fills in given fields, merges custom fields and adds tags; it never changes a status.",
      data: Out.BulkResult,
      errors: [404],
    }),
    idempotent,
    body(Contact.Schema.bulkSchema),
    async (c) => ok(c, await Contact.bulk(c.req.valid("json"))),
  )
  .post("/search", doc({ tag, summary: "Search contacts", data: Out.Contact, paged: true }), body(Contact.Schema.searchSchema), async (c) =>
    okPage(c, await Contact.search(c.req.valid("json"))),
  )
  .get("/:id", doc({ tag, summary: "Get a contact", data: Out.Contact, errors: [404] }), async (c) => {
    const id = pathId(c, "contact");
    const contact = await Contact.fromID(id);
    if (!contact) throw notFound("Contact", id);
    return ok(c, contact);
  })
  .put(
    "/:id",
    doc({
      tag,
      summary: "Update a contact",
      description: "Partial; `customFields` merge key by key (`null` removes one).",
      data: Out.Contact,
      errors: [404, 409],
    }),
    body(Contact.Schema.updateSchema),
    async (c) => ok(c, await Contact.update(pathId(c, "contact"), c.req.valid("json"))),
  )
  .delete("/:id", doc({ tag, summary: "Delete a contact", data: Out.Deleted, errors: [404] }), async (c) =>
    ok(c, await Contact.remove(pathId(c, "contact"))),
  )
  .post(
    "/:id/groups",
    doc({ tag, summary: "Add a contact to groups", data: Out.Contact, errors: [404] }),
    body(Contact.Schema.groupIdsBody),
    async (c) => ok(c, await Contact.addToGroups(pathId(c, "contact"), c.req.valid("json"))),
  )
  .delete(
    "/:id/groups",
    doc({ tag, summary: "Remove a contact from groups", data: Out.Contact, errors: [404] }),
    body(Contact.Schema.groupIdsBody),
    async (c) => ok(c, await Contact.removeFromGroups(pathId(c, "contact"), c.req.valid("json"))),
  )
  .post("/:id/tags", doc({ tag, summary: "Tag a contact", data: Out.Contact, errors: [404] }), body(Contact.Schema.tagsBody), async (c) =>
    ok(c, await Contact.addTags(pathId(c, "contact"), c.req.valid("json"))),
  )
  .delete(
    "/:id/tags",
    doc({ tag, summary: "Untag a contact", data: Out.Contact, errors: [404] }),
    body(Contact.Schema.tagsBody),
    async (c) => ok(c, await Contact.removeTags(pathId(c, "contact"), c.req.valid("json"))),
  );
