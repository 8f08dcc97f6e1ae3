import { sql } from "drizzle-orm";
import { campaignContactTable } from "../campaign/campaign.sql";
import * as Clock from "../clock";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import * as Log from "../log";
import * as Queue from "../queue";
import { isOpen } from "../schedule";
import * as Budget from "./budget";
import * as Fault from "./fault";

/**
 * One tick of one campaign (EventBridge Scheduler calls it every minute of the window): claim
 * the steps that are due, as many as the limits leave room for, and queue them. The claim is a
 * short transaction over the due-steps index, so its cost grows with what is due, not with the
 * contacts enrolled; the queue is written after commit.
 */
export interface TickResult {
  claimed: number;
  reason?: "not-active" | "ses-paused" | "window-closed" | "limit-reached";
}

const CLAIMED = pick(campaignContactTable, ["contactId", "currentNodeId", "claimId"], "cc");

export async function tick(campaignId: string): Promise<TickResult> {
  const now = Clock.now();
  const claimed = await Database.transaction(async () => {
    const locked = await Budget.lock(campaignId, now);
    if (locked?.campaign.status !== "active") return { reason: "not-active" as const };
    // SES has paused the account's sending: claim nothing (the sweeper sees it resume).
    if (locked.sesPaused) return { reason: "ses-paused" as const };
    // In `contact` mode each contact's window is its own: due steps are stored at their window's
    // opening (schedule `dueAt`) and the sender re-checks it.
    if (locked.window.timezoneMode !== "contact" && !isOpen(now, locked.window)) return { reason: "window-closed" as const };
    // Spread sends: at most ceil(max/60) a minute, and never past the hourly limit or what the
    // accounts can send (daily and warm-up caps, minimum gaps), counting steps already queued but
    // not sent yet.
    const budget = Math.min(Budget.room(locked), Budget.accountsRoom(locked.accounts)) - locked.inFlight;
    if (budget <= 0) return { reason: "limit-reached" as const };
    // Contacts waiting for an account that cannot send now are left for later: an account at its
    // cap never holds back the others (contacts of an unusable or removed account are claimed, to
    // move to another).
    const waiting = locked.accounts.filter((a) => a.usable && a.now <= 0).map((a) => a.account.id);

    const rows = await select(
      CLAIMED,
      sql`
      UPDATE campaign_contact cc SET claimed_at = ${now}, claim_id = gen_random_uuid()::text
      FROM (
        SELECT contact_id FROM campaign_contact
        WHERE campaign_id = ${campaignId} AND next_run_at <= ${now} AND claimed_at IS NULL${
          waiting.length ? sql` AND (email_account_id IS NULL OR email_account_id <> ALL(${Database.array(waiting, "text")}))` : sql``
        }
        ORDER BY next_run_at
        LIMIT ${budget}
        FOR UPDATE SKIP LOCKED
      ) due
      WHERE cc.campaign_id = ${campaignId} AND cc.contact_id = due.contact_id
      RETURNING ${CLAIMED.list}`,
    );
    return { jobs: rows };
  });
  if (!("jobs" in claimed) || !claimed.jobs) return { claimed: 0, reason: "reason" in claimed ? claimed.reason : undefined };
  const jobs: Queue.SendJob[] = claimed.jobs.map((row) => ({
    v: 1,
    campaignId,
    contactId: row.contactId,
    // Claimed steps have both (the claim statement sets one, only due steps have the other).
    nodeId: row.currentNodeId ?? "",
    claimId: row.claimId ?? "",
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
