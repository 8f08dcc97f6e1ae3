import * as Campaign from "@fluenzr/core/campaign";
import { notFound } from "@fluenzr/core/error";
import { Replies } from "@fluenzr/core/tracking";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";
import * as Out from "../schemas";

const tag = "Campaigns";

const CONTROL: Record<Campaign.Action, string> = {
  start: "Launch a draft campaign. Needs a verified email account, a valid workflow with an email, and contacts.",
  pause: "Suspend an active campaign: nothing is sent while paused, including emails already queued.",
  resume: "Restart a paused campaign: steps that fell due during the pause are due now (within window and limit).",
  archive: "Archive a completed, paused or draft campaign: it never sends again and becomes read-only.",
};

export const campaigns = new Hono<ApiEnv>()
  .get(
    "/",
    doc({
      tag,
      summary: "List campaigns",
      description: "Sort on createdAt, updatedAt, name, status or startedAt.",
      data: Out.Campaign,
      paged: true,
    }),
    query(Campaign.Schema.listQuery),
    async (c) => okPage(c, await Campaign.list(c.req.valid("query"))),
  )
  .post(
    "/",
    doc({
      tag,
      summary: "Create a campaign",
      description: "Settings default to Mon–Fri, 9:00–18:00 UTC, 30 emails/hour. Honours `Idempotency-Key`.",
      data: Out.Campaign,
      status: 201,
      errors: [404, 409],
    }),
    idempotent,
    body(Campaign.Schema.createSchema),
    async (c) => ok(c, await Campaign.create(c.req.valid("json")), 201),
  )
  .get("/:id", doc({ tag, summary: "Get a campaign, with its workflow and counters", data: Out.Campaign, errors: [404] }), async (c) => {
    const id = pathId(c, "campaign");
    const campaign = await Campaign.fromID(id);
    if (!campaign) throw notFound("Campaign", id);
    return ok(c, campaign);
  })
  .put(
    "/:id",
    doc({
      tag,
      summary: "Update a draft or paused campaign",
      description: "`settings` merge key by key; `workflow` replaces the whole workflow.",
      data: Out.Campaign,
      errors: [404, 409],
    }),
    body(Campaign.Schema.updateSchema),
    async (c) => ok(c, await Campaign.update(pathId(c, "campaign"), c.req.valid("json"))),
  )
  .delete("/:id", doc({ tag, summary: "Delete a draft campaign", data: Out.Deleted, errors: [404, 409] }), async (c) =>
    ok(c, await Campaign.remove(pathId(c, "campaign"))),
  )
  .post(
    "/:id/contacts",
    doc({
      tag,
      summary: "Add contacts to a campaign",
      description:
        "By `contactIds`, `groupIds` or `filters` (one of them). `skipped`: already enrolled, or not `active`; `errors`: ids not in the workspace.",
      data: Out.MembershipResult,
      errors: [404, 409],
    }),
    idempotent,
    body(Campaign.Schema.addContactsSchema),
    async (c) => ok(c, await Campaign.Enrolment.add(pathId(c, "campaign"), c.req.valid("json"))),
  )
  .delete(
    "/:id/contacts",
    doc({ tag, summary: "Remove contacts from a campaign (what was sent stays in the statistics)", data: Out.Removed, errors: [404, 409] }),
    body(Campaign.Schema.removeContactsSchema),
    async (c) => ok(c, await Campaign.Enrolment.remove(pathId(c, "campaign"), c.req.valid("json"))),
  )
  .post(
    "/:id/replies",
    doc({
      tag,
      summary: "Report a reply from a contact",
      description:
        "For integrations that watch a mailbox: the reply is attributed to the last email sent to the contact in this campaign; a real reply stops the contact's sequence (`automatic: true` records an out-of-office only).",
      data: Out.ReplyReported,
      errors: [404],
    }),
    idempotent,
    body(Replies.reportSchema),
    async (c) => ok(c, await Replies.report(pathId(c, "campaign"), c.req.valid("json"))),
  )
  .get(
    "/:id/contacts",
    doc({
      tag,
      summary: "List a campaign's contacts and where each is in the sequence",
      data: Out.CampaignContact,
      paged: true,
      errors: [404],
    }),
    query(Campaign.Schema.contactsQuery),
    async (c) => okPage(c, await Campaign.Enrolment.list(pathId(c, "campaign"), c.req.valid("query"))),
  );

for (const action of Object.keys(CONTROL) as Campaign.Action[]) {
  campaigns.post(
    `/:id/${action}`,
    doc({
      tag,
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} a campaign`,
      description: CONTROL[action],
      data: Out.Campaign,
      errors: [404, 409],
    }),
    idempotent,
    async (c) => ok(c, await Campaign.transition(pathId(c, "campaign"), action)),
  );
}
