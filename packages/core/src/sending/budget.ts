import { sql } from "drizzle-orm";
import { campaignTable } from "../campaign/campaign.sql";
import * as Database from "../database";
import { col, pick } from "../database/typed";
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

/** Lock the campaign and read it, its account and its counts: one statement. */
export async function lock(campaignId: string, now: Date): Promise<Locked | undefined> {
  const counts = Message.recentCounts(col(campaignTable.id, "c"), col(campaignTable.emailAccountId, "c"), now);
  const [raw] = await Database.rows<
    Record<string, unknown> & { last_hour: number; last_minute: number; account_day: number; in_flight: number }
  >(sql`
    SELECT ${CAMPAIGN.list}, ${ACCOUNT.list},
           ${counts.lastHour} AS last_hour, ${counts.lastMinute} AS last_minute, ${counts.accountDay} AS account_day,
           (SELECT count(*)::int FROM campaign_contact x WHERE x.campaign_id = c.id AND x.claimed_at IS NOT NULL) AS in_flight
    FROM campaign c JOIN email_account a ON a.id = c.email_account_id
    WHERE c.id = ${campaignId}
    FOR UPDATE OF c`);
  if (!raw) return undefined;
  const campaign = CAMPAIGN.decode(raw);
  return {
    campaign,
    account: ACCOUNT.decode(raw),
    window: {
      sendDays: campaign.sendDays,
      sendHoursStart: campaign.sendHoursStart,
      sendHoursEnd: campaign.sendHoursEnd,
      timezone: campaign.timezone,
    },
    used: { lastHour: raw.last_hour, lastMinute: raw.last_minute, accountDay: raw.account_day },
    inFlight: raw.in_flight,
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
