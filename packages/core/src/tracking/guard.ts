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
 * The same check runs for the email's sending account over its last `WINDOW` emails across all
 * its campaigns, against the account's own limits: crossing one pauses the account, which then
 * sends nothing anywhere (sending/budget: a paused account is not usable) until resumed.
 */

export const WINDOW = 200;
export const MIN_SENT = 20;

interface LockedCampaign {
  id: string;
  status: string;
  max_bounce_rate: number;
  max_complaint_rate: number;
  guard_window_start: Date | string | null;
}

interface LockedAccount {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  paused_reason: PausedReason | null;
  max_bounce_rate: number;
  max_complaint_rate: number;
  guard_window_start: Date | string | null;
}

export interface Locked {
  campaign?: LockedCampaign;
  account?: LockedAccount;
}

/**
 * Lock the campaign, then the email's sending account, before anything else of the event is
 * written: the sender locks the campaign, then its accounts, before its contacts' rows, so taking
 * them first keeps one lock order (no deadlock), and two bounces of one campaign (or account)
 * count one after the other (each sees the other's).
 */
export async function lock(message: MessageRef): Promise<Locked> {
  const [campaign] = await Database.rows<LockedCampaign>(sql`
    SELECT id, status, max_bounce_rate, max_complaint_rate, guard_window_start FROM campaign WHERE id = ${message.campaignId} FOR UPDATE`);
  const [account] = await Database.rows<LockedAccount>(sql`
    SELECT id, workspace_id, email, name, paused_reason, max_bounce_rate, max_complaint_rate, guard_window_start FROM email_account
    WHERE id = (SELECT email_account_id FROM message WHERE id = ${message.id}) FOR UPDATE`);
  return { campaign, account };
}

type Counts = { sent: number; bounced: number; complained: number };

/** The last `WINDOW` sent emails of a campaign or an account (`scope`), from `since` on. */
async function windowCounts(scope: "campaign_id" | "email_account_id", id: string, since: Date | string | null): Promise<Counts> {
  const from = since ? new Date(since) : null;
  const [counts] = await Database.rows<Counts>(sql`
    SELECT count(*)::int AS sent, count(bounced_at)::int AS bounced, count(complained_at)::int AS complained
    FROM (SELECT bounced_at, complained_at FROM message
          WHERE ${sql.identifier(scope)} = ${id} AND status = 'sent' ${from ? sql`AND created_at > ${from}` : sql``}
          ORDER BY created_at DESC LIMIT ${WINDOW}) w`);
  return { sent: Number(counts!.sent), bounced: Number(counts!.bounced), complained: Number(counts!.complained) };
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

type Crossed = { now: Date; reason: PausedReason; counts: Counts };

/** Why the campaign or account (`scope`) must pause now, if its window crosses one of its limits. */
async function crossing(
  scope: "campaign_id" | "email_account_id",
  row: { id: string; guard_window_start: Date | string | null; max_bounce_rate: unknown; max_complaint_rate: unknown },
): Promise<Crossed | undefined> {
  const counts = await windowCounts(scope, row.id, row.guard_window_start);
  const crossed = verdict(counts, { maxBounceRate: Number(row.max_bounce_rate), maxComplaintRate: Number(row.max_complaint_rate) });
  if (!crossed) return undefined;
  const now = Clock.now();
  return { now, reason: { ...crossed, at: now.toISOString() }, counts };
}

/** A pause told: the activity event on the email that tipped it, and the outbound webhook event. */
async function announce(
  message: MessageRef,
  providerKey: string,
  { now, reason, counts }: Crossed,
  pause: {
    activity: "paused" | "account_paused";
    about?: Record<string, unknown>;
    webhook: "campaign.paused" | "email_account.paused";
    id: string;
    workspaceId: string;
    data: Record<string, unknown>;
  },
) {
  await Activity.recordAbout(message, {
    type: pause.activity,
    occurredAt: now,
    metadata: { ...pause.about, ...reason, ...counts },
    providerKey: `${pause.activity}:${providerKey}`,
  });
  await Webhook.emit([
    {
      type: pause.webhook,
      key: `${pause.id}:${now.getTime()}`,
      at: now,
      workspaceId: pause.workspaceId,
      data: { ...pause.data, reason: reason.code, pausedReason: reason },
    },
  ]);
}

/** Check the campaign and the account locked by `lock` after `message`'s bounce or complaint was recorded. */
export async function check(
  locked: Locked | undefined,
  message: MessageRef,
  providerKey: string,
): Promise<{ campaign?: PausedReason; account?: PausedReason }> {
  return {
    campaign: await checkCampaign(locked?.campaign, message, providerKey),
    account: await checkAccount(locked?.account, message, providerKey),
  };
}

async function checkCampaign(
  campaign: LockedCampaign | undefined,
  message: MessageRef,
  providerKey: string,
): Promise<PausedReason | undefined> {
  if (campaign?.status !== "active") return undefined;
  const crossed = await crossing("campaign_id", campaign);
  if (!crossed) return undefined;
  const { now, reason } = crossed;
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
  await announce(message, providerKey, crossed, {
    activity: "paused",
    webhook: "campaign.paused",
    id: row.id,
    workspaceId: row.workspace_id,
    data: { campaign: { id: row.id, name: row.name, status: "paused" } },
  });
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

/**
 * The account's check: its own limits over its last `WINDOW` emails in every campaign. Crossing
 * one pauses the account (nothing is sent from it anywhere until `resume`), with an
 * `account_paused` event on the email that tipped it and `email_account.paused` on webhooks.
 */
async function checkAccount(
  account: LockedAccount | undefined,
  message: MessageRef,
  providerKey: string,
): Promise<PausedReason | undefined> {
  if (!account || account.paused_reason) return undefined;
  const crossed = await crossing("email_account_id", account);
  if (!crossed) return undefined;
  const { now, reason } = crossed;
  await Database.rows(sql`
    UPDATE email_account SET paused_reason = ${JSON.stringify(reason)}::jsonb, paused_at = ${now}, updated_at = ${now}
    WHERE id = ${account.id}`);
  await announce(message, providerKey, crossed, {
    activity: "account_paused",
    about: { emailAccountId: account.id },
    webhook: "email_account.paused",
    id: account.id,
    workspaceId: account.workspace_id,
    data: { emailAccount: { id: account.id, email: account.email, name: account.name, sendingStatus: "paused" } },
  });
  Log.warn("email account paused by the deliverability guard", { emailAccountId: account.id, code: reason.code, rate: reason.rate });
  return reason;
}
