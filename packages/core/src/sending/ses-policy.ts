import { sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../database";
import { select } from "../database/typed";
import * as Log from "../log";
import * as Message from "../message";
import type { SendJob } from "../queue";
import * as Scheduler from "../scheduler";
import * as Webhook from "../webhook";
import * as Budget from "./budget";
import type * as Mailer from "./mailer";
import { failContact, releaseClaim } from "./progress";
import * as SesAccount from "./ses-account";

/**
 * What an SES error means for the email and its contact. Each kind is handled differently: a
 * throttled email is forgotten and its step retried a little later, a rejected one fails its
 * contact, an account-wide stop pauses the campaign, and an unknown outcome is never resent (SES
 * may have accepted it; its `Send` event or later evidence settles it).
 */
export type ErrorOutcome = "throttled" | "failed" | "paused" | "deferred" | "unknown";

/** Errors that may mean SES paused the whole account (not just one identity or configuration set). */
const ACCOUNT_WIDE = new Set(["SendingPausedException", "AccountSuspendedException"]);

/** A throttled step waits this long before it is due again. */
export const THROTTLE_BACKOFF_MS = 60_000;

export async function onMailerError(
  job: SendJob,
  workspaceId: string,
  messageId: string,
  error: Mailer.MailerError,
): Promise<ErrorOutcome> {
  const now = Clock.now();
  switch (error.kind) {
    case "throttled":
      // SES refused it before sending: forget the email, try the step again a little later.
      await Database.transaction(async () => {
        await Message.forget(messageId);
        await releaseClaim(job.campaignId, job.contactId, job.claimId, new Date(now.getTime() + THROTTLE_BACKOFF_MS));
      });
      Log.warn("SES throttled a send", { campaignId: job.campaignId, code: error.code });
      return "throttled";
    case "rejected":
      await Message.fail(messageId, error.message, now);
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
    case "account":
      // SES may have paused the whole account: asked (GetAccount), a paused account stops all
      // dispatch and the step waits; SES sending again resumes it, no campaign is paused.
      if (error.code && ACCOUNT_WIDE.has(error.code)) {
        const status = await SesAccount.refresh();
        if (status && SesAccount.isPaused(status)) {
          await Database.transaction(async () => {
            await Message.forget(messageId);
            await releaseClaim(job.campaignId, job.contactId, job.claimId);
          });
          Log.warn("SES refused a send: the account's sending is paused; the step waits", { campaignId: job.campaignId, code: error.code });
          return "deferred";
        }
      }
      await pauseForAccount(job, messageId, `Sending stopped by SES (${error.code ?? "account"}): ${error.message}`, now);
      Log.error("SES stopped sending for the account; campaign paused", { campaignId: job.campaignId, code: error.code });
      return "paused";
    default:
      // The request may have reached SES: leave the email `sending`, never resend it.
      await Database.rows(sql`
        UPDATE campaign_contact SET next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
        WHERE campaign_id = ${job.campaignId} AND contact_id = ${job.contactId} AND claim_id = ${job.claimId}`);
      Log.warn("SES outcome unknown; the email will not be resent", { campaignId: job.campaignId, messageId, code: error.code });
      return "unknown";
  }
}

/** Nothing can be sent from the account: forget the email, give the step back, pause the campaign. */
async function pauseForAccount(job: SendJob, messageId: string, reason: string, now: Date): Promise<void> {
  await Database.transaction(async () => {
    await Message.forget(messageId);
    await releaseClaim(job.campaignId, job.contactId, job.claimId);
    const [row] = await select(
      Budget.WINDOW,
      sql`UPDATE campaign SET status = 'paused', pause_reason = ${reason}, paused_at = ${now}, updated_at = ${now}
          WHERE id = ${job.campaignId} AND status = 'active'
          RETURNING ${Budget.WINDOW.list}`,
    );
    if (row) {
      const [campaign] = await Database.rows<{ workspace_id: string; name: string }>(
        sql`SELECT workspace_id, name FROM campaign WHERE id = ${job.campaignId}`,
      );
      await Webhook.emit([
        {
          type: "campaign.paused",
          key: `${job.campaignId}:${now.getTime()}`,
          at: now,
          workspaceId: campaign!.workspace_id,
          data: { campaign: { id: job.campaignId, name: campaign!.name, status: "paused" }, reason },
        },
      ]);
      const { id, status: _, ...window } = row;
      await Database.afterCommit(() => Scheduler.use().put({ campaignId: id, window, enabled: false }));
    }
  });
}
