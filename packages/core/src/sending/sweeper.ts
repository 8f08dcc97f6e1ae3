import { sql } from "drizzle-orm";
import { campaignTable } from "../campaign/campaign.sql";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import * as Idempotency from "../idempotency";
import * as Log from "../log";
import * as Message from "../message";
import * as Scheduler from "../scheduler";
import { WINDOW } from "./budget";
import * as Evidence from "./evidence";
import { failContact } from "./progress";
import * as SesAccount from "./ses-account";

/** A claim this old lost its queue message (the tick died, or the job went to the DLQ). */
export const CLAIM_TIMEOUT_MS = 10 * 60_000;
/**
 * The last resort for an email of unknown fate that no evidence settled in a day (SES answered no
 * probe either): its contact fails rather than risk a second copy.
 */
export const UNKNOWN_TIMEOUT_MS = 24 * 3_600_000;

const ID = pick(campaignTable, ["id"], "c");

export interface SweepOptions {
  /** Claims older than this are released (0: all, for a process that knows it is the only sender). */
  claimTimeoutMs?: number;
  /** The safety margin of the evidence rule (`Evidence.DEFAULT_MARGIN_MS`). */
  unknownMarginMs?: number;
}

export interface SweepReport {
  releasedClaims: number;
  /** Emails SES never took (by evidence): forgotten, their steps due again. */
  unknownResent: number;
  /** Probes sent to SES's mailbox simulator to make evidence for a silent account. */
  probesSent: number;
  unknownFailed: number;
  schedulesRestored: number;
  schedulesRemoved: number;
  completed: number;
  expiredIdempotencyKeys: number;
  /** 1 while SES has paused the account's sending (as read by this sweep, or last stored), else 0. */
  sesSendingPaused: number;
}

/**
 * The repairs a crash can call for, on a fixed schedule: claims whose queue message never came,
 * emails whose fate never got settled, active campaigns without a schedule (and schedules
 * without an active campaign), and campaigns whose last contact finished.
 */
export async function sweep(options: SweepOptions = {}): Promise<SweepReport> {
  // SES's own status first, outside any transaction: while SES has paused sending, the tick and
  // the sender dispatch nothing (and the probes below are not sent).
  const ses = (await SesAccount.refresh()) ?? (await SesAccount.current());
  const sesPaused = ses ? SesAccount.isPaused(ses) : false;
  const now = Clock.now();
  // A process that knows it is the only sender (local mode at start-up) releases every claim: 0.
  const claimTimeoutMs = options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS;
  const released = await Database.rows(sql`
    UPDATE campaign_contact SET claimed_at = NULL, claim_id = NULL, updated_at = ${now}
    WHERE claimed_at <= ${new Date(now.getTime() - claimTimeoutMs)}
    RETURNING 1`);

  const marginMs = options.unknownMarginMs ?? Evidence.DEFAULT_MARGIN_MS;
  const resent = await Evidence.resolveNeverSent(marginMs);
  const probesSent = sesPaused ? 0 : await Evidence.probeSilentAccounts(marginMs);

  const unknown = await Message.markUnknown(
    new Date(now.getTime() - UNKNOWN_TIMEOUT_MS),
    "outcome unknown: the sender died around the SES call and SES sent no Send event",
  );
  for (const m of unknown) {
    await failContact({
      workspaceId: m.workspaceId,
      campaignId: m.campaignId,
      contactId: m.contactId,
      reason: "the outcome of an email is unknown; it was not resent, to never send it twice",
      at: now,
      nodeId: m.nodeId,
    });
  }

  const active = await select(WINDOW, sql`SELECT ${WINDOW.list} FROM campaign WHERE status = 'active'`);
  const scheduler = Scheduler.use();
  const schedules = await scheduler.list();
  let restored = 0;
  for (const c of active) {
    const { id, status: _, ...window } = c;
    if (schedules.get(id) === true) continue;
    await scheduler.put({ campaignId: id, window, enabled: true });
    restored++;
  }
  const activeIds = new Set(active.map((c) => c.id));
  let removed = 0;
  const stray = [...schedules].filter(([id, enabled]) => enabled && !activeIds.has(id)).map(([id]) => id);
  if (stray.length) {
    // An enabled schedule must belong to an active campaign: paused ones are disabled, others gone.
    const known = await select(WINDOW, sql`SELECT ${WINDOW.list} FROM campaign WHERE id = ANY(${Database.array(stray, "text")})`);
    const byId = new Map(known.map((c) => [c.id, c]));
    for (const id of stray) {
      const c = byId.get(id);
      if (c?.status === "paused") {
        const { id: _, status: __, ...window } = c;
        await scheduler.put({ campaignId: id, window, enabled: false });
      } else await scheduler.remove(id);
      removed++;
    }
  }

  const done = await select(
    ID,
    sql`
    SELECT ${ID.list} FROM campaign c
    WHERE c.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM campaign_contact cc WHERE cc.campaign_id = c.id AND cc.status IN ('pending', 'in_progress'))`,
  );
  let completed = 0;
  for (const { id } of done) if (await completeIfDone(id)) completed++;

  const report = {
    releasedClaims: released.length,
    unknownResent: resent.length,
    probesSent,
    unknownFailed: unknown.length,
    schedulesRestored: restored,
    schedulesRemoved: removed,
    completed,
    expiredIdempotencyKeys: await Idempotency.expire(),
    sesSendingPaused: sesPaused ? 1 : 0,
  };
  if (Object.values(report).some((n) => n > 0)) {
    Log.info("sweep", { ...report, ...(ses ? { sesEnforcementStatus: ses.enforcementStatus } : {}) });
  }
  return report;
}
