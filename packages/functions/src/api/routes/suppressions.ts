import { Suppressions } from "@fluenzr/core/privacy";
import type { Context } from "hono";
import { collection } from "../collection";
import { found, pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, operations, query } from "../openapi";
import { ok } from "../respond";

const missing = "No suppression entry with this id in the workspace.";

const op = operations("Suppressions", {
  importSuppressions: {
    summary: "Suppress up to 1000 addresses or domains",
    description:
      "Each entry is `{email}` or `{domain}` with an optional `note`. Invalid entries are reported in `errors` with their index; the others are added in one transaction. Entries already listed are counted in `skipped`.",
    data: "SuppressionBulkResult",
    body: true,
    idempotent: true,
    rows: Suppressions.entrySchema,
    requestExample: { entries: [{ email: "ceo@example.org" }, { domain: "example.net", note: "Asked us to stop" }] },
  },
  getSuppression: {
    summary: "Get a suppression entry",
    description: "The entry, with the campaign and email that added it when an event did.",
    data: "Suppression",
    errors: { 404: missing },
  },
  deleteSuppression: {
    summary: "Delete a suppression entry",
    description:
      "The address or domain may be emailed again by contacts created or changed from now on; contacts keep the status they have. An entry added by a bounce, complaint or unsubscribe needs `?confirm=true`, and its deletion is recorded in the activity of the campaigns of the contact with that address (`unsuppressed`).",
    data: "Deleted",
    errors: { 404: missing, 409: "The entry was added by a bounce, complaint or unsubscribe and `confirm=true` was not given." },
  },
});

const entryId = (c: Context) => pathId(c, "suppression");

export const suppressions = collection("Suppressions", Suppressions, {
  list: {
    operationId: "listSuppressions",
    summary: "List suppressed addresses and domains",
    description:
      "Newest first. `email` finds what suppresses that address (its own entry or its domain's); `domain` lists the domain's entry and the addresses listed at that domain.",
    data: "Suppression",
  },
  create: {
    operationId: "createSuppression",
    summary: "Suppress an address or a domain",
    description:
      "`{email}` or `{domain}`, with an optional `note`. Applies at once: contacts with the address (or at the domain) become `unsubscribed` and their sequences stop. Honours `Idempotency-Key`.",
    data: "Suppression",
    errors: { 409: "Already on the list (the message names the entry), or the `Idempotency-Key` was used for another request." },
    requestExample: { domain: "competitor.example", note: "Never prospect competitors" },
    example: {
      id: "sup_01jq0c7k2d",
      email: null,
      domain: "competitor.example",
      reason: "manual",
      note: "Never prospect competitors",
      source: null,
      createdAt: "2026-01-12T10:02:00.000Z",
    },
  },
})
  .post("/bulk", op.importSuppressions, idempotent, body(Suppressions.bulkSchema), async (c) =>
    ok(c, await Suppressions.bulk(c.req.valid("json"))),
  )
  .get("/:id", op.getSuppression, async (c) => ok(c, found(await Suppressions.fromID(entryId(c)), "suppression", c)))
  .delete("/:id", op.deleteSuppression, query(Suppressions.removeQuery), async (c) =>
    ok(c, await Suppressions.remove(entryId(c), c.req.valid("query"))),
  );
