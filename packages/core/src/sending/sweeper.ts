import { sql } from "drizzle-orm";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Idempotency from "../idempotency";
import * as Log from "../log";
import type { Day } from "../schedule";
import * as Scheduler from "../scheduler";
import * as Evidence from "./evidence";
import { failContact } from "./progress";

/** A claim this old lost its queue message (the tick died, or the job went to the DLQ). */
export const CLAIM_TIMEOUT_MS = 10 * 60_000;
/**
 * The last resort for an email of unknown fate that no evidence settled in a day (SES answered no
 * probe either): its contact fails rather than risk a second copy.
 */
export const UNKNOWN_TIMEOUT_MS = 24 * 3_600_000;

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
}

/**
 * The repairs a crash can call for, on a fixed schedule: claims whose queue message never came,
 * emails whose fate never got settled, active campaigns without a schedule (and schedules
 * without an active campaign), and campaigns whose last contact finished.
 */
export async function sweep(options: SweepOptions = {}): Promise<SweepReport> {
  const now = Clock.now();
  // A process that knows it is the only sender (local mode at start-up) releases every claim: 0.
  const claimTimeoutMs = options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS;
  const released = await Database.rows<{ campaign_id: string }>(sql`
    UPDATE campaign_contact SET claimed_at = NULL, claim_id = NULL, updated_at = ${now}
    WHERE claimed_at <= ${new Date(now.getTime() - claimTimeoutMs)}
    RETURNING campaign_id`);

  const marginMs = options.unknownMarginMs ?? Evidence.DEFAULT_MARGIN_MS;
  const resent = await Evidence.resolveNeverSent(marginMs);
  const probesSent = await Evidence.probeSilentAccounts(marginMs);

  const unknown = await Database.rows<{ id: string; workspace_id: string; campaign_id: string; contact_id: string; node_id: string }>(sql`
    UPDATE message SET error = 'outcome unknown: the sender died around the SES call and SES sent no Send event'
    WHERE status = 'sending' AND error IS NULL AND created_at < ${new Date(now.getTime() - UNKNOWN_TIMEOUT_MS)}
    RETURNING id, workspace_id, campaign_id, contact_id, node_id`);
  for (const m of unknown) {
    await failContact({
      workspaceId: m.workspace_id,
      campaignId: m.campaign_id,
      contactId: m.contact_id,
      reason: "the outcome of an email is unknown; it was not resent, to never send it twice",
      at: now,
      nodeId: m.node_id,
    });
  }

  const active = await Database.rows<{ id: string; send_days: Day[]; send_hours_start: number; send_hours_end: number; timezone: string }>(
    sql`SELECT id, send_days, send_hours_start, send_hours_end, timezone FROM campaign WHERE status = 'active'`,
  );
  const scheduler = Scheduler.use();
  const schedules = await scheduler.list();
  let restored = 0;
  for (const c of active) {
    if (schedules.get(c.id) === true) continue;
    const window = { sendDays: c.send_days, sendHoursStart: c.send_hours_start, sendHoursEnd: c.send_hours_end, timezone: c.timezone };
    await scheduler.put({ campaignId: c.id, window, enabled: true });
    restored++;
  }
  const activeIds = new Set(active.map((c) => c.id));
  let removed = 0;
  const stray = [...schedules].filter(([id, enabled]) => enabled && !activeIds.has(id)).map(([id]) => id);
  if (stray.length) {
    // An enabled schedule must belong to an active campaign: paused ones are disabled, others gone.
    const known = await Database.rows<{
      id: string;
      status: string;
      send_days: Day[];
      send_hours_start: number;
      send_hours_end: number;
      timezone: string;
    }>(sql`
      SELECT id, status, send_days, send_hours_start, send_hours_end, timezone FROM campaign WHERE id = ANY(${`{${stray.join(",")}}`}::text[])`);
    const byId = new Map(known.map((c) => [c.id, c]));
    for (const id of stray) {
      const c = byId.get(id);
      if (c?.status === "paused") {
        const window = { sendDays: c.send_days, sendHoursStart: c.send_hours_start, sendHoursEnd: c.send_hours_end, timezone: c.timezone };
        await scheduler.put({ campaignId: id, window, enabled: false });
      } else await scheduler.remove(id);
      removed++;
    }
  }

  const done = await Database.rows<{ id: string }>(sql`
    SELECT c.id FROM campaign c
    WHERE c.status = 'active'
      AND NOT EXISTS (SELECT 1 FROM campaign_contact cc WHERE cc.campaign_id = c.id AND cc.status IN ('pending', 'in_progress'))`);
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
  };
  if (Object.values(report).some((n) => n > 0)) Log.info("sweep", { ...report });
  return report;
}
