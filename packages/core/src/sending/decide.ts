import type { campaignContactTable } from "../campaign/campaign.sql";
import type { contactTable } from "../contact/contact.sql";
import type { Message } from "../message";
import type { SendJob } from "../queue";
import { MissingVariableError } from "../template";
import type { EmailNode, Workflow } from "../workflow";

/**
 * What the sender does with each queued step, decided without a database: given the campaign as
 * locked, the steps as read under that lock and the room the limits leave, one decision per job.
 * The sender then applies the decisions in a few set-based statements. Everything is re-checked
 * here because a step may have waited in the queue (paused campaign, closed window, a contact
 * who unsubscribed meanwhile, a duplicate delivery).
 */

/** A campaign contact's step as the sender reads it, with its contact and any email already reserved. */
export interface Step {
  progress: Pick<typeof campaignContactTable.$inferSelect, "contactId" | "status" | "currentNodeId" | "claimId">;
  contact: Pick<
    typeof contactTable.$inferSelect,
    "email" | "firstName" | "lastName" | "company" | "jobTitle" | "phone" | "website" | "customFields" | "status"
  >;
  /** On the workspace's suppression list. */
  suppressed: boolean;
  /** The email of this (campaign, contact, node), if one was reserved before. */
  message: Pick<Message, "id" | "status" | "sentAt" | "claimId"> | null;
}

export type Decision<Email> =
  /** The job no longer matches the contact's claim (duplicate, late, or removed contact). */
  | { kind: "stale" }
  /** Another delivery of this same job holds the email (in flight): leave it. */
  | { kind: "held" }
  /** Not now (paused, window closed, limit reached): give the claim back, the step stays due. */
  | { kind: "defer" }
  /** The contact may not be emailed any more: stop its sequence with this status. */
  | { kind: "stop"; status: "bounced" | "unsubscribed" }
  /** Sent before (the contact was removed and added again): move on, never send it twice. */
  | { kind: "advance"; sentAt: Date }
  /** Reserved under a claim that expired: that attempt died around the SES call. */
  | { kind: "unknown" }
  /** The contact fails with this reason. */
  | { kind: "fail"; reason: string }
  /** Reserve this email and hand it to SES. */
  | { kind: "send"; node: EmailNode; email: Email };

export interface Situation {
  active: boolean;
  windowOpen: boolean;
  /** Emails the limits leave room for now. */
  room: number;
  workflow: Workflow | null;
}

const OPEN = new Set(["pending", "in_progress"]);

/**
 * Decide every job, in order. `render` composes the email of a step (pure; it throws
 * `MissingVariableError` for a variable without value, which fails the contact). Only emails
 * decided `send` use room.
 */
export function decide<Email>(
  situation: Situation,
  jobs: readonly SendJob[],
  steps: ReadonlyMap<string, Step>,
  render: (job: SendJob, step: Step, node: EmailNode) => Email,
): Array<{ job: SendJob; decision: Decision<Email> }> {
  let room = situation.room;
  return jobs.map((job) => {
    const decision = ((): Decision<Email> => {
      const step = steps.get(job.contactId);
      const { progress } = step ?? {};
      if (!step || !progress || progress.claimId !== job.claimId || progress.currentNodeId !== job.nodeId || !OPEN.has(progress.status)) {
        return { kind: "stale" };
      }
      if (!situation.active || !situation.windowOpen) return { kind: "defer" };
      if (step.contact.status !== "active" || step.suppressed) {
        // Never email a contact who unsubscribed, bounced or complained, in any campaign, nor an
        // address or domain on the suppression list.
        return { kind: "stop", status: step.contact.status === "bounced" ? "bounced" : "unsubscribed" };
      }
      if (step.message) {
        const { status, sentAt, claimId } = step.message;
        if (status === "sending") return claimId === job.claimId ? { kind: "held" } : { kind: "unknown" };
        if (status === "failed") return { kind: "fail", reason: "SES rejected this email" };
        return sentAt ? { kind: "advance", sentAt } : { kind: "stale" };
      }
      if (room <= 0) return { kind: "defer" };
      const node = situation.workflow?.nodes.find((n): n is EmailNode => n.id === job.nodeId && n.type === "email");
      if (!node) return { kind: "fail", reason: `node ${job.nodeId} is not an email` };
      try {
        const email = render(job, step, node);
        room--;
        return { kind: "send", node, email };
      } catch (error) {
        if (!(error instanceof MissingVariableError)) throw error;
        return { kind: "fail", reason: error.message };
      }
    })();
    return { job, decision };
  });
}
