import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import * as v from "valibot";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Log from "../log";
import * as Scheduler from "../scheduler";
import { MissingVariableError } from "../template";
import { createId } from "../util/id";
import type { EmailNode, Workflow } from "../workflow";
import { compose } from "./compose";
import * as Fault from "./fault";
import * as Mailer from "./mailer";
import { failContact, nextAfter, releaseClaim, settleSent } from "./progress";
import { jobSchema, type SendJob } from "./queue";
import { type Day, isOpen } from "./window";

/**
 * The sender: one queued step → at most one email. Everything is re-checked at send time
 * (campaign active, window open, limits, contact still sendable) because the step may have
 * waited in the queue. The email row is written under its unique key (campaign, contact, node)
 * before SES is called, so a redelivered job, a retry or a crash can never send it twice.
 */

export type Outcome =
  /** SES accepted it. */
  | "sent"
  /** Not now (paused, window closed, limit reached): the step stays due. */
  | "deferred"
  /** The job no longer matches the contact's claim (duplicate, late, or removed contact). */
  | "stale"
  /** The contact may not be emailed any more (unsubscribed, bounced): sequence stopped. */
  | "stopped"
  /** The contact failed (a variable without value, SES rejected the address). */
  | "failed"
  /** SES throttled: retried later, nothing counted. */
  | "throttled"
  /** Nothing can be sent from the account: the campaign is paused with the reason. */
  | "paused"
  /** SES may or may not have accepted it: never resent, SES's Send event settles it. */
  | "unknown";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
/** A throttled step waits this long before it is due again. */
const THROTTLE_BACKOFF = MINUTE;

export const perMinuteLimit = (maxPerHour: number) => Math.ceil(maxPerHour / 60);

interface CampaignRow {
  id: string;
  workspace_id: string;
  status: string;
  workflow: Workflow | null;
  email_account_id: string;
  send_days: Day[];
  send_hours_start: number;
  send_hours_end: number;
  timezone: string;
  max_emails_per_hour: number;
}

interface StepRow {
  status: string;
  current_node_id: string | null;
  claim_id: string | null;
  email: string;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  job_title: string | null;
  phone: string | null;
  website: string | null;
  custom_fields: Record<string, string | number | boolean>;
  contact_status: string;
  account_email: string;
  account_name: string;
  reply_to: string | null;
  daily_limit: number;
  message_id: string | null;
  message_status: string | null;
  message_sent_at: Date | string | null;
  last_hour: number;
  last_minute: number;
  account_day: number;
}

type Reservation =
  | { outcome: Exclude<Outcome, "sent" | "failed" | "stopped"> }
  | { outcome: "stopped"; workspaceId: string }
  | { outcome: "failed"; workspaceId: string; reason: string; nodeId: string }
  | { outcome: "send"; workspaceId: string; messageId: string; email: Mailer.OutgoingEmail };

const OPEN = new Set(["pending", "in_progress"]);

