import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import * as Activity from "../activity";
import { campaignContactTable } from "../campaign/campaign.sql";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import { contactTable } from "../contact/contact.sql";
import * as Database from "../database";
import { pick, unnest } from "../database/typed";
import * as Message from "../message";
import type { SendJob } from "../queue";
import { isOpen, nextOpening, windowOf } from "../schedule";
import * as Suppression from "../suppression";
import { createId } from "../util/id";
import * as Budget from "./budget";
import { compose } from "./compose";
import { type Decision, decide, type Step } from "./decide";
import * as Fault from "./fault";
import * as Mailer from "./mailer";
import { failContact, nextAfter, settleSentMany } from "./progress";
import { onMailerError } from "./ses-policy";

/**
 * The sender: each queued step → at most one email. Orchestration only: reserve (under the
 * campaign's lock, what `decide` allows), SES (concurrently), settle (one transaction for what
 * SES accepted). The email row is written under its unique key (campaign, contact, node) before
 * SES is called, so a redelivered job, a retry or a crash can never send it twice.
 */

export type Outcome =
  /** SES accepted it. */
  | "sent"
  /** Not now (paused, window closed, limit reached): the step stays due. */
  | "deferred"
  /** The job no longer matches the contact's claim (duplicate, late, or removed contact). */
  | "stale"
  /** The contact may not be emailed any more (unsubscribed, bounced): sequence stopped. */
  | "stopped"
  /** The contact failed (a variable without value, SES rejected the address). */
  | "failed"
  /** SES throttled: retried later, nothing counted. */
  | "throttled"
  /** Nothing can be sent from the account: the campaign is paused with the reason. */
  | "paused"
  /** SES may or may not have accepted it: never resent, SES's Send event settles it. */
  | "unknown";

interface Outgoing {
  messageId: string;
  token: string;
  email: Mailer.OutgoingEmail;
}

interface Reservations {
  workspaceId?: string;
  outcomes: Map<SendJob, Outcome>;
  reserved: Array<{ job: SendJob; accountId: string } & Outgoing>;
  /** Contacts to fail after commit (a variable without value, a rejected email earlier). */
  failures: Array<{ job: SendJob; reason: string }>;
  stopped: boolean;
}

const PROGRESS = pick(campaignContactTable, ["contactId", "status", "currentNodeId", "claimId", "emailAccountId"], "cc");
const CONTACT = pick(
  contactTable,
  ["email", "firstName", "lastName", "company", "jobTitle", "phone", "website", "customFields", "status", "timezone"],
  "c",
  "contact_",
);
const MESSAGE = pick(Message.messageTable, ["id", "status", "sentAt", "claimId"], "m", "message_");

const OUTCOME: Record<Exclude<Decision<unknown>["kind"], "send">, Outcome> = {
  stale: "stale",
  held: "stale",
  advance: "stale",
  defer: "deferred",
  stop: "stopped",
  unknown: "unknown",
  fail: "failed",
};

const PREVIOUS = pick(Message.messageTable, ["id", "nodeId", "emailAccountId", "subject", "sesMessageId"], "p", "previous_");

/**
 * The steps of these jobs, locked, with their contacts, any email already reserved, and the
 * contact's latest email SES took in the campaign (what a threaded follow-up answers).
 */
async function readSteps(campaignId: string, jobs: readonly SendJob[]): Promise<Map<string, Step>> {
  const raw = await Database.rows<Record<string, unknown> & { suppressed: boolean }>(sql`
    SELECT ${PROGRESS.list}, ${CONTACT.list}, ${MESSAGE.list}, ${PREVIOUS.list},
           ${Suppression.isSuppressed(sql`cc.workspace_id`, sql`c.email`)} AS suppressed
    FROM campaign_contact cc
    JOIN contact c ON c.id = cc.contact_id
    LEFT JOIN message m ON m.campaign_id = cc.campaign_id AND m.contact_id = cc.contact_id AND m.node_id = cc.current_node_id
    LEFT JOIN LATERAL (
      SELECT * FROM message x
      WHERE x.campaign_id = cc.campaign_id AND x.contact_id = cc.contact_id AND x.status = 'sent'
      ORDER BY x.created_at DESC LIMIT 1
    ) p ON true
    WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = ANY(${Database.array(
      jobs.map((j) => j.contactId),
      "text",
    )})
    ORDER BY cc.contact_id
    FOR UPDATE OF cc`);
  return new Map(
    raw.map((row) => {
      const message = MESSAGE.decode(row);
      const previous = PREVIOUS.decode(row);
      const progress = PROGRESS.decode(row);
      const step: Step = {
        progress,
        contact: CONTACT.decode(row),
        suppressed: row.suppressed,
        message: message.id ? message : null,
        previous: previous.id ? previous : null,
      };
      return [step.progress.contactId, step];
    }),
  );
}

