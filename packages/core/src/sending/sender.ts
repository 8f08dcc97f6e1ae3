import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import * as v from "valibot";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Log from "../log";
import { jobSchema, type SendJob } from "../queue";
import { type Day, isOpen } from "../schedule";
import * as Scheduler from "../scheduler";
import * as Suppression from "../suppression";
import { MissingVariableError } from "../template";
import { createId } from "../util/id";
import type { EmailNode, Workflow } from "../workflow";
import { compose } from "./compose";
import * as Fault from "./fault";
import * as Mailer from "./mailer";
import { type Acceptance, failContact, nextAfter, releaseClaim, settleSentMany } from "./progress";

/**
 * The sender: each queued step → at most one email. Everything is re-checked at send time
 * (campaign active, window open, limits, contact still sendable) because a step may have waited
 * in the queue. The email row is written under its unique key (campaign, contact, node) before
 * SES is called, so a redelivered job, a retry or a crash can never send it twice.
 *
 * Jobs of one campaign in a queue batch are handled together: one transaction reserves them all
 * under the campaign's lock, SES gets them concurrently, one transaction records what it accepted.
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
  account_email: string;
  account_name: string;
  reply_to: string | null;
  daily_limit: number;
  last_hour: number;
  last_minute: number;
  account_day: number;
}

interface StepRow {
  contact_id: string;
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
  /** On the workspace's suppression list (re-checked here, under the lock, at send time). */
  suppressed: boolean;
  message_id: string | null;
  message_status: string | null;
  message_sent_at: Date | string | null;
  message_claim_id: string | null;
}

interface Reserved {
  job: SendJob;
  messageId: string;
  email: Mailer.OutgoingEmail;
}

interface Reservations {
  workspaceId?: string;
  outcomes: Map<SendJob, Outcome>;
  reserved: Reserved[];
  /** Contacts to fail after commit (a variable without value, a rejected email earlier). */
  failures: Array<{ job: SendJob; reason: string }>;
  stopped: boolean;
}

const OPEN = new Set(["pending", "in_progress"]);

