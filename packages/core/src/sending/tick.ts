import { sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Log from "../log";
import * as Queue from "../queue";
import { type Day, isOpen } from "../schedule";
import * as Fault from "./fault";
import { perMinuteLimit } from "./sender";

/**
 * One tick of one campaign (EventBridge Scheduler calls it every minute of the window): claim
 * the steps that are due, as many as the limits leave room for, and queue them. The claim is a
 * short transaction over the due-steps index, so its cost grows with what is due, not with the
 * contacts enrolled; the queue is written after commit.
 */
export interface TickResult {
  claimed: number;
  reason?: "not-active" | "window-closed" | "limit-reached";
}

export async function tick(campaignId: string): Promise<TickResult> {
  const now = Clock.now();
  const claimed = await Database.transaction(async () => {
    const [campaign] = await Database.rows<{
      status: string;
      email_account_id: string;
      send_days: Day[];
      send_hours_start: number;
      send_hours_end: number;
      timezone: string;
      max_emails_per_hour: number;
    }>(sql`
      SELECT status, email_account_id, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour
      FROM campaign WHERE id = ${campaignId} FOR UPDATE`);
    if (campaign?.status !== "active") return { reason: "not-active" as const };
    const window = {
      sendDays: campaign.send_days,
      sendHoursStart: campaign.send_hours_start,
      sendHoursEnd: campaign.send_hours_end,
      timezone: campaign.timezone,
    };
    if (!isOpen(now, window)) return { reason: "window-closed" as const };

    const [used] = await Database.rows<{
      last_hour: number;
      last_minute: number;
      in_flight: number;
      account_day: number;
      daily_limit: number;
    }>(sql`
      SELECT (SELECT count(*)::int FROM message WHERE campaign_id = ${campaignId} AND created_at > ${new Date(now.getTime() - 3_600_000)}) AS last_hour,
             (SELECT count(*)::int FROM message WHERE campaign_id = ${campaignId} AND created_at > ${new Date(now.getTime() - 60_000)}) AS last_minute,
             (SELECT count(*)::int FROM campaign_contact WHERE campaign_id = ${campaignId} AND claimed_at IS NOT NULL) AS in_flight,
             (SELECT count(*)::int FROM message WHERE email_account_id = ${campaign.email_account_id} AND created_at > ${new Date(now.getTime() - 86_400_000)}) AS account_day,
             (SELECT daily_limit FROM email_account WHERE id = ${campaign.email_account_id}) AS daily_limit`);
    // Spread sends: at most ceil(max/60) a minute, and never past the hourly or daily limits,
    // counting steps already queued but not sent yet.
    const budget =
      Math.min(
        campaign.max_emails_per_hour - used!.last_hour,
        perMinuteLimit(campaign.max_emails_per_hour) - used!.last_minute,
        used!.daily_limit - used!.account_day,
      ) - used!.in_flight;
    if (budget <= 0) return { reason: "limit-reached" as const };

    const rows = await Database.rows<{ contact_id: string; current_node_id: string; claim_id: string }>(sql`
      UPDATE campaign_contact cc SET claimed_at = ${now}, claim_id = gen_random_uuid()::text
      FROM (
        SELECT contact_id FROM campaign_contact
        WHERE campaign_id = ${campaignId} AND next_run_at <= ${now} AND claimed_at IS NULL
        ORDER BY next_run_at
        LIMIT ${budget}
        FOR UPDATE SKIP LOCKED
      ) due
      WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = due.contact_id
      RETURNING cc.contact_id, cc.current_node_id, cc.claim_id`);
    return { jobs: rows };
  });
  if (!("jobs" in claimed) || !claimed.jobs) return { claimed: 0, reason: "reason" in claimed ? claimed.reason : undefined };
  const jobs: Queue.SendJob[] = claimed.jobs.map((row) => ({
    v: 1,
    campaignId,
    contactId: row.contact_id,
    nodeId: row.current_node_id,
    claimId: row.claim_id,
  }));
  if (!jobs.length) return { claimed: 0 };
  Fault.point("tick.afterClaim");
  try {
    await Queue.use().send(jobs);
  } catch (error) {
    // Give the claims back at once rather than waiting for the sweeper.
    Log.error("could not queue claimed steps; releasing them", { campaignId, count: jobs.length, error });
    await Database.rows(sql`
      UPDATE campaign_contact SET claimed_at = NULL, claim_id = NULL
      WHERE campaign_id = ${campaignId} AND claim_id = ANY(${`{${jobs.map((j) => j.claimId).join(",")}}`}::text[])`);
    throw error;
  }
  Fault.point("tick.afterEnqueue");
  return { claimed: jobs.length };
}