/**
 * Contacts moved to another account (theirs left the campaign or stopped being usable): recorded
 * in the activity feed. The account itself is stored on the contact when SES takes the email
 * (`settleSentMany`), like everything else about a sent email.
 */
async function recordReassignments(
  workspaceId: string,
  campaignId: string,
  moves: Array<{ job: SendJob; accountId: string; from: string }>,
  now: Date,
): Promise<void> {
  for (const { job, accountId, from } of moves) {
    await Activity.record({
      workspaceId,
      campaignId,
      contactId: job.contactId,
      nodeId: job.nodeId,
      type: "reassigned",
      occurredAt: now,
      metadata: { fromEmailAccountId: from, toEmailAccountId: accountId },
      providerKey: `reassigned:${job.claimId}`,
    });
  }
}

/** Reserve, under the campaign's row lock, what may be sent now; settle everything else. */
async function reserve(campaignId: string, jobs: SendJob[], now: Date): Promise<Reservations> {
  return Database.transaction(async () => {
    const result: Reservations = { outcomes: new Map(), reserved: [], failures: [], stopped: false };
    const locked = await Budget.lock(campaignId, now);
    if (!locked) {
      for (const job of jobs) result.outcomes.set(job, "stale");
      return result;
    }
    const { campaign } = locked;
    result.workspaceId = campaign.workspaceId;
    const steps = await readSteps(campaignId, jobs);
    const accounts = new Map(locked.accounts.map((a) => [a.account.id, a.account]));
    // In `contact` mode the window is each contact's own.
    const windowFor = (step: Step) => windowOf(locked.window, step.contact.timezone);
    const situation = {
      // Steps queued before SES paused the account wait (deferred) rather than fail at SES.
      active: campaign.status === "active" && !locked.sesPaused,
      windowOpen: locked.window.timezoneMode === "contact" ? (step: Step) => isOpen(now, windowFor(step)) : isOpen(now, locked.window),
      room: Budget.room(locked),
      accounts: locked.accounts.map((a) => ({ id: a.account.id, usable: a.usable, remaining: a.remaining, now: a.now })),
      workflow: campaign.workflow,
    };
    const decisions = decide(situation, jobs, steps, (job, step, node, sending): Outgoing => {
      const messageId = createId("message", now.getTime());
      const token = randomBytes(24).toString("base64url");
      const account = accounts.get(sending.accountId)!;
      const email = compose({
        workspaceId: campaign.workspaceId,
        campaignId,
        messageId,
        node,
        account: { email: account.email, name: account.name, replyTo: account.replyTo },
        contact: { id: job.contactId, ...step.contact },
        unsubscribeToken: token,
        previous: step.previous,
        thread: sending.replyTo !== null,
      });
      return { messageId, token, email };
    });

    const release: SendJob[] = [];
    const unknown: SendJob[] = [];
    const stop: Array<{ job: SendJob; status: string }> = [];
    const moves: Array<{ job: SendJob; accountId: string; from: string }> = [];
    for (const { job, decision } of decisions) {
      switch (decision.kind) {
        case "send":
          result.reserved.push({ job, accountId: decision.sending.accountId, ...decision.email });
          if (decision.sending.reassignedFrom) {
            moves.push({ job, accountId: decision.sending.accountId, from: decision.sending.reassignedFrom });
          }
          continue;
        case "defer":
          release.push(job);
          break;
        case "stop":
          stop.push({ job, status: decision.status });
          break;
        case "unknown":
          unknown.push(job);
          break;
        case "fail":
          result.failures.push({ job, reason: decision.reason });
          break;
        case "advance": {
          const next = nextAfter(campaign.workflow, windowFor(steps.get(job.contactId)!), job.nodeId, decision.sentAt);
          await Database.rows(sql`
            UPDATE campaign_contact SET status = ${next.status}, current_node_id = ${next.nodeId}, next_run_at = ${next.at},
                   claimed_at = NULL, claim_id = NULL, updated_at = ${now}
            WHERE campaign_id = ${campaignId} AND contact_id = ${job.contactId}`);
          break;
        }
      }
      result.outcomes.set(job, OUTCOME[decision.kind]);
    }

    // Deferred steps stay due (in `contact` mode, a contact whose own window is closed becomes due
    // at its next opening, so the tick does not claim it again every minute until then); steps of
    // unknown outcome wait for evidence (never resent).
    if (release.length) {
      const dueAgain = (job: SendJob): Date | null => {
        const step = steps.get(job.contactId);
        if (locked.window.timezoneMode !== "contact" || !step) return null;
        const window = windowFor(step);
        return isOpen(now, window) ? null : nextOpening(now, window);
      };
      await Database.rows(sql`
        UPDATE campaign_contact cc SET next_run_at = coalesce(v.due_at, cc.next_run_at), claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        FROM ${unnest(release, { claim_id: ["text", (j) => j.claimId], due_at: ["timestamptz", dueAgain] })}
        WHERE cc.campaign_id = ${campaignId} AND cc.claim_id = v.claim_id`);
    }
    if (unknown.length) {
      await Database.rows(sql`
        UPDATE campaign_contact SET next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        WHERE campaign_id = ${campaignId} AND claim_id = ANY(${Database.array(
          unknown.map((j) => j.claimId),
          "text",
        )})`);
    }
    if (stop.length) {
      result.stopped = true;
      await Database.rows(sql`
        UPDATE campaign_contact cc SET status = v.status, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        FROM ${unnest(stop, { contact_id: ["text", (s) => s.job.contactId], status: ["text", (s) => s.status] })}
        WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = v.contact_id`);
    }
    if (moves.length) await recordReassignments(campaign.workspaceId, campaignId, moves, now);
    await Message.reserve(
      { id: campaignId, workspaceId: campaign.workspaceId },
      result.reserved.map(({ job, messageId, token, email, accountId }) => ({
        id: messageId,
        contactId: job.contactId,
        nodeId: job.nodeId,
        emailAccountId: accountId,
        toEmail: email.to,
        subject: email.subject,
        claimId: job.claimId,
        unsubscribeTokenHash: createHash("sha256").update(token).digest("hex"),
      })),
      now,
    );
    return result;
  });
}

