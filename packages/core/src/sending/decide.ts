import type { campaignContactTable } from "../campaign/campaign.sql";
import type { contactTable } from "../contact/contact.sql";
import type { Message, Previous } from "../message";
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
  progress: Pick<typeof campaignContactTable.$inferSelect, "contactId" | "status" | "currentNodeId" | "claimId" | "emailAccountId"> & {
    /** An out-of-office reply holds the step until then. */
    holdUntil?: Date | null;
  };
  contact: Pick<
    typeof contactTable.$inferSelect,
    "email" | "firstName" | "lastName" | "company" | "jobTitle" | "phone" | "website" | "customFields" | "status" | "timezone"
  >;
  /** On the workspace's suppression list. */
  suppressed: boolean;
  /** The email of this (campaign, contact, node), if one was reserved before. */
  message: Pick<Message, "id" | "status" | "sentAt" | "claimId"> | null;
  /** The contact's latest email in the campaign that SES took, if any: what a follow-up answers. */
  previous: Previous | null;
}

/** A sending account as decisions see it. */
export interface AccountRoom {
  id: string;
  /** Verified: it may send. */
  usable: boolean;
  /** Emails it may still send today. */
  remaining: number;
  /** Emails it may send now (its minimum gap can make this 0 or 1). */
  now: number;
}

/** Whom an email goes out from, and whether it answers the contact's previous email. */
export interface Sending {
  accountId: string;
  /** The contact had another account, which was removed from the campaign or stopped being usable. */
  reassignedFrom?: string;
  /** The email it answers (same account, threading on), or null for a new thread. */
  replyTo: Previous | null;
}

export type Decision<Email> =
  /** The job no longer matches the contact's claim (duplicate, late, or removed contact). */
  | { kind: "stale" }
  /** Another delivery of this same job holds the email (in flight): leave it. */
  | { kind: "held" }
  /** Not now (paused, window closed, limit reached, held by an out-of-office reply): give the claim back, the step stays due. */
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
  | { kind: "send"; node: EmailNode; email: Email; sending: Sending };

export interface Situation {
  active: boolean;
  /** The campaign's window is open now; in `contact` timezone mode, asked of each step (its contact's window). */
  windowOpen: boolean | ((step: Step) => boolean);
  /** Emails the campaign's own limits (hourly, per minute) leave room for now. */
  room: number;
  /** The campaign's sending accounts, in its order. */
  accounts: readonly AccountRoom[];
  workflow: Workflow | null;
  /** The time of the decision: a step held (out of office) past it waits. */
  now?: Date;
}

/**
 * The account a contact's email goes from: the one it was assigned if that is still in the
 * campaign and usable (or nothing now, if that one has no room: it waits for its own account);
 * otherwise the usable account with the most remaining budget today that can send now (ties: the
 * campaign's order, and as room is used the turn passes to the next).
 */
function chooseAccount(accounts: readonly AccountRoom[], assigned: string | null): { account?: AccountRoom; reassigned: boolean } {
  const own = assigned ? accounts.find((a) => a.id === assigned && a.usable) : undefined;
  if (own) return { account: own.now > 0 ? own : undefined, reassigned: false };
  let best: AccountRoom | undefined;
  for (const a of accounts) if (a.usable && a.now > 0 && (!best || a.remaining > best.remaining)) best = a;
  return { account: best, reassigned: assigned !== null };
}

/** Whether an email node continues the thread: `data.thread`, by default every email after the first. */
export function threads(node: EmailNode, previous: Previous | null): boolean {
  return previous !== null && (node.data.thread ?? true);
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
  render: (job: SendJob, step: Step, node: EmailNode, sending: Sending) => Email,
): Array<{ job: SendJob; decision: Decision<Email> }> {
  let room = situation.room;
  const accounts = situation.accounts.map((a) => ({ ...a }));
  return jobs.map((job) => {
    const decision = ((): Decision<Email> => {
      const step = steps.get(job.contactId);
      const { progress } = step ?? {};
      if (!step || !progress || progress.claimId !== job.claimId || progress.currentNodeId !== job.nodeId || !OPEN.has(progress.status)) {
        return { kind: "stale" };
      }
      const windowOpen = typeof situation.windowOpen === "function" ? situation.windowOpen(step) : situation.windowOpen;
      if (!situation.active || !windowOpen) return { kind: "defer" };
      if (progress.holdUntil && situation.now && progress.holdUntil > situation.now) return { kind: "defer" };
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
      const { account, reassigned } = chooseAccount(accounts, step.progress.emailAccountId);
      if (!account) return { kind: "defer" };
      const node = situation.workflow?.nodes.find((n): n is EmailNode => n.id === job.nodeId && n.type === "email");
      if (!node) return { kind: "fail", reason: `node ${job.nodeId} is not an email` };
      // A contact moved to another account starts a new thread: the old one is another sender's.
      const continues = !reassigned && threads(node, step.previous) && step.previous?.emailAccountId === account.id;
      const sending: Sending = {
        accountId: account.id,
        ...(reassigned ? { reassignedFrom: step.progress.emailAccountId! } : {}),
        replyTo: continues ? step.previous : null,
      };
      try {
        const email = render(job, step, node, sending);
        room--;
        account.now--;
        account.remaining--;
        return { kind: "send", node, email, sending };
      } catch (error) {
        if (!(error instanceof MissingVariableError)) throw error;
        return { kind: "fail", reason: error.message };
      }
    })();
    return { job, decision };
  });
}
