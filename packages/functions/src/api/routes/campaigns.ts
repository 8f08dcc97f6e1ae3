import * as Campaign from "@fluenzr/core/campaign";
import { Replies } from "@fluenzr/core/tracking";
import { type Context, Hono } from "hono";
import type { ApiEnv } from "../env";
import { BRANCHING_WORKFLOW, EXAMPLES } from "../examples";
import { found, pathId } from "../ids";
import { fused, keyOnBegin } from "../middleware/auth";
import { idempotent } from "../middleware/idempotency";
import { body, creates, doc, operations, pageOf, parseQuery, query } from "../openapi";
import { ok, okPage, okRendered } from "../respond";

const tag = "Campaigns";

const campaignId = (c: Context) => pathId(c, "campaign");
/** The hot read: authenticated and read in one statement, its answer's JSON built by PostgreSQL. */
const campaignRead = fused((c) => Campaign.renderedById(campaignId(c)));
const listRead = fused((c) => Campaign.listOf(parseQuery(c, Campaign.Schema.listQuery)));

/** The seed's campaign, as `POST /campaigns` takes it (the /docs "Try it out" body: a test sends it). */
const { name, description, emailAccountId, settings, workflow } = EXAMPLES.Campaign;
const EXAMPLE_CREATE = { name, description, emailAccountId, settings, workflow };

const CONTROL: Record<Campaign.Action, string> = {
  start: "Launch a draft campaign. Needs verified email accounts, a valid workflow with an email, and contacts.",
  pause: "Suspend an active campaign: nothing is sent while paused, including emails already queued.",
  resume:
    "Restart a paused campaign: steps that fell due during the pause are due now (within window and limit). Clears `pausedReason` " +
    "and starts a new window of 200 emails for the bounce and complaint limits.",
  archive: "Archive a completed, paused or draft campaign: it never sends again and becomes read-only.",
};

const missing = "No campaign with this id in the workspace.";

const op = operations(tag, {
  listCampaigns: {
    summary: "List campaigns",
    description: "Filter by `status`; sort on createdAt, updatedAt, name, status or startedAt.",
    ...pageOf("Campaign"),
  },
  createCampaign: {
    summary: "Create a campaign",
    description:
      "A draft. Settings default to Mon–Fri, 9:00–18:00 UTC, 30 emails/hour. Send from one account (`emailAccountId`) or several " +
      "(`emailAccountIds`, 1–50, verified when the campaign starts): each contact is given, at its first email, the account with the " +
      "most remaining budget that day, and keeps it for its follow-ups. Honours `Idempotency-Key`.",
    ...creates("Campaign"),
    errors: { 404: "The email account does not exist in the workspace." },
    requestExample: EXAMPLE_CREATE,
  },
  getCampaign: {
    summary: "Get a campaign",
    description: "The campaign with its workflow, settings and counters.",
    data: "Campaign",
    errors: { 404: missing },
  },
  updateCampaign: {
    summary: "Update a draft or paused campaign",
    description:
      "`settings` merge key by key; `workflow` replaces the whole workflow; `emailAccountIds` (or `emailAccountId`) replaces the list of " +
      "accounts: contacts of an account taken out move to another at their next email, in a new thread.",
    data: "Campaign",
    body: true,
    errors: { 404: "No such campaign, or its email account does not exist.", 409: "The campaign is active, completed or archived." },
    requestExample: {
      name: "Q1 2025 Prospecting (EMEA)",
      settings: { maxEmailsPerHour: 40, timezoneMode: "contact" },
      workflow: BRANCHING_WORKFLOW,
    },
  },
  deleteCampaign: {
    summary: "Delete a draft campaign",
    description: "Only a draft can be deleted; archive the others.",
    data: "Deleted",
    errors: { 404: missing, 409: "The campaign is not a draft." },
  },
  addCampaignContacts: {
    summary: "Add contacts to a campaign",
    description:
      "By `contactIds`, `groupIds` or `filters` (one of them). `skipped`: already enrolled, or not `active` (unsubscribed, bounced, complained: which includes every address on the suppression list); with `contactIds`, `skippedContacts` says why for each. `errors`: ids not in the workspace.",
    data: "EnrolmentResult",
    body: true,
    idempotent: true,
    errors: { 404: missing, 409: "The campaign is completed or archived, or the `Idempotency-Key` was used for another request." },
    requestExample: { contactIds: ["con_xyz789"] },
    exactlyOneOf: ["contactIds", "groupIds", "filters"],
  },
  removeCampaignContacts: {
    summary: "Remove contacts from a campaign",
    description: "What was already sent to them stays in the statistics.",
    data: "Removed",
    body: true,
    errors: { 404: missing, 409: "The campaign is completed or archived." },
    requestExample: { contactIds: ["con_xyz789"] },
  },
  reportCampaignReply: {
    summary: "Report a reply from a contact",
    description:
      "For integrations that watch a mailbox: the reply is attributed to the last email sent to the contact in this campaign; a real reply stops the contact's sequence (`automatic: true` records an out-of-office only).",
    data: "ReplyReported",
    body: true,
    idempotent: true,
    errors: { 404: "No such campaign, or nothing was sent to this contact in it." },
    requestExample: { contactId: "con_xyz789" },
  },
  listCampaignContacts: {
    summary: "List a campaign's contacts",
    description: "Each enrolled contact and where it is in the sequence.",
    ...pageOf("CampaignContact"),
    errors: { 404: missing },
  },
});