/** Handle the jobs of one campaign. Throws only on unexpected errors (the queue then redelivers). */
export async function sendCampaignJobs(campaignId: string, jobs: SendJob[]): Promise<Map<SendJob, Outcome>> {
  const now = Clock.now();
  const { workspaceId, outcomes, reserved, failures, stopped } = await reserve(campaignId, jobs, now);
  if (!workspaceId) return outcomes;
  for (const { job, reason } of failures) {
    await failContact({ workspaceId, campaignId, contactId: job.contactId, reason, at: now, nodeId: job.nodeId });
  }
  if (stopped) await completeIfDone(campaignId);
  if (!reserved.length) return outcomes;

  Fault.point("sender.afterReserve");
  const accepted: Message.Acceptance[] = [];
  const results = await Promise.allSettled(
    reserved.map(async ({ job, messageId, email }) => {
      try {
        const { messageId: sesMessageId } = await Mailer.use().send(email);
        accepted.push({ messageId, sesMessageId, at: Clock.now() });
        outcomes.set(job, "sent");
      } catch (error) {
        if (!(error instanceof Mailer.MailerError)) throw error;
        outcomes.set(job, await onMailerError(job, workspaceId, messageId, error));
      }
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  // Record what SES accepted before giving up on anything else.
  Fault.point("sender.afterSes");
  await settleSentMany(accepted);
  Fault.point("sender.afterRecord");
  if (failed) throw failed.reason;
  return outcomes;
}

/** Handle one job (tests, and anything outside a queue batch). */
export async function send(job: SendJob): Promise<Outcome> {
  const outcomes = await sendCampaignJobs(job.campaignId, [job]);
  return outcomes.get(job) ?? "stale";
}
