import { sql } from "drizzle-orm";
import * as Activity from "../activity";
import type { PausedReason } from "../campaign/campaign.sql";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Log from "../log";
import * as Scheduler from "../scheduler";
import * as Webhook from "../webhook";
import type { MessageRef } from "./state";

/**
 * The deliverability guard (#13): a hard bounce or a complaint is checked, in the transaction
 * that records it, against the campaign's rates over its last `WINDOW` sent emails (from the last
 * resume on), once at least `MIN_SENT` were sent. Exceeding `maxBounceRate` or
 * `maxComplaintRate` pauses the campaign at once, with its `pausedReason` and a `paused` event.
 */

export const WINDOW = 200;
export const MIN_SENT = 20;

interface Locked {
  id: string;
  status: string;
  max_bounce_rate: number;
  max_complaint_rate: number;
  guard_window_start: Date | string | null;
}

/**
 * Lock the campaign before anything else of the event is written: the sender locks the campaign
 * before its contacts' rows, so taking it first keeps one lock order (no deadlock), and two
 * bounces of one campaign count one after the other (each sees the other's).
 */
export async function lock(campaignId: string): Promise<Locked | undefined> {
  const [row] = await Database.rows<Locked>(sql`
    SELECT id, status, max_bounce_rate, max_complaint_rate, guard_window_start FROM campaign WHERE id = ${campaignId} FOR UPDATE`);
  return row;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The rates of the window and what they cross, if anything. */
export function verdict(
  counts: { sent: number; bounced: number; complained: number },
  limits: { maxBounceRate: number; maxComplaintRate: number },
): Omit<PausedReason, "at"> | undefined {
  if (counts.sent < MIN_SENT) return undefined;
  const bounceRate = (counts.bounced * 100) / counts.sent;
  if (bounceRate > limits.maxBounceRate) return { code: "BOUNCE_RATE", rate: round(bounceRate), threshold: limits.maxBounceRate };
  const complaintRate = (counts.complained * 100) / counts.sent;
  if (complaintRate > limits.maxComplaintRate)
    return { code: "COMPLAINT_RATE", rate: round(complaintRate), threshold: limits.maxComplaintRate };
  return undefined;
}

/** Check the campaign locked by `lock` after `message`'s bounce or complaint was recorded. */
export async function check(campaign: Locked | undefined, message: MessageRef, providerKey: string): Promise<PausedReason | undefined> {
  if (campaign?.status !== "active") return undefined;
  const since = campaign.guard_window_start ? new Date(campaign.guard_window_start) : null;
  const [counts] = await Database.rows<{ sent: number; bounced: number; complained: number }>(sql`
    SELECT count(*)::int AS sent, count(bounced_at)::int AS bounced, count(complained_at)::int AS complained
    FROM (SELECT bounced_at, complained_at FROM message
          WHERE campaign_id = ${campaign.id} AND status = 'sent' ${since ? sql`AND created_at > ${since}` : sql``}
          ORDER BY created_at DESC LIMIT ${WINDOW}) w`);
  const crossed = verdict(
    { sent: Number(counts!.sent), bounced: Number(counts!.bounced), complained: Number(counts!.complained) },
    { maxBounceRate: Number(campaign.max_bounce_rate), maxComplaintRate: Number(campaign.max_complaint_rate) },
  );
  if (!crossed) return undefined;
  const now = Clock.now();
  const reason: PausedReason = { ...crossed, at: now.toISOString() };
  const [row] = await Database.rows<{
    id: string;
    send_days: string[];
    send_hours_start: number;
    send_hours_end: number;
    timezone: string;
    workspace_id: string;
    name: string;
  }>(sql`
    UPDATE campaign SET status = 'paused', paused_reason = ${JSON.stringify(reason)}::jsonb, paused_at = ${now}, updated_at = ${now}
    WHERE id = ${campaign.id} AND status = 'active'
    RETURNING id, send_days, send_hours_start, send_hours_end, timezone, workspace_id, name`);
  if (!row) return undefined;
  await Activity.recordAbout(message, {
    type: "paused",
    occurredAt: now,
    metadata: { ...reason, sent: Number(counts!.sent), bounced: Number(counts!.bounced), complained: Number(counts!.complained) },
    providerKey: `paused:${providerKey}`,
  });
  await Webhook.emit([
    {
      type: "campaign.paused",
      key: `${row.id}:${now.getTime()}`,
      at: now,
      workspaceId: row.workspace_id,
      data: { campaign: { id: row.id, name: row.name, status: "paused" }, reason: reason.code, pausedReason: reason },
    },
  ]);
  const window = {
    sendDays: row.send_days as never,
    sendHoursStart: row.send_hours_start,
    sendHoursEnd: row.send_hours_end,
    timezone: row.timezone,
  };
  await Database.afterCommit(() => Scheduler.use().put({ campaignId: row.id, window, enabled: false }));
  Log.warn("campaign paused by the deliverability guard", { campaignId: row.id, code: reason.code, rate: reason.rate });
  return reason;
}
