import { type SQL, sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Log from "../log";

/**
 * The SES account's own sending status (#13). SES reviews an account whose bounces or complaints
 * run high and may pause its sending (`SendingEnabled: false`, `EnforcementStatus: SHUTDOWN`);
 * every `SendEmail` then fails. Rather than burn retries and pause campaign after campaign, the
 * sweeper reads `GetAccount` (outside any transaction) and stores what it says; while SES has
 * paused sending nothing is dispatched anywhere (the tick claims nothing, the sender defers what
 * was queued), and dispatch resumes by itself on the first sweep that sees SES sending again.
 */

export interface SesAccountStatus {
  sendingEnabled: boolean;
  /** HEALTHY, PROBATION or SHUTDOWN (SES v2 `EnforcementStatus`); null when SES gave none. */
  enforcementStatus: string | null;
}

/** The port: SES v2 `GetAccount` in production and locally (the local SES), none in most tests. */
export type Reader = () => Promise<SesAccountStatus>;

let reader: Reader | undefined;

export function install(next: Reader | undefined): void {
  reader = next;
  inflight = undefined;
}

const ID = "default";

/** Sending is paused when SES says it is not enabled, or the account is shut down. */
export const isPaused = (status: SesAccountStatus) => !status.sendingEnabled || status.enforcementStatus === "SHUTDOWN";

let inflight: Promise<SesAccountStatus | undefined> | undefined;

/**
 * Ask SES (calls at the same time share one request), store the answer, log a change. Undefined
 * when no reader is installed, or SES could not be asked (the last stored status then stands).
 * Never call it inside a transaction: it waits on SES.
 */
export function refresh(): Promise<SesAccountStatus | undefined> {
  inflight ??= (async () => {
    try {
      if (!reader) return undefined;
      let status: SesAccountStatus;
      try {
        status = await reader();
      } catch (error) {
        Log.warn("could not read the SES account status; the last one stands", { error });
        return undefined;
      }
      await store(status);
      return status;
    } finally {
      inflight = undefined;
    }
  })();
  return inflight;
}

/** Store what SES said; a change of `sendingEnabled` is logged (and dated). */
export async function store(status: SesAccountStatus): Promise<void> {
  const now = Clock.now();
  const enabled = !isPaused(status);
  const [row] = await Database.rows<{ was: boolean | null }>(sql`
    WITH before AS (SELECT sending_enabled FROM ses_account WHERE id = ${ID})
    INSERT INTO ses_account (id, sending_enabled, enforcement_status, checked_at, changed_at)
    VALUES (${ID}, ${enabled}, ${status.enforcementStatus}, ${now}, ${now})
    ON CONFLICT (id) DO UPDATE SET sending_enabled = excluded.sending_enabled, enforcement_status = excluded.enforcement_status,
      checked_at = excluded.checked_at,
      changed_at = CASE WHEN ses_account.sending_enabled = excluded.sending_enabled THEN ses_account.changed_at ELSE excluded.changed_at END
    RETURNING (SELECT sending_enabled FROM before) AS was`);
  const was = row?.was ?? true;
  if (was && !enabled) {
    Log.error("SES has paused sending for the account: nothing is dispatched until it resumes", {
      sesSendingEnabled: status.sendingEnabled,
      enforcementStatus: status.enforcementStatus,
    });
  } else if (!was && enabled) {
    Log.info("SES sends again for the account: dispatch resumes", { enforcementStatus: status.enforcementStatus });
  }
}

/** Whether sending is paused as last stored, as a boolean SQL expression (false when never read). */
export const pausedSql: SQL = sql`EXISTS (SELECT 1 FROM ses_account WHERE id = ${ID} AND NOT sending_enabled)`;

/** The status as last stored (the sweeper's report, operators). */
export async function current(): Promise<(SesAccountStatus & { checkedAt: Date; changedAt: Date }) | undefined> {
  const [row] = await Database.rows<{
    sending_enabled: boolean;
    enforcement_status: string | null;
    checked_at: Date | string;
    changed_at: Date | string;
  }>(sql`SELECT sending_enabled, enforcement_status, checked_at, changed_at FROM ses_account WHERE id = ${ID}`);
  if (!row) return undefined;
  return {
    sendingEnabled: row.sending_enabled,
    enforcementStatus: row.enforcement_status,
    checkedAt: new Date(row.checked_at),
    changedAt: new Date(row.changed_at),
  };
}