async function reserve(job: SendJob, now: Date): Promise<Reservation> {
  return Database.transaction(async () => {
    // The campaign row is the lock that serializes this campaign's sends: the limit counts below
    // see every send committed before.
    const [campaign] = await Database.rows<CampaignRow>(sql`
      SELECT id, workspace_id, status, workflow, email_account_id, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour
      FROM campaign WHERE id = ${job.campaignId} FOR UPDATE`);
    if (!campaign) return { outcome: "stale" };
    const [step] = await Database.rows<StepRow>(sql`
      SELECT cc.status, cc.current_node_id, cc.claim_id,
             c.email, c.first_name, c.last_name, c.company, c.job_title, c.phone, c.website, c.custom_fields, c.status AS contact_status,
             a.email AS account_email, a.name AS account_name, a.reply_to, a.daily_limit,
             m.id AS message_id, m.status AS message_status, m.sent_at AS message_sent_at,
             (SELECT count(*)::int FROM message WHERE campaign_id = ${campaign.id} AND created_at > ${new Date(now.getTime() - HOUR)}) AS last_hour,
             (SELECT count(*)::int FROM message WHERE campaign_id = ${campaign.id} AND created_at > ${new Date(now.getTime() - MINUTE)}) AS last_minute,
             (SELECT count(*)::int FROM message WHERE email_account_id = ${campaign.email_account_id} AND created_at > ${new Date(now.getTime() - DAY)}) AS account_day
      FROM campaign_contact cc
      JOIN contact c ON c.id = cc.contact_id
      JOIN email_account a ON a.id = ${campaign.email_account_id}
      LEFT JOIN message m ON m.campaign_id = cc.campaign_id AND m.contact_id = cc.contact_id AND m.node_id = ${job.nodeId}
      WHERE cc.campaign_id = ${campaign.id} AND cc.contact_id = ${job.contactId}
      FOR UPDATE OF cc`);
    if (!step || step.claim_id !== job.claimId || step.current_node_id !== job.nodeId || !OPEN.has(step.status)) {
      return { outcome: "stale" };
    }
    const release = (dueAt?: Date) => releaseClaim(campaign.id, job.contactId, job.claimId, dueAt);

    if (campaign.status !== "active") {
      await release();
      return { outcome: "deferred" };
    }
    if (step.contact_status !== "active") {
      // Never email a contact who unsubscribed, bounced or complained, in any campaign.
      const status = step.contact_status === "bounced" ? "bounced" : "unsubscribed";
      await Database.rows(sql`
        UPDATE campaign_contact SET status = ${status}, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        WHERE campaign_id = ${campaign.id} AND contact_id = ${job.contactId}`);
      return { outcome: "stopped", workspaceId: campaign.workspace_id };
    }
    const window = {
      sendDays: campaign.send_days,
      sendHoursStart: campaign.send_hours_start,
      sendHoursEnd: campaign.send_hours_end,
      timezone: campaign.timezone,
    };
    if (!isOpen(now, window)) {
      await release();
      return { outcome: "deferred" };
    }
    if (
      step.last_hour >= campaign.max_emails_per_hour ||
      step.last_minute >= perMinuteLimit(campaign.max_emails_per_hour) ||
      step.account_day >= step.daily_limit
    ) {
      await release();
      return { outcome: "deferred" };
    }
    if (step.message_id) {
      if (step.message_status === "sent") {
        // Sent before (the contact was removed and added again): move on, never send it twice.
        const next = nextAfter(campaign.workflow, campaign.timezone, job.nodeId, Database.toDate(step.message_sent_at));
        await Database.rows(sql`
          UPDATE campaign_contact SET status = ${next.status}, current_node_id = ${next.nodeId}, next_run_at = ${next.at},
                 claimed_at = NULL, claim_id = NULL, updated_at = ${now}
          WHERE campaign_id = ${campaign.id} AND contact_id = ${job.contactId}`);
        return { outcome: "stale" };
      }
      if (step.message_status === "sending") {
        // A previous attempt died around the SES call: whether SES accepted it is unknown.
        await Database.rows(sql`
          UPDATE campaign_contact SET next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
          WHERE campaign_id = ${campaign.id} AND contact_id = ${job.contactId}`);
        return { outcome: "unknown" };
      }
      return { outcome: "failed", workspaceId: campaign.workspace_id, reason: "SES rejected this email", nodeId: job.nodeId };
    }

    const node = campaign.workflow?.nodes.find((n): n is EmailNode => n.id === job.nodeId && n.type === "email");
    if (!node) return { outcome: "failed", workspaceId: campaign.workspace_id, reason: `node ${job.nodeId} is not an email`, nodeId: job.nodeId };
    const messageId = createId("message", now.getTime());
    const token = randomBytes(24).toString("base64url");
    let email: Mailer.OutgoingEmail;
    try {
      email = compose({
        workspaceId: campaign.workspace_id,
        campaignId: campaign.id,
        messageId,
        node,
        account: { email: step.account_email, name: step.account_name, replyTo: step.reply_to },
        contact: {
          id: job.contactId,
          email: step.email,
          firstName: step.first_name,
          lastName: step.last_name,
          company: step.company,
          jobTitle: step.job_title,
          phone: step.phone,
          website: step.website,
          customFields: step.custom_fields,
        },
        unsubscribeToken: token,
      });
    } catch (error) {
      if (error instanceof MissingVariableError) {
        return { outcome: "failed", workspaceId: campaign.workspace_id, reason: error.message, nodeId: job.nodeId };
      }
      throw error;
    }
    await Database.rows(sql`
      INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject,
                           status, unsubscribe_token_hash, created_at)
      VALUES (${messageId}, ${campaign.workspace_id}, ${campaign.id}, ${job.contactId}, ${job.nodeId}, ${campaign.email_account_id},
              ${step.email}, ${email.subject}, 'sending', ${createHash("sha256").update(token).digest("hex")}, ${now})`);
    return { outcome: "send", workspaceId: campaign.workspace_id, messageId, email };
  });
}

