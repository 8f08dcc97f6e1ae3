import * as Actor from "@fluenzr/core/actor";
import * as Campaign from "@fluenzr/core/campaign";
import * as Clock from "@fluenzr/core/clock";
import { notFound } from "@fluenzr/core/error";
import { SesAccount } from "@fluenzr/core/sending";
import { applySesEvent, Replies } from "@fluenzr/core/tracking";
import type { ApiEnv } from "@fluenzr/functions/api/env";
import { body, doc } from "@fluenzr/functions/api/openapi";
import { ok } from "@fluenzr/functions/api/respond";
import * as Records from "@fluenzr/local/records";
import { ENFORCEMENT_STATUSES, setLocalSesAccount } from "@fluenzr/local/ses-account";
import { Hono } from "hono";
import * as v from "valibot";

/**
 * Local stand-ins for what SES would publish beyond Send and Delivery (those come from the local
 * SES's store: ses-store.ts): `POST /v1/local/simulate` makes an open, click, bounce, complaint or
 * reply happen to a sent email, through the production event handling (after the SNS layer,
 * which has nothing to verify locally).
 */

export const SIMULATIONS = ["open", "click", "bounce", "soft-bounce", "complaint", "reply", "auto-reply"] as const;

const simulateSchema = v.object({
  messageId: v.pipe(v.string(), v.startsWith("msg_", "must be a msg_ id")),
  event: v.picklist(SIMULATIONS, `must be one of ${SIMULATIONS.join(", ")}`),
  link: v.optional(v.pipe(v.string(), v.url("must be a URL"))),
  text: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
});

const sesAccountSchema = v.object({
  sendingEnabled: v.boolean("must be true or false"),
  enforcementStatus: v.optional(v.picklist(ENFORCEMENT_STATUSES, `must be one of ${ENFORCEMENT_STATUSES.join(", ")}`)),
});

export const simulate = new Hono<ApiEnv>()
  .put(
    "/ses-account",
    doc({
      operationId: "setLocalSesAccount",
      tag: "Local",
      body: true,
      summary: "Pause or resume the local SES account's sending (local mode only)",
      description:
        "What SES does when it pauses an account after a review: `GetAccount` answers `SendingEnabled: false` and every send fails " +
        "with `SendingPausedException`. The engine reads it as in production (the sweeper's `GetAccount`, here read at once as well): " +
        "while paused nothing is dispatched in any campaign and queued steps wait; with sending enabled again dispatch resumes by itself.",
      requestExample: { sendingEnabled: false, enforcementStatus: "SHUTDOWN" },
    }),
    body(sesAccountSchema),
    async (c) => {
      const input = c.req.valid("json");
      const local = setLocalSesAccount({
        sendingEnabled: input.sendingEnabled,
        enforcementStatus: input.enforcementStatus ?? (input.sendingEnabled ? "HEALTHY" : "SHUTDOWN"),
      });
      // The sweeper's own read, now rather than at its next run.
      const read = await SesAccount.refresh();
      return ok(c, { ...local, dispatchPaused: read ? SesAccount.isPaused(read) : !local.sendingEnabled });
    },
  )
  .post(
    "/simulate",
    doc({
      operationId: "simulateSesEvent",
      tag: "Local",
      body: true,
      summary: "Simulate an SES event for a sent email (local mode only)",
      description:
        "Message ids are in the activity feed and in the local SES page (tag `message`). The answer carries the campaign's status " +
        "after the event (and its `pausedReason` when the bounce or complaint limits paused it).",
      errors: { 404: "No email with this message id was sent from the workspace." },
      requestExample: { messageId: "msg_01jhx3k9w2e8r5t7y6u4i3o2p1", event: "open" },
    }),
    body(simulateSchema),
    async (c) => {
      const input = c.req.valid("json");
      const email = await Records.sentEmail(input.messageId, Actor.workspaceId());
      if (!email) throw notFound("Sent email", input.messageId);
      const now = Clock.now();
      const result =
        input.event === "reply" || input.event === "auto-reply"
          ? await Replies.applyInbound(Records.inboundReply(email, now, { text: input.text, automatic: input.event === "auto-reply" }))
          : await applySesEvent(Records.sesRecord(input.event, email, now, { link: input.link }));
      const campaign = await Campaign.fromID(email.campaignId);
      const { id, status, pausedReason } = campaign!;
      return ok(c, {
        messageId: input.messageId,
        event: input.event,
        result,
        campaign: { id, status, ...(pausedReason ? { pausedReason } : {}) },
      });
    },
  );
