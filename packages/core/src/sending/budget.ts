import { sql } from "drizzle-orm";
import { campaignTable, WINDOW_COLUMNS } from "../campaign/campaign.sql";
import * as Database from "../database";
import { pick } from "../database/typed";
import { capOn, dayStart, type EmailAccount, type Today } from "../email-account";
import { emailAccountTable } from "../email-account/email-account.sql";
import * as Message from "../message";
import type { SendWindow } from "../schedule";
import * as SesAccount from "./ses-account";

/**
 * A campaign as sending sees it, read in the statement that locks it: its row lock serializes
 * the campaign's ticks and sends, so the counts below see every send committed before. Its
 * sending accounts are then locked (in id order, so two campaigns sharing accounts cannot
 * deadlock): an account's daily cap and minimum gap hold across every campaign that uses it.
 * The tick (what to claim) and the sender (what to reserve) read the same thing and count the
 * same way.
 */
const CAMPAIGN = pick(
  campaignTable,
  ["id", "workspaceId", "status", "workflow", "emailAccountId", "emailAccountIds", ...WINDOW_COLUMNS, "maxEmailsPerHour"],
  "c",
);
const ACCOUNT = pick(
  emailAccountTable,
  [
    "id",
    "email",
    "name",
    "replyTo",
    "status",
    "dailyLimit",
    "warmupEnabled",
    "warmupStartPerDay",
    "warmupIncrementPerDay",
    "warmupStartedAt",
    "minSecondsBetweenEmails",
    "pausedReason",
  ],
  "a",
  // Read beside the campaign's columns: prefixed, or `id` and `status` would collide.
  "account_",
);

export type LockedCampaign = ReturnType<typeof CAMPAIGN.decode>;
export type Account = ReturnType<typeof ACCOUNT.decode>;

/** One sending account of the campaign, with what its limits leave today. */
export interface AccountBudget {
  account: Account;
  /** Verified and not paused by the deliverability guard: it may send. */
  usable: boolean;
  /** Its cap for today (daily limit, or the warm-up's). */
  cap: number;
  /** Emails it reserved today, across all campaigns. */
  sentToday: number;
  /** Emails it may still send today. */
  remaining: number;
  /** Emails it may send now: `remaining`, or at most 1 (or 0) while its minimum gap runs. */
  now: number;
}

export interface Locked {
  campaign: LockedCampaign;
  /** The campaign's accounts, in its order (accounts that no longer exist are left out). */
  accounts: AccountBudget[];
  window: SendWindow;
  /** Emails reserved in the last hour and minute (campaign). */
  used: { lastHour: number; lastMinute: number };
  /** Steps claimed and queued but not sent yet. */
  inFlight: number;
  /** SES has paused the account's sending (as the sweeper last read it): nothing is dispatched. */
  sesPaused: boolean;
}

/** A campaign's send window (and status), as schedules need it: `const { id, status, ...window } = row`. */
export const WINDOW = pick(campaignTable, ["id", "status", ...WINDOW_COLUMNS]);

/** An account's budget from its counts: the cap of the UTC day of `now`, and its minimum gap. */
export function budgetOf(account: Account, counts: { day: number; lastAt: Date | null }, now: Date): AccountBudget {
  const cap = capOn(account, now);
  const remaining = Math.max(0, cap - counts.day);
  const gapMs = account.minSecondsBetweenEmails * 1000;
  const gapOver = !gapMs || !counts.lastAt || now.getTime() - counts.lastAt.getTime() >= gapMs;
  const usable = account.status === "verified" && !account.pausedReason;
  return {
    account,
    usable,
    cap,
    sentToday: counts.day,
    remaining,
    now: !usable || !gapOver ? 0 : gapMs ? Math.min(1, remaining) : remaining,
  };
}

/**
 * Lock the campaign and its accounts (one statement), then count what they sent (a second). The
 * counts cannot join the locking statement: in READ COMMITTED a statement that waited
 * for a lock still reads other tables as of its own start, so it would miss the emails the lock
 * holder had just committed, and two senders would both see room for the same slots (the
 * PostgreSQL concurrency test caught exactly that: 105 sends in a minute of 100). A statement
 * started after the locks were granted sees them.
 */