/** Reserve, under the campaign's row lock, what may be sent now; settle everything else. */
async function reserve(campaignId: string, jobs: SendJob[], now: Date): Promise<Reservations> {
  return Database.transaction(async () => {
    const result: Reservations = { outcomes: new Map(), reserved: [], failures: [], stopped: false };
    // The campaign row is the lock that serializes this campaign's sends: the limit counts see
    // every send committed before.
    const [locked] = await Database.rows<{ id: string }>(sql`SELECT id FROM campaign WHERE id = ${campaignId} FOR UPDATE`);
    if (!locked) {
      for (const job of jobs) result.outcomes.set(job, "stale");
      return result;
    }
    const [campaign] = await Database.rows<CampaignRow>(sql`
      SELECT c.id, c.workspace_id, c.status, c.workflow, c.email_account_id, c.send_days, c.send_hours_start, c.send_hours_end,
             c.timezone, c.max_emails_per_hour, a.email AS account_email, a.name AS account_name, a.reply_to, a.daily_limit,
             (SELECT count(*)::int FROM message WHERE campaign_id = c.id AND created_at > ${new Date(now.getTime() - HOUR)}) AS last_hour,
             (SELECT count(*)::int FROM message WHERE campaign_id = c.id AND created_at > ${new Date(now.getTime() - MINUTE)}) AS last_minute,
             (SELECT count(*)::int FROM message WHERE email_account_id = c.email_account_id AND created_at > ${new Date(now.getTime() - DAY)}) AS account_day
      FROM campaign c JOIN email_account a ON a.id = c.email_account_id
      WHERE c.id = ${campaignId}`);
    result.workspaceId = campaign!.workspace_id;
    const steps = await Database.rows<StepRow>(sql`
      SELECT cc.contact_id, cc.status, cc.current_node_id, cc.claim_id,
             c.email, c.first_name, c.last_name, c.company, c.job_title, c.phone, c.website, c.custom_fields, c.status AS contact_status,
             ${Suppression.isSuppressed(sql`cc.workspace_id`, sql`c.email`)} AS suppressed,
             m.id AS message_id, m.status AS message_status, m.sent_at AS message_sent_at, m.claim_id AS message_claim_id
      FROM campaign_contact cc
      JOIN contact c ON c.id = cc.contact_id
      LEFT JOIN message m ON m.campaign_id = cc.campaign_id AND m.contact_id = cc.contact_id AND m.node_id = cc.current_node_id
      WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = ANY(${Database.array(
        jobs.map((j) => j.contactId),
        "text",
      )})
      ORDER BY cc.contact_id
      FOR UPDATE OF cc`);
    const byContact = new Map(steps.map((s) => [s.contact_id, s]));

    const window = {
      sendDays: campaign!.send_days,
      sendHoursStart: campaign!.send_hours_start,
      sendHoursEnd: campaign!.send_hours_end,
      timezone: campaign!.timezone,
    };
    const open = isOpen(now, window);
    // What the limits leave room for now: per rolling hour, per rolling minute, per account-day.
    let room = Math.min(
      campaign!.max_emails_per_hour - campaign!.last_hour,
      perMinuteLimit(campaign!.max_emails_per_hour) - campaign!.last_minute,
      campaign!.daily_limit - campaign!.account_day,
    );

    const release: SendJob[] = [];
    const stop: Array<{ job: SendJob; status: "bounced" | "unsubscribed" }> = [];
    const unknown: SendJob[] = [];
    const messages: Array<{ job: SendJob; id: string; subject: string; to: string; tokenHash: string }> = [];
    for (const job of jobs) {
      const step = byContact.get(job.contactId);
      if (!step || step.claim_id !== job.claimId || step.current_node_id !== job.nodeId || !OPEN.has(step.status)) {
        result.outcomes.set(job, "stale");
        continue;
      }
      if (campaign!.status !== "active" || !open) {
        release.push(job);
        result.outcomes.set(job, "deferred");
        continue;
      }
      if (step.contact_status !== "active" || step.suppressed) {
        // Never email a contact who unsubscribed, bounced or complained, in any campaign, nor an
        // address or domain on the suppression list.
        stop.push({ job, status: step.contact_status === "bounced" ? "bounced" : "unsubscribed" });
        result.outcomes.set(job, "stopped");
        continue;
      }
      if (step.message_id) {
        if (step.message_status === "sent") {
          // Sent before (the contact was removed and added again): move on, never send it twice.
          const next = nextAfter(campaign!.workflow, campaign!.timezone, job.nodeId, Database.toDate(step.message_sent_at));
          await Database.rows(sql`
            UPDATE campaign_contact SET status = ${next.status}, current_node_id = ${next.nodeId}, next_run_at = ${next.at},
                   claimed_at = NULL, claim_id = NULL, updated_at = ${now}
            WHERE campaign_id = ${campaignId} AND contact_id = ${job.contactId}`);
          result.outcomes.set(job, "stale");
        } else if (step.message_status === "sending") {
          // Another delivery of this same job holds it (in flight, or it died and its claim will
          // time out): leave it. Reserved under an expired claim: that attempt died around the
          // SES call, and whether SES accepted it is unknown.
          if (step.message_claim_id !== job.claimId) unknown.push(job);
          result.outcomes.set(job, step.message_claim_id === job.claimId ? "stale" : "unknown");
        } else {
          result.failures.push({ job, reason: "SES rejected this email" });
          result.outcomes.set(job, "failed");
        }
        continue;
      }
      if (room <= 0) {
        release.push(job);
        result.outcomes.set(job, "deferred");
        continue;
      }
      const node = campaign!.workflow?.nodes.find((n): n is EmailNode => n.id === job.nodeId && n.type === "email");
      if (!node) {
        result.failures.push({ job, reason: `node ${job.nodeId} is not an email` });
        result.outcomes.set(job, "failed");
        continue;
      }
      const messageId = createId("message", now.getTime());
      const token = randomBytes(24).toString("base64url");
      try {
        const email = compose({
          workspaceId: campaign!.workspace_id,
          campaignId,
          messageId,
          node,
          account: { email: campaign!.account_email, name: campaign!.account_name, replyTo: campaign!.reply_to },
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
        messages.push({
          job,
          id: messageId,
          subject: email.subject,
          to: step.email,
          tokenHash: createHash("sha256").update(token).digest("hex"),
        });
        result.reserved.push({ job, messageId, email });
        room--;
      } catch (error) {
        if (!(error instanceof MissingVariableError)) throw error;
        result.failures.push({ job, reason: error.message });
        result.outcomes.set(job, "failed");
      }
    }

    if (release.length) {
      await Database.rows(sql`
        UPDATE campaign_contact SET claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        WHERE campaign_id = ${campaignId} AND claim_id = ANY(${Database.array(
          release.map((j) => j.claimId),
          "text",
        )})`);
    }
    if (stop.length) {
      result.stopped = true;
      await Database.rows(sql`
        UPDATE campaign_contact cc SET status = v.status, next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        FROM unnest(${Database.array(
          stop.map((s) => s.job.contactId),
          "text",
        )}, ${Database.array(
          stop.map((s) => s.status),
          "text",
        )}) AS v(contact_id, status)
        WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = v.contact_id`);
    }
    if (unknown.length) {
      await Database.rows(sql`
        UPDATE campaign_contact SET next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        WHERE campaign_id = ${campaignId} AND claim_id = ANY(${Database.array(
          unknown.map((j) => j.claimId),
          "text",
        )})`);
    }
    if (messages.length) {
      await Database.rows(sql`
        INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject,
                             status, claim_id, unsubscribe_token_hash, created_at)
        SELECT v.id, ${campaign!.workspace_id}, ${campaignId}, v.contact_id, v.node_id, ${campaign!.email_account_id}, v.to_email, v.subject,
               'sending', v.claim_id, v.token_hash, ${now}
        FROM unnest(${Database.array(
          messages.map((m) => m.id),
          "text",
        )}, ${Database.array(
          messages.map((m) => m.job.contactId),
          "text",
        )},
                    ${Database.array(
                      messages.map((m) => m.job.nodeId),
                      "text",
                    )}, ${Database.array(
                      messages.map((m) => m.to),
                      "text",
                    )},
                    ${Database.array(
                      messages.map((m) => m.subject),
                      "text",
                    )}, ${Database.array(
                      messages.map((m) => m.job.claimId),
                      "text",
                    )},
                    ${Database.array(
                      messages.map((m) => m.tokenHash),
                      "text",
                    )}) AS v(id, contact_id, node_id, to_email, subject, claim_id, token_hash)`);
    }
    return result;
  });
}

/** Handle the jobs of one campaign. Throws only on unexpected errors (the queue then redelivers). */
export async function sendCampaignJobs(campaignId: string, jobs: SendJob[]): Promise<Map<SendJob, Outcome>> {
  const now = Clock.now();
  const reservations = await reserve(campaignId, jobs, now);
  const { outcomes } = reservations;
  for (const { job, reason } of reservations.failures) {
    await failContact({
      workspaceId: reservations.workspaceId!,
      campaignId,
      contactId: job.contactId,
      reason,
      at: now,
      nodeId: job.nodeId,
    });
  }
  if (reservations.stopped) await completeIfDone(campaignId);
  if (!reservations.reserved.length) return outcomes;

  Fault.point("sender.afterReserve");
  const accepted: Acceptance[] = [];
  const results = await Promise.allSettled(
    reservations.reserved.map(async ({ job, messageId, email }) => {
      try {
        const { messageId: sesMessageId } = await Mailer.use().send(email);
        accepted.push({ messageId, sesMessageId, at: Clock.now() });
        outcomes.set(job, "sent");
      } catch (error) {
        if (!(error instanceof Mailer.MailerError)) throw error;
        outcomes.set(job, await onMailerError(job, reservations.workspaceId!, messageId, error));
      }
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  // Record what SES accepted before giving up on anything else.
  Fault.point("sender.afterSes");
  await settleSentMany(accepted);
  Fault.point("sender.afterRecord");
  if (failed) throw failed.reason;
  return outcomes;
}

/** Handle one job (tests, and anything outside a queue batch). */
export async function send(job: SendJob): Promise<Outcome> {
  return (await sendCampaignJobs(job.campaignId, [job])).get(job)!;
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
        const [row] = await Database.rows<{
          id: string;
          send_days: Day[];
          send_hours_start: number;
          send_hours_end: number;
          timezone: string;
        }>(sql`
          UPDATE campaign SET status = 'paused', pause_reason = ${reason}, paused_at = ${now}, updated_at = ${now}
          WHERE id = ${job.campaignId} AND status = 'active'
          RETURNING id, send_days, send_hours_start, send_hours_end, timezone`);
        if (row) {
          const window = {
            sendDays: row.send_days,
            sendHoursStart: row.send_hours_start,
            sendHoursEnd: row.send_hours_end,
            timezone: row.timezone,
          };
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
 * A batch from the queue (SQS → Lambda, or the in-process queue). Jobs are grouped by campaign
 * and the groups handled concurrently; records whose group failed are reported so only they
 * come back. A record that is not a valid job is reported too: after the queue's retries it
 * lands in the dead-letter queue instead of looping.
 */
export async function handleBatch(records: QueueRecord[]): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> {
  const failures: Array<{ itemIdentifier: string }> = [];
  const groups = new Map<string, Array<{ record: QueueRecord; job: SendJob }>>();
  for (const record of records) {
    let job: SendJob;
    try {
      job = v.parse(jobSchema, JSON.parse(record.body));
    } catch {
      Log.error("invalid send job", { queueMessageId: record.messageId });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    groups.set(job.campaignId, [...(groups.get(job.campaignId) ?? []), { record, job }]);
  }
  const settled = await Promise.allSettled(
    [...groups].map(async ([campaignId, items]) => {
      // The same job twice in one batch (duplicate delivery): the second one is simply stale.
      const seen = new Set<string>();
      const unique = items.filter(({ job }) => !seen.has(job.claimId) && seen.add(job.claimId));
      try {
        await sendCampaignJobs(
          campaignId,
          unique.map((i) => i.job),
        );
      } catch (error) {
        // A crash injected by a test stands for the process dying: the whole batch comes back.
        if (error instanceof Fault.InjectedCrash) throw error;
        Log.error("send failed", { campaignId, error });
        for (const { record } of items) failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  const crash = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (crash) throw crash.reason;
  return { batchItemFailures: failures };
}
