import { sql } from "drizzle-orm";
import * as Activity from "../activity";
import { campaignContactTable, campaignTable, WINDOW_COLUMNS } from "../campaign/campaign.sql";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import { pick, select, unnest } from "../database/typed";
import * as Message from "../message";
import { addDelays, dueAt, type SendWindow, windowOf } from "../schedule";
import * as Stats from "../stats";
import { createId } from "../util/id";
import { Outbox } from "../webhook";
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
  /** At a condition: the event it waits for, and when the contact reaches it (`at` then is that instant too). */
  waitingFor: Workflow.ConditionEvent | null;
  since: Date | null;
}

/**
 * After `nodeId` was sent at `from` (or, for a condition, answered `answer` at `from`): where the
 * contact waits next and when that is due, or the end. Delays count from `from`, in the window's
 * timezone (`windowOf`: in `contact` mode the contact's). An email is due at the window's next
 * opening; a condition is due the instant it is reached (it is answered then if the event already
 * happened, else it waits for it or its deadline), whatever the window.
 */
export function nextAfter(
  workflow: Workflow.Workflow | null,
  window: SendWindow,
  nodeId: string,
  from: Date,
  answer?: Workflow.Answer,
): Next {
  const step = workflow ? Workflow.nextStep(workflow, nodeId, answer) : { nodeId: null, delays: [] };
  if (!step.nodeId) return { status: "completed", nodeId: null, at: null, waitingFor: null, since: null };
  const reached = addDelays(from, step.delays, window);
  if (step.condition) {
    return { status: "in_progress", nodeId: step.nodeId, at: reached, waitingFor: step.condition.data.event, since: reached };
  }
  return { status: "in_progress", nodeId: step.nodeId, at: dueAt(reached, window), waitingFor: null, since: null };
}

const SEQUENCE = pick(campaignTable, ["id", "workflow", ...WINDOW_COLUMNS]);
const MOVED = pick(campaignContactTable, ["campaignId", "contactId", "status"], "cc");

const UTC_WINDOW: SendWindow = { sendDays: [], sendHoursStart: 0, sendHoursEnd: 24, timezone: "UTC" };

export interface Settled {
  campaignId: string;
  contactId: string;
  completed: boolean;
}

export type Acceptance = Message.Acceptance;

/**
 * SES accepted these emails: mark them sent, record their `sent` events, count them, and move
 * their contacts on, in one transaction of a few statements however many there are. Only emails
 * still `sending` are settled, so the sender and SES's `Send` event racing each other count an
 * email once. Returns what was settled now.
 */