export async function lock(campaignId: string, now: Date): Promise<Locked | undefined> {
  // One row per account; rows are locked in output order: the campaign first, then its accounts
  // by id (every campaign takes shared accounts in the same order, so none can deadlock).
  const raw = await Database.rows<Record<string, unknown>>(sql`
    SELECT ${CAMPAIGN.list}, ${ACCOUNT.list}
    FROM campaign c JOIN email_account a ON a.id = ANY(c.email_account_ids)
    WHERE c.id = ${campaignId}
    ORDER BY a.id
    FOR UPDATE OF c, a`);
  if (!raw.length) return undefined;
  const campaign = CAMPAIGN.decode(raw[0]!);
  const ids = campaign.emailAccountIds;
  const accounts = raw.map((row) => ACCOUNT.decode(row));
  const campaignCounts = Message.recentCounts(sql`${campaign.id}`, now);
  const accountCounts = Message.accountCounts(sql`x.id`, dayStart(now));
  const rows = await Database.rows<{
    id: string | null;
    day: number;
    last_at: Date | string | null;
    last_hour: number;
    last_minute: number;
    in_flight: number;
    ses_paused: boolean;
  }>(sql`
    SELECT x.id, ${accountCounts.day} AS day, ${accountCounts.lastAt} AS last_at,
           ${campaignCounts.lastHour} AS last_hour, ${campaignCounts.lastMinute} AS last_minute,
           (SELECT count(*)::int FROM campaign_contact cc WHERE cc.campaign_id = ${campaign.id} AND cc.claimed_at IS NOT NULL) AS in_flight,
           ${SesAccount.pausedSql} AS ses_paused
    FROM (SELECT 1) one LEFT JOIN unnest(${Database.array(
      accounts.map((a) => a.id),
      "text",
    )}) AS x(id) ON true`);
  const counts = new Map(rows.map((r) => [r.id, { day: r.day, lastAt: r.last_at === null ? null : new Date(r.last_at) }]));
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const first = rows[0]!;
  return {
    campaign,
    accounts: ids.flatMap((id) => {
      const account = byId.get(id);
      return account ? [budgetOf(account, counts.get(id) ?? { day: 0, lastAt: null }, now)] : [];
    }),
    window: {
      sendDays: campaign.sendDays,
      sendHoursStart: campaign.sendHoursStart,
      sendHoursEnd: campaign.sendHoursEnd,
      timezone: campaign.timezone,
      timezoneMode: campaign.timezoneMode,
      holidays: campaign.holidays,
      skipDates: campaign.skipDates,
    },
    used: { lastHour: first.last_hour, lastMinute: first.last_minute },
    inFlight: first.in_flight,
    sesPaused: first.ses_paused === true,
  };
}

/** How many emails the campaign's own limits leave room for now: per rolling hour and per minute. */
export function room({ campaign, used }: Pick<Locked, "campaign" | "used">): number {
  return Math.min(campaign.maxEmailsPerHour - used.lastHour, Message.perMinuteLimit(campaign.maxEmailsPerHour) - used.lastMinute);
}

/** What the accounts can send now, together. */
export function accountsRoom(accounts: readonly AccountBudget[]): number {
  return accounts.reduce((sum, a) => sum + a.now, 0);
}

/** An account's day as `GET /email-accounts/:id` shows it (read without locking anything). */
export async function today(account: EmailAccount, now: Date): Promise<Today> {
  const counts = Message.accountCounts(sql`${account.id}`, dayStart(now));
  const [row] = await Database.rows<{ day: number }>(sql`SELECT ${counts.day} AS day`);
  const sent = row?.day ?? 0;
  const cap = capOn(
    {
      dailyLimit: account.dailyLimit,
      warmupEnabled: account.warmup.enabled,
      warmupStartPerDay: account.warmup.startPerDay,
      warmupIncrementPerDay: account.warmup.incrementPerDay,
      warmupStartedAt: account.warmup.startedAt,
    },
    now,
  );
  return { sent, cap, remaining: Math.max(0, cap - sent) };
}
