import * as Actor from "@fluenzr/core/actor";
import * as Campaign from "@fluenzr/core/campaign";
import * as Clock from "@fluenzr/core/clock";
import { notFound } from "@fluenzr/core/error";
import { SesAccount } from "@fluenzr/core/sending";
import { applySesEvent, providerKey, Replies, type SesEvent } from "@fluenzr/core/tracking";
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
  // Opens and clicks: what SES would report about who fetched the pixel or followed the link, and
  // when, so each class of docs/machine-events.md can be produced (defaults: a desktop browser, now).
  userAgent: v.optional(v.pipe(v.string("must be a string"), v.maxLength(1000, "must be at most 1000 characters"))),
  ipAddress: v.optional(v.pipe(v.string("must be a string"), v.ip("must be an IPv4 or IPv6 address"))),
  at: v.optional(v.pipe(v.string("must be a string"), v.isoTimestamp("must be an ISO 8601 timestamp such as 2026-01-12T09:00:05.000Z"))),
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
        "after the event (and its `pausedReason` when the bounce or complaint limits paused it). Opens and clicks take what SES " +
        "would report: `userAgent`, `ipAddress` and `at` (the event's time; default now), and the answer says how the event was " +
        "judged (`machine`, `machineReason`: see docs/machine-events.md). The example is an Apple Mail Privacy Protection prefetch.",
      errors: { 404: "No email with this message id was sent from the workspace." },
      requestExample: {
        messageId: "msg_01jhx3k9w2e8r5t7y6u4i3o2p1",
        event: "open",
        userAgent: "Mozilla/5.0",
        ipAddress: "17.58.63.100",
        at: "2026-01-12T09:00:40.000Z",
      },
    }),
    body(simulateSchema),
    async (c) => {
      const input = c.req.valid("json");
      const email = await Records.sentEmail(input.messageId, Actor.workspaceId());
      if (!email) throw notFound("Sent email", input.messageId);
      const now = input.at ? new Date(input.at) : Clock.now();
      const event = input.event;
      const record =
        event === "open" || event === "click"
          ? Records.sesRecord(event, email, now, { link: input.link, userAgent: input.userAgent, ip: input.ipAddress })
          : undefined;
      const result =
        event === "reply" || event === "auto-reply"
          ? await Replies.applyInbound(Records.inboundReply(email, now, { text: input.text, automatic: event === "auto-reply" }))
          : await applySesEvent(record ?? Records.sesRecord(event, email, now, { link: input.link }));
      const campaign = await Campaign.fromID(email.campaignId);
      const { id, status, pausedReason } = campaign!;
      // How the open or click was judged (docs/machine-events.md), as recorded in the activity feed.
      const judged = record ? await Records.judgement(providerKey(record as SesEvent)) : undefined;
      return ok(c, {
        messageId: input.messageId,
        event: input.event,
        result,
        ...(judged ? { machine: judged.machine, ...(judged.machineReason ? { machineReason: judged.machineReason } : {}) } : {}),
        campaign: { id, status, ...(pausedReason ? { pausedReason } : {}) },
      });
    },
  );
