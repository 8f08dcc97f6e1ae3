import * as Contact from "@fluenzr/core/contact";
import * as Privacy from "@fluenzr/core/privacy";
import type { Context } from "hono";
import { collection } from "../collection";
import { found, pathId } from "../ids";
import { fused, keyOnBegin } from "../middleware/auth";
import { idempotent } from "../middleware/idempotency";
import { body, operations, pageOf, query } from "../openapi";
import { ok, okPage, okRendered } from "../respond";

const missing = "No contact with this id in the workspace.";
/** Changing a contact's groups: the same body and errors both ways. */
const groupChange = {
  data: "Contact",
  body: true,
  errors: { 404: "No contact with this id in the workspace, or a group id not in it." },
  requestExample: { groupIds: ["grp_a1b2c3"] },
} as const;
/** Changing a contact's tags: the same body and errors both ways. */
const tagChange = { data: "Contact", body: true, errors: { 404: missing }, requestExample: { tags: ["hot-lead"] } } as const;

const op = operations("Contacts", {
  importContacts: {
    summary: "Import up to 1000 contacts",
    description:
      "Invalid rows are reported in `errors` with their index; the others are imported in one transaction. " +
      "`onDuplicate: update` fills in given fields, merges custom fields and adds tags; it never changes a status.",
    data: "BulkResult",
    body: true,
    idempotent: true,
    errors: { 404: "A group in `groupIds` does not exist." },
    rows: Contact.Schema.bulkRowSchema,
    requestExample: {
      contacts: [
        { email: "john@example.com", firstName: "John", timezone: "Europe/Paris" },
        { email: "jane@example.com", firstName: "Jane", timezone: "America/New_York" },
      ],
      onDuplicate: "skip",
    },
  },
  searchContacts: {
    summary: "Search contacts",
    description: "Full-text `query` over email, names and company, with the list filters.",
    ...pageOf("Contact"),
    body: true,
    requestExample: { query: "acme", page: 1, perPage: 20 },
  },
  getContact: {
    summary: "Get a contact",
    description: "The contact with its groups, tags and custom fields.",
    data: "Contact",
    errors: { 404: missing },
  },
  updateContact: {
    summary: "Update a contact",
    description: "Partial; `customFields` merge key by key (`null` removes one).",
    data: "Contact",
    body: true,
    errors: { 404: missing, 409: "Another contact has this email." },
    requestExample: { jobTitle: "VP Sales", customFields: { seats: 60 } },
  },
  deleteContact: {
    summary: "Delete a contact",
    description:
      "Removed from its groups and campaigns (their `totalContacts` go down); what was sent stays in the statistics. " +
      "With `erase=true` (GDPR art. 17) every other trace of its personal data is erased or pseudonymised too: the address and rendered subjects of its emails, reply texts, IPs and user agents of its events, stored answers naming it; statistics keep their numbers and a suppression entry keeps only the address's hash.",
    data: "Deleted",
    errors: { 404: missing },
  },
  exportContact: {
    summary: "Export everything held about a contact",
    description:
      "GDPR art. 15: the contact, its campaigns, every email sent to it (with the subject it saw) and every event, and the suppression entries that match its address.",
    data: "ContactExport",
    errors: { 404: missing },
  },
  addContactGroups: { summary: "Add a contact to groups", description: "Groups it is already in are left as they are.", ...groupChange },
  removeContactGroups: { summary: "Remove a contact from groups", description: "The groups themselves stay.", ...groupChange },
  addContactTags: { summary: "Tag a contact", description: "Tags it already has are kept once.", ...tagChange },
  removeContactTags: { summary: "Untag a contact", description: "Tags it does not have are ignored.", ...tagChange },
});

const contactId = (c: Context) => pathId(c, "contact");
/** The hot read: authenticated and read in one statement, its answer's JSON built by PostgreSQL. */
const contactRead = fused((c) => Contact.renderedById(contactId(c)));

export const contacts = collection(
  "Contacts",
  { listQuery: Contact.Schema.listQuery, list: Contact.list, createSchema: Contact.Schema.createSchema, create: Contact.create },
  {
    list: {
      operationId: "listContacts",
      summary: "List contacts",
      description: "Filters: `email` (contains), `status`, `groupId`, `tag`.",
      data: "Contact",
    },
    create: {
      operationId: "createContact",
      summary: "Create a contact",
      description: "Unique by email (case-insensitive) in the workspace. Honours `Idempotency-Key`.",
      data: "Contact",
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
    },
  },
  { keyOnBegin: true },
)
  .post("/bulk", op.importContacts, keyOnBegin, idempotent, body(Contact.Schema.bulkSchema), async (c) =>
    ok(c, await Contact.bulk(c.req.valid("json"))),
  )
  .post("/search", op.searchContacts, body(Contact.Schema.searchSchema), async (c) => okPage(c, await Contact.search(c.req.valid("json"))))
  .get("/:id", op.getContact, contactRead.middleware, (c) => okRendered(c, found(contactRead.value(c), "contact", c)))
  .put("/:id", op.updateContact, keyOnBegin, body(Contact.Schema.updateSchema), async (c) =>
    ok(c, await Contact.update(contactId(c), c.req.valid("json"))),
  )
  .delete("/:id", op.deleteContact, keyOnBegin, query(Privacy.eraseQuery), async (c) => {
    const id = contactId(c);
    return ok(c, c.req.valid("query").erase === "true" ? await Privacy.erase(id) : await Contact.remove(id));
  })
  .get("/:id/export", op.exportContact, async (c) => ok(c, await Privacy.exportContact(contactId(c))))
  .post("/:id/groups", op.addContactGroups, keyOnBegin, body(Contact.Schema.groupIdsBody), async (c) =>
    ok(c, await Contact.addToGroups(contactId(c), c.req.valid("json"))),
  )
  .delete("/:id/groups", op.removeContactGroups, body(Contact.Schema.groupIdsBody), async (c) =>
    ok(c, await Contact.removeFromGroups(contactId(c), c.req.valid("json"))),
  )
  .post("/:id/tags", op.addContactTags, keyOnBegin, body(Contact.Schema.tagsBody), async (c) =>
    ok(c, await Contact.addTags(contactId(c), c.req.valid("json"))),
  )
  .delete("/:id/tags", op.removeContactTags, keyOnBegin, body(Contact.Schema.tagsBody), async (c) =>
    ok(c, await Contact.removeTags(contactId(c), c.req.valid("json"))),
  );
