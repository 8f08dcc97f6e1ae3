import { sql } from "drizzle-orm";
import * as Activity from "../activity";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import { addDelays } from "../schedule";
import * as Stats from "../stats";
import { createId } from "../util/id";
import * as Workflow from "../workflow";

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

export interface Acceptance {
  messageId: string;
  sesMessageId: string;
  at: Date;
  /** When SES's `Send` event for it reached us, when that is what settles it. */
  sendEventAt?: Date;
}

/**
 * SES accepted these emails: mark them sent, record their `sent` events, count them, and move
 * their contacts on, in one transaction of a few statements however many there are. Only emails
 * still `sending` are settled, so the sender and SES's `Send` event racing each other count an
 * email once. Returns what was settled now.
 */
export async function settleSentMany(accepted: readonly Acceptance[]): Promise<Settled[]> {
  if (!accepted.length) return [];
  const settled = await Database.transaction(async () => {
    const messages = await Database.rows<{
      id: string;
      workspace_id: string;
      campaign_id: string;
      contact_id: string;
      node_id: string;
      ses: string;
      at: Date;
    }>(sql`
      UPDATE message m SET status = 'sent', ses_message_id = coalesce(m.ses_message_id, v.ses), sent_at = v.at,
             send_event_at = coalesce(m.send_event_at, v.event_at)
      FROM unnest(${Database.array(
        accepted.map((a) => a.messageId),
        "text",
      )}, ${Database.array(
        accepted.map((a) => a.sesMessageId),
        "text",
      )},
                  ${Database.array(
                    accepted.map((a) => a.at),
                    "timestamptz",
                  )}, ${Database.array(
                    accepted.map((a) => a.sendEventAt ?? null),
                    "timestamptz",
                  )}) AS v(id, ses, at, event_at)
      WHERE m.id = v.id AND m.status = 'sending'
      RETURNING m.id, m.workspace_id, m.campaign_id, m.contact_id, m.node_id, v.ses, v.at`);
    if (!messages.length) return [];
    const at = (m: (typeof messages)[number]) => Database.toDate(m.at);
    await Database.rows(sql`
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, message_id, node_id, type, occurred_at, metadata, provider_key)
      SELECT * FROM unnest(
        ${Database.array(
          messages.map((m) => createId("event", at(m).getTime())),
          "text",
        )},
        ${Database.array(
          messages.map((m) => m.workspace_id),
          "text",
        )},
        ${Database.array(
          messages.map((m) => m.campaign_id),
          "text",
        )},
        ${Database.array(
          messages.map((m) => m.contact_id),
          "text",
        )},
        ${Database.array(
          messages.map((m) => m.id),
          "text",
        )},
        ${Database.array(
          messages.map((m) => m.node_id),
          "text",
        )},
        ${Database.array(
          messages.map(() => "sent"),
          "text",
        )},
        ${Database.array(messages.map(at), "timestamptz")},
        ${Database.array(
          messages.map((m) => JSON.stringify({ sesMessageId: m.ses })),
          "jsonb",
        )},
        ${Database.array(
          messages.map((m) => `sent:${m.id}`),
          "text",
        )})
      ON CONFLICT (provider_key) DO NOTHING`);
    const groups = new Map<string, { campaignId: string; nodeId: string; at: Date; n: number }>();
    for (const m of messages) {
      const key = `${m.campaign_id}|${m.node_id}|${Stats.bucketOf(at(m)).getTime()}`;
      const group = groups.get(key) ?? { campaignId: m.campaign_id, nodeId: m.node_id, at: at(m), n: 0 };
      group.n++;
      groups.set(key, group);
    }
    for (const g of groups.values()) await Stats.bump(g.campaignId, g.nodeId, g.at, { sent: g.n });

    const campaigns = await Database.rows<{ id: string; workflow: Workflow.Workflow | null; timezone: string }>(
      sql`SELECT id, workflow, timezone FROM campaign WHERE id = ANY(${Database.array([...new Set(messages.map((m) => m.campaign_id))], "text")})`,
    );
    const byId = new Map(campaigns.map((c) => [c.id, c]));
    const moves = messages.map((m) => {
      const campaign = byId.get(m.campaign_id);
      return { m, next: nextAfter(campaign?.workflow ?? null, campaign?.timezone ?? "UTC", m.node_id, at(m)) };
    });
    return Database.rows<{ campaign_id: string; contact_id: string; status: string }>(sql`
      UPDATE campaign_contact cc
      SET status = v.status, current_node_id = v.next_node, next_run_at = v.next_at,
          claimed_at = NULL, claim_id = NULL, last_sent_at = v.sent_at, error = NULL, updated_at = ${Clock.now()}
      FROM unnest(
        ${Database.array(
          moves.map(({ m }) => m.campaign_id),
          "text",
        )},
        ${Database.array(
          moves.map(({ m }) => m.contact_id),
          "text",
        )},
        ${Database.array(
          moves.map(({ m }) => m.node_id),
          "text",
        )},
        ${Database.array(
          moves.map(({ next }) => next.status),
          "text",
        )},
        ${Database.array(
          moves.map(({ next }) => next.nodeId),
          "text",
        )},
        ${Database.array(
          moves.map(({ next }) => next.at),
          "timestamptz",
        )},
        ${Database.array(
          moves.map(({ m }) => at(m)),
          "timestamptz",
        )}) AS v(campaign_id, contact_id, node_id, status, next_node, next_at, sent_at)
      WHERE cc.campaign_id = v.campaign_id AND cc.contact_id = v.contact_id
        AND cc.current_node_id = v.node_id AND cc.status IN ('pending', 'in_progress')
      RETURNING cc.campaign_id, cc.contact_id, cc.status`);
  });
  for (const campaignId of new Set(settled.filter((s) => s.status === "completed").map((s) => s.campaign_id))) {
    await completeIfDone(campaignId);
  }
  return settled.map((s) => ({ campaignId: s.campaign_id, contactId: s.contact_id, completed: s.status === "completed" }));
}

/** One email accepted by SES (SES's `Send` event goes through here too). */
export async function settleSent(messageId: string, sesMessageId: string, at: Date, sendEventAt?: Date): Promise<Settled | undefined> {
  const [settled] = await settleSentMany([{ messageId, sesMessageId, at, sendEventAt }]);
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