export async function settleSentMany(accepted: readonly Acceptance[]): Promise<Settled[]> {
  if (!accepted.length) return [];
  const settled = await Database.transaction(async () => {
    const messages = await Message.markSent(accepted);
    if (!messages.length) return [];
    const [hooked] = await Database.rows<{ deliveries: string[] | null }>(sql`
      WITH recorded AS (
      INSERT INTO event (id, workspace_id, campaign_id, contact_id, message_id, node_id, type, occurred_at, metadata, provider_key)
      SELECT * FROM ${unnest(messages, {
        id: ["text", (m) => createId("event", m.sentAt.getTime())],
        workspace_id: ["text", (m) => m.workspaceId],
        campaign_id: ["text", (m) => m.campaignId],
        contact_id: ["text", (m) => m.contactId],
        message_id: ["text", (m) => m.id],
        node_id: ["text", (m) => m.nodeId],
        type: ["text", () => "sent"],
        occurred_at: ["timestamptz", (m) => m.sentAt],
        metadata: ["jsonb", (m) => JSON.stringify({ sesMessageId: m.sesMessageId })],
        provider_key: ["text", (m) => `sent:${m.id}`],
      })}
      ON CONFLICT (provider_key) DO NOTHING
      RETURNING *
      ), source AS (${sql.raw(Outbox.emailSource("recorded"))}), ${sql.raw(Outbox.fanOut("source"))}
      SELECT ARRAY(SELECT id FROM wh_delivery) AS deliveries`);
    // \`email.sent\` to the workspaces' webhooks, queued once this commits.
    await Outbox.queueAfterCommit(hooked?.deliveries);
    const groups = new Map<string, { campaignId: string; nodeId: string; variantId: string | null; at: Date; n: number }>();
    for (const m of messages) {
      const key = `${m.campaignId}|${m.nodeId}|${m.variantId ?? ""}|${Stats.bucketOf(m.sentAt).getTime()}`;
      const group = groups.get(key) ?? { campaignId: m.campaignId, nodeId: m.nodeId, variantId: m.variantId, at: m.sentAt, n: 0 };
      group.n++;
      groups.set(key, group);
    }
    for (const g of groups.values()) await Stats.bump(g.campaignId, g.nodeId, g.at, { sent: g.n }, g.variantId);

    // The contacts' timezones come with their campaign when it is in `contact` mode (same statement).
    const raw = await Database.rows<Record<string, unknown> & { zones: Record<string, string> | null }>(
      sql`SELECT ${SEQUENCE.list},
                 CASE WHEN timezone_mode = 'contact' THEN (
                   SELECT json_object_agg(k.id, k.timezone) FROM contact k
                   WHERE k.id = ANY(${Database.array([...new Set(messages.map((m) => m.contactId))], "text")}) AND k.timezone IS NOT NULL
                 ) END AS zones
          FROM campaign WHERE id = ANY(${Database.array([...new Set(messages.map((m) => m.campaignId))], "text")})`,
    );
    const byId = new Map(raw.map((row) => [row.id as string, { ...SEQUENCE.decode(row), zones: row.zones ?? {} }]));
    const moves = messages.map((m) => {
      const campaign = byId.get(m.campaignId);
      const window = campaign ? windowOf(campaign, campaign.zones[m.contactId]) : UTC_WINDOW;
      return { m, next: nextAfter(campaign?.workflow ?? null, window, m.nodeId, m.sentAt) };
    });
    return select(
      MOVED,
      sql`
      UPDATE campaign_contact cc
      SET status = v.status, current_node_id = v.next_node, email_account_id = v.account_id,
          -- An out-of-office hold that arrived while this email was in flight still holds the next one.
          next_run_at = CASE WHEN v.next_at IS NULL THEN NULL ELSE greatest(v.next_at, cc.hold_until) END,
          waiting_for = v.waiting_for, waiting_since = v.since,
          claimed_at = NULL, claim_id = NULL, last_sent_at = v.sent_at, error = NULL, updated_at = ${Clock.now()}
      FROM ${unnest(moves, {
        campaign_id: ["text", ({ m }) => m.campaignId],
        contact_id: ["text", ({ m }) => m.contactId],
        node_id: ["text", ({ m }) => m.nodeId],
        account_id: ["text", ({ m }) => m.emailAccountId],
        status: ["text", ({ next }) => next.status],
        next_node: ["text", ({ next }) => next.nodeId],
        next_at: ["timestamptz", ({ next }) => next.at],
        waiting_for: ["text", ({ next }) => next.waitingFor],
        since: ["timestamptz", ({ next }) => next.since],
        sent_at: ["timestamptz", ({ m }) => m.sentAt],
      })}
      WHERE cc.campaign_id = v.campaign_id AND cc.contact_id = v.contact_id
        AND cc.current_node_id = v.node_id AND cc.status IN ('pending', 'in_progress')
      RETURNING ${MOVED.list}`,
    );
  });
  for (const campaignId of new Set(settled.filter((s) => s.status === "completed").map((s) => s.campaignId))) {
    await completeIfDone(campaignId);
  }
  return settled.map((s) => ({ campaignId: s.campaignId, contactId: s.contactId, completed: s.status === "completed" }));
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
    const [row] = await Database.rows(sql`
      UPDATE campaign_contact
      SET status = 'failed', error = ${input.reason}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${input.at}
      WHERE campaign_id = ${input.campaignId} AND contact_id = ${input.contactId} AND status IN ('pending', 'in_progress')
      RETURNING 1`);
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