export const campaigns = new Hono<ApiEnv>()
  .get("/", op.listCampaigns, listRead.middleware, query(Campaign.Schema.listQuery), (c) => okPage(c, listRead.value(c)))
  .post("/", op.createCampaign, keyOnBegin, idempotent, body(Campaign.Schema.createSchema), async (c) =>
    ok(c, await Campaign.create(c.req.valid("json")), 201),
  )
  .get("/:id", op.getCampaign, campaignRead.middleware, (c) => okRendered(c, found(campaignRead.value(c), "campaign", c)))
  .put("/:id", op.updateCampaign, keyOnBegin, body(Campaign.Schema.updateSchema), async (c) =>
    ok(c, await Campaign.update(campaignId(c), c.req.valid("json"))),
  )
  .delete("/:id", op.deleteCampaign, keyOnBegin, async (c) => ok(c, await Campaign.remove(campaignId(c))))
  .post("/:id/contacts", op.addCampaignContacts, keyOnBegin, idempotent, body(Campaign.Schema.addContactsSchema), async (c) =>
    ok(c, await Campaign.Enrolment.add(campaignId(c), c.req.valid("json"))),
  )
  .delete("/:id/contacts", op.removeCampaignContacts, body(Campaign.Schema.removeContactsSchema), async (c) =>
    ok(c, await Campaign.Enrolment.remove(campaignId(c), c.req.valid("json"))),
  )
  .post("/:id/replies", op.reportCampaignReply, idempotent, body(Replies.reportSchema), async (c) =>
    ok(c, await Replies.report(campaignId(c), c.req.valid("json"))),
  )
  .get("/:id/contacts", op.listCampaignContacts, query(Campaign.Schema.contactsQuery), async (c) =>
    okPage(c, await Campaign.Enrolment.list(campaignId(c), c.req.valid("query"))),
  );

for (const action of Object.keys(CONTROL) as Campaign.Action[]) {
  campaigns.post(
    `/:id/${action}`,
    doc({
      operationId: `${action}Campaign`,
      tag,
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} a campaign`,
      description: CONTROL[action],
      data: "Campaign",
      idempotent: true,
      errors: {
        404: missing,
        409: "The campaign's status does not allow it (`details` says why; for start: account not verified, invalid workflow, no contact).",
      },
    }),
    keyOnBegin,
    idempotent,
    async (c) => ok(c, await Campaign.transition(campaignId(c), action)),
  );
}