/** Handle one job. Throws only on unexpected errors (the queue then redelivers the job). */
export async function send(job: SendJob): Promise<Outcome> {
  const now = Clock.now();
  const reservation = await reserve(job, now);
  if (reservation.outcome === "failed") {
    await failContact({
      workspaceId: reservation.workspaceId,
      campaignId: job.campaignId,
      contactId: job.contactId,
      reason: reservation.reason,
      at: now,
      nodeId: reservation.nodeId,
    });
    return "failed";
  }
  if (reservation.outcome === "stopped") {
    await completeIfDone(job.campaignId);
    return "stopped";
  }
  if (reservation.outcome !== "send") return reservation.outcome;

  const { messageId, email } = reservation;
  Fault.point("sender.afterReserve");
  let sesMessageId: string;
  try {
    ({ messageId: sesMessageId } = await Mailer.use().send(email));
  } catch (error) {
    if (!(error instanceof Mailer.MailerError)) throw error;
    return onMailerError(job, reservation.workspaceId, messageId, error);
  }
  Fault.point("sender.afterSes");
  await settleSent(messageId, sesMessageId, Clock.now());
  Fault.point("sender.afterRecord");
  return "sent";
}

async function onMailerError(job: SendJob, workspaceId: string, messageId: string, error: Mailer.MailerError): Promise<Outcome> {
  const now = Clock.now();
  const forget = () => Database.rows(sql`DELETE FROM message WHERE id = ${messageId} AND status = 'sending'`);
  switch (error.kind) {
    case "throttled":
      // SES refused it before sending: forget the email, try the step again a little later.
      await Database.transaction(async () => {
        await forget();
        await releaseClaim(job.campaignId, job.contactId, job.claimId, new Date(now.getTime() + THROTTLE_BACKOFF));
      });
      Log.warn("SES throttled a send", { campaignId: job.campaignId, code: error.code });
      return "throttled";
    case "rejected":
      await Database.rows(
        sql`UPDATE message SET status = 'failed', error = ${error.message}, failed_at = ${now} WHERE id = ${messageId} AND status = 'sending'`,
      );
      await failContact({
        workspaceId,
        campaignId: job.campaignId,
        contactId: job.contactId,
        reason: `SES rejected the email: ${error.message}`,
        at: now,
        messageId,
        nodeId: job.nodeId,
      });
      return "failed";
    case "account": {
      const reason = `Sending stopped by SES (${error.code ?? "account"}): ${error.message}`;
      await Database.transaction(async () => {
        await forget();
        await releaseClaim(job.campaignId, job.contactId, job.claimId);
        const paused = await Database.rows<{ id: string; send_days: Day[]; send_hours_start: number; send_hours_end: number; timezone: string }>(sql`
          UPDATE campaign SET status = 'paused', pause_reason = ${reason}, paused_at = ${now}, updated_at = ${now}
          WHERE id = ${job.campaignId} AND status = 'active'
          RETURNING id, send_days, send_hours_start, send_hours_end, timezone`);
        const row = paused[0];
        if (row) {
          const window = { sendDays: row.send_days, sendHoursStart: row.send_hours_start, sendHoursEnd: row.send_hours_end, timezone: row.timezone };
          await Database.afterCommit(() => Scheduler.use().put({ campaignId: row.id, window, enabled: false }));
        }
      });
      Log.error("SES stopped sending for the account; campaign paused", { campaignId: job.campaignId, code: error.code });
      return "paused";
    }
    default:
      // The request may have reached SES: leave the email `sending`, never resend it.
      await Database.rows(sql`
        UPDATE campaign_contact SET next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        WHERE campaign_id = ${job.campaignId} AND contact_id = ${job.contactId} AND claim_id = ${job.claimId}`);
      Log.warn("SES outcome unknown; the email will not be resent", { campaignId: job.campaignId, messageId, code: error.code });
      return "unknown";
  }
}

export interface QueueRecord {
  messageId: string;
  body: string;
}

/**
 * A batch from the queue (SQS → Lambda, or the in-process queue): each record handled on its
 * own; the ones that failed are reported so only they come back. A record that is not a valid
 * job is reported too: after the queue's retries it lands in the dead-letter queue.
 */
export async function handleBatch(records: QueueRecord[]): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
  const failures: Array<{ itemIdentifier: string }> = [];
  await Promise.all(
    records.map(async (record) => {
      let job: SendJob;
      try {
        job = v.parse(jobSchema, JSON.parse(record.body));
      } catch {
        Log.error("invalid send job", { queueMessageId: record.messageId });
        failures.push({ itemIdentifier: record.messageId });
        return;
      }
      try {
        await send(job);
      } catch (error) {
        // A crash injected by a test stands for the process dying: the whole batch comes back.
        if (error instanceof Fault.InjectedCrash) throw error;
        Log.error("send failed", { queueMessageId: record.messageId, campaignId: job.campaignId, error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}
