import { sql } from "drizzle-orm";
import * as Activity from "../activity";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Stats from "../stats";
import * as Workflow from "../workflow";
import { addDelays } from "./window";

/**
 * How a campaign contact moves through its sequence: shared by the sender (which saw SES accept
 * an email) and tracking (SES's `Send` event settling an email whose fate the sender did not
 * learn), so that both settle an email the same way, and only once.
 */

export interface Next {
  status: "in_progress" | "completed";
  nodeId: string | null;
  at: Date | null;
}

/** After `nodeId` was sent at `sentAt`: the next email and when it is due, or the end. */
export function nextAfter(workflow: Workflow.Workflow | null, timezone: string, nodeId: string, sentAt: Date): Next {
  const step = workflow ? Workflow.nextStep(workflow, nodeId) : { nodeId: null, delays: [] };
  if (!step.nodeId) return { status: "completed", nodeId: null, at: null };
  // Delays count from the moment the previous email was sent, in the campaign's timezone.
  return { status: "in_progress", nodeId: step.nodeId, at: addDelays(sentAt, step.delays, timezone) };
}

export interface Settled {
  campaignId: string;
  contactId: string;
  completed: boolean;
}

/**
 * SES accepted `messageId`: mark it sent, record the `sent` event, count it, and move the contact
 * on. Only a message still `sending` is settled, so the sender and a `Send` event racing each
 * other count it once. Returns undefined when it was already settled.
 */
export async function settleSent(messageId: string, sesMessageId: string, at: Date): Promise<Settled | undefined> {
  const settled = await Database.transaction(async () => {
    const [message] = await Database.rows<{ workspace_id: string; campaign_id: string; contact_id: string; node_id: string }>(sql`
      UPDATE message SET status = 'sent', ses_message_id = coalesce(ses_message_id, ${sesMessageId}), sent_at = ${at}
      WHERE id = ${messageId} AND status = 'sending'
      RETURNING workspace_id, campaign_id, contact_id, node_id`);
    if (!message) return undefined;
    await Activity.record({
      workspaceId: message.workspace_id,
      campaignId: message.campaign_id,
      contactId: message.contact_id,
      messageId,
      nodeId: message.node_id,
      type: "sent",
      occurredAt: at,
      metadata: { sesMessageId },
      providerKey: `sent:${messageId}`,
    });
    await Stats.bump(message.campaign_id, message.node_id, at, { sent: 1 });
    const [campaign] = await Database.rows<{ workflow: Workflow.Workflow | null; timezone: string }>(
      sql`SELECT workflow, timezone FROM campaign WHERE id = ${message.campaign_id}`,
    );
    const next = nextAfter(campaign?.workflow ?? null, campaign?.timezone ?? "UTC", message.node_id, at);
    const [moved] = await Database.rows<{ status: string }>(sql`
      UPDATE campaign_contact
      SET status = ${next.status}, current_node_id = ${next.nodeId}, next_run_at = ${next.at},
          claimed_at = NULL, claim_id = NULL, last_sent_at = ${at}, error = NULL, updated_at = ${Clock.now()}
      WHERE campaign_id = ${message.campaign_id} AND contact_id = ${message.contact_id}
        AND current_node_id = ${message.node_id} AND status IN ('pending', 'in_progress')
      RETURNING status`);
    return { campaignId: message.campaign_id, contactId: message.contact_id, completed: moved?.status === "completed" };
  });
  if (settled?.completed) await completeIfDone(settled.campaignId);
  return settled;
}

/** A contact that cannot be sent to: `failed` with the reason, its sequence stopped. */
export async function failContact(input: {
  workspaceId: string;
  campaignId: string;
  contactId: string;
  reason: string;
  at: Date;
  messageId?: string;
  nodeId?: string;
}): Promise<void> {
  const failed = await Database.transaction(async () => {
    const [row] = await Database.rows<{ contact_id: string }>(sql`
      UPDATE campaign_contact
      SET status = 'failed', error = ${input.reason}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${input.at}
      WHERE campaign_id = ${input.campaignId} AND contact_id = ${input.contactId} AND status IN ('pending', 'in_progress')
      RETURNING contact_id`);
    if (!row) return false;
    await Activity.record({
      workspaceId: input.workspaceId,
      campaignId: input.campaignId,
      contactId: input.contactId,
      messageId: input.messageId,
      nodeId: input.nodeId,
      type: "failed",
      occurredAt: input.at,
      metadata: { reason: input.reason },
      providerKey: input.messageId ? `failed:${input.messageId}` : undefined,
    });
    if (input.nodeId) await Stats.bump(input.campaignId, input.nodeId, input.at, { failed: 1 });
    return true;
  });
  if (failed) await completeIfDone(input.campaignId);
}

/**
 * Give a claimed step back without sending: it stays due (or becomes due at `dueAt`), and the
 * next tick claims it again. Only the claim the caller holds is released.
 */
export async function releaseClaim(campaignId: string, contactId: string, claimId: string, dueAt?: Date): Promise<void> {
  await Database.rows(sql`
    UPDATE campaign_contact
    SET claimed_at = NULL, claim_id = NULL${dueAt ? sql`, next_run_at = ${dueAt}` : sql``}, updated_at = ${Clock.now()}
    WHERE campaign_id = ${campaignId} AND contact_id = ${contactId} AND claim_id = ${claimId}`);
}
