import { sql } from "drizzle-orm";
import { campaignTable } from "../campaign/campaign.sql";
import * as Database from "../database";
import { pick } from "../database/typed";
import { emailAccountTable } from "../email-account/email-account.sql";
import * as Message from "../message";
import type { SendWindow } from "../schedule";

/**
 * A campaign as sending sees it, read in the statement that locks it: its row lock serializes
 * the campaign's ticks and sends, so the counts below see every send committed before. The tick
 * (what to claim) and the sender (what to reserve) read the same thing and count the same way.
 */
const CAMPAIGN = pick(
  campaignTable,
  [
    "id",
    "workspaceId",
    "status",
    "workflow",
    "emailAccountId",
    "sendDays",
    "sendHoursStart",
    "sendHoursEnd",
    "timezone",
    "maxEmailsPerHour",
  ],
  "c",
);
const ACCOUNT = pick(emailAccountTable, ["email", "name", "replyTo", "dailyLimit"], "a");

export type LockedCampaign = ReturnType<typeof CAMPAIGN.decode>;

export interface Locked {
  campaign: LockedCampaign;
  account: ReturnType<typeof ACCOUNT.decode>;
  window: SendWindow;
  /** Emails reserved in the last hour and minute (campaign), and day (sending account). */
  used: { lastHour: number; lastMinute: number; accountDay: number };
  /** Steps claimed and queued but not sent yet. */
  inFlight: number;
}

/** A campaign's send window (and status), as schedules need it: `const { id, status, ...window } = row`. */
export const WINDOW = pick(campaignTable, ["id", "status", "sendDays", "sendHoursStart", "sendHoursEnd", "timezone"]);

/**
 * Lock the campaign and read it with its account (one statement), then count what it sent (a
 * second one). The counts cannot join the locking statement: in READ COMMITTED a statement that
 * waited for the lock still reads other tables as of its own start, so it would miss the emails
 * the lock holder had just committed, and two senders would both see room for the same slots
 * (the PostgreSQL concurrency test caught exactly that: 105 sends in a minute of 100). A
 * statement started after the lock was granted sees them.
 */
export async function lock(campaignId: string, now: Date): Promise<Locked | undefined> {
  const [raw] = await Database.rows<Record<string, unknown>>(sql`
    SELECT ${CAMPAIGN.list}, ${ACCOUNT.list}
    FROM campaign c JOIN email_account a ON a.id = c.email_account_id
    WHERE c.id = ${campaignId}
    FOR UPDATE OF c`);
  if (!raw) return undefined;
  const campaign = CAMPAIGN.decode(raw);
  const counts = Message.recentCounts(sql`${campaign.id}`, sql`${campaign.emailAccountId}`, now);
  const [used] = await Database.rows<{ last_hour: number; last_minute: number; account_day: number; in_flight: number }>(sql`
    SELECT ${counts.lastHour} AS last_hour, ${counts.lastMinute} AS last_minute, ${counts.accountDay} AS account_day,
           (SELECT count(*)::int FROM campaign_contact x WHERE x.campaign_id = ${campaign.id} AND x.claimed_at IS NOT NULL) AS in_flight`);
  return {
    campaign,
    account: ACCOUNT.decode(raw),
    window: {
      sendDays: campaign.sendDays,
      sendHoursStart: campaign.sendHoursStart,
      sendHoursEnd: campaign.sendHoursEnd,
      timezone: campaign.timezone,
    },
    used: { lastHour: used!.last_hour, lastMinute: used!.last_minute, accountDay: used!.account_day },
    inFlight: used!.in_flight,
  };
}

/** How many emails the limits leave room for now: per rolling hour, per minute, per account-day. */
export function room({ campaign, account, used }: Pick<Locked, "campaign" | "account" | "used">): number {
  return Math.min(
    campaign.maxEmailsPerHour - used.lastHour,
    Message.perMinuteLimit(campaign.maxEmailsPerHour) - used.lastMinute,
    account.dailyLimit - used.accountDay,
  );
}
