import * as Contact from "@fluenzr/core/contact";
import * as Privacy from "@fluenzr/core/privacy";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { found, pathId } from "../ids";
import { fused } from "../middleware/auth";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";

const tag = "Contacts";

/** The hot read: authenticated and read in one statement. */
const contactRead = fused((c) => Contact.byId(pathId(c, "contact")));

export const contacts = new Hono<ApiEnv>()
  .get(
    "/",
    doc({
      operationId: "listContacts",
      tag,
      summary: "List contacts",
      description: "Filters: `email` (contains), `status`, `groupId`, `tag`.",
      data: "Contact",
      paged: true,
    }),
    query(Contact.Schema.listQuery),
    async (c) => okPage(c, await Contact.list(c.req.valid("query"))),
  )
  .post(
    "/",
    doc({
      operationId: "createContact",
      tag,
      summary: "Create a contact",
      description: "Unique by email (case-insensitive) in the workspace. Honours `Idempotency-Key`.",
      data: "Contact",
      status: 201,
      body: true,
      idempotent: true,
      errors: {
        404: "A group in `groupIds` does not exist.",
        409: "A contact with this email exists, or the `Idempotency-Key` was used for another request.",
      },
      requestExample: {
        email: "john@example.com",
        firstName: "John",
        lastName: "Doe",
        company: "Acme Inc",
        tags: ["prospect"],
        customFields: { plan: "enterprise" },
        timezone: "Europe/Paris",
      },
    }),
    idempotent,
    body(Contact.Schema.createSchema),
    async (c) => ok(c, await Contact.create(c.req.valid("json")), 201),
  )
  .post(
    "/bulk",
    doc({
      operationId: "importContacts",
      tag,
      summary: "Import up to 1000 contacts",
      description:
        "Invalid rows are reported in `errors` with their index; the others are imported in one transaction. " +
        "`onDuplicate: update` fills in given fields, merges custom fields and adds tags; it never changes a status.",
      data: "BulkResult",
      body: true,
      idempotent: true,
      errors: { 404: "A group in `groupIds` does not exist.", 409: "The `Idempotency-Key` was used for another request." },
      rows: Contact.Schema.bulkRowSchema,
      requestExample: {
        contacts: [
          { email: "john@example.com", firstName: "John", timezone: "Europe/Paris" },
          { email: "jane@example.com", firstName: "Jane", timezone: "America/New_York" },
        ],
        onDuplicate: "skip",
      },
    }),
    idempotent,
    body(Contact.Schema.bulkSchema),
    async (c) => ok(c, await Contact.bulk(c.req.valid("json"))),
  )
  .post(
    "/search",
    doc({
      operationId: "searchContacts",
      tag,
      summary: "Search contacts",
      description: "Full-text `query` over email, names and company, with the list filters.",
      data: "Contact",
      paged: true,
      body: true,
      requestExample: { query: "acme", page: 1, perPage: 20 },
    }),
    body(Contact.Schema.searchSchema),
    async (c) => okPage(c, await Contact.search(c.req.valid("json"))),
  )
  .get(
    "/:id",
    doc({
      operationId: "getContact",
      tag,
      summary: "Get a contact",
      description: "The contact with its groups, tags and custom fields.",
      data: "Contact",
      errors: { 404: "No contact with this id in the workspace." },
    }),
    contactRead.middleware,
    (c) => ok(c, found(contactRead.value(c), "contact", c)),
  )
  .put(
    "/:id",
    doc({
      operationId: "updateContact",
      tag,
      summary: "Update a contact",
      description: "Partial; `customFields` merge key by key (`null` removes one).",
      data: "Contact",
      body: true,
      errors: { 404: "No contact with this id in the workspace.", 409: "Another contact has this email." },
      requestExample: { jobTitle: "VP Sales", customFields: { seats: 60 } },
    }),
    body(Contact.Schema.updateSchema),
    async (c) => ok(c, await Contact.update(pathId(c, "contact"), c.req.valid("json"))),
  )
  .delete(
    "/:id",
    doc({
      operationId: "deleteContact",
      tag,
      summary: "Delete a contact",
      description:
        "Removed from its groups and campaigns (their `totalContacts` go down); what was sent stays in the statistics. " +
        "With `erase=true` (GDPR art. 17) every other trace of its personal data is erased or pseudonymised too: the address and rendered subjects of its emails, reply texts, IPs and user agents of its events, stored answers naming it; statistics keep their numbers and a suppression entry keeps only the address's hash.",
      data: "Deleted",
      errors: { 404: "No contact with this id in the workspace." },
    }),
    query(Privacy.eraseQuery),
    async (c) => {
      const id = pathId(c, "contact");
      return ok(c, c.req.valid("query").erase === "true" ? await Privacy.erase(id) : await Contact.remove(id));
    },
  )
  .get(
    "/:id/export",
    doc({
      operationId: "exportContact",
      tag,
      summary: "Export everything held about a contact",
      description:
        "GDPR art. 15: the contact, its campaigns, every email sent to it (with the subject it saw) and every event, and the suppression entries that match its address.",
      data: "ContactExport",
      errors: { 404: "No contact with this id in the workspace." },
    }),
    async (c) => ok(c, await Privacy.exportContact(pathId(c, "contact"))),
  )
  .post(
    "/:id/groups",
    doc({
      operationId: "addContactGroups",
      tag,
      summary: "Add a contact to groups",
      description: "Groups it is already in are left as they are.",
      data: "Contact",
      body: true,
      errors: { 404: "No contact with this id in the workspace, or a group id not in it." },
      requestExample: { groupIds: ["grp_a1b2c3"] },
    }),
    body(Contact.Schema.groupIdsBody),
    async (c) => ok(c, await Contact.addToGroups(pathId(c, "contact"), c.req.valid("json"))),
  )
  .delete(
    "/:id/groups",
    doc({
      operationId: "removeContactGroups",
      tag,
      summary: "Remove a contact from groups",
      description: "The groups themselves stay.",
      data: "Contact",
      body: true,
      errors: { 404: "No contact with this id in the workspace, or a group id not in it." },
      requestExample: { groupIds: ["grp_a1b2c3"] },
    }),
    body(Contact.Schema.groupIdsBody),
    async (c) => ok(c, await Contact.removeFromGroups(pathId(c, "contact"), c.req.valid("json"))),
  )
  .post(
    "/:id/tags",
    doc({
      operationId: "addContactTags",
      tag,
      summary: "Tag a contact",
      description: "Tags it already has are kept once.",
      data: "Contact",
      body: true,
      errors: { 404: "No contact with this id in the workspace." },
      requestExample: { tags: ["hot-lead"] },
    }),
    body(Contact.Schema.tagsBody),
    async (c) => ok(c, await Contact.addTags(pathId(c, "contact"), c.req.valid("json"))),
  )
  .delete(
    "/:id/tags",
    doc({
      operationId: "removeContactTags",
      tag,
      summary: "Untag a contact",
      description: "Tags it does not have are ignored.",
      data: "Contact",
      body: true,
      errors: { 404: "No contact with this id in the workspace." },
      requestExample: { tags: ["hot-lead"] },
    }),
    body(Contact.Schema.tagsBody),
    async (c) => ok(c, await Contact.removeTags(pathId(c, "contact"), c.req.valid("json"))),
  );
