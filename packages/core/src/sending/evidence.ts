import { sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../database";
import { pick, select } from "../database/typed";
import { emailAccountTable } from "../email-account/email-account.sql";
import * as Log from "../log";
import { messageTable } from "../message";
import { createId } from "../util/id";
import * as Config from "./config";
import * as Mailer from "./mailer";

/**
 * Emails of unknown fate, settled by evidence (docs/decisions.md, "Unknown sends").
 *
 * An email is `sending` from its reservation until SES's answer is recorded. When the sender dies
 * around the SES call, nobody knows whether SES took it. SES publishes a `Send` event for every
 * email it accepts, so:
 *
 * - its own `Send` event arriving settles it as sent (tracking does that);
 * - `Send` events for later emails of the same account having arrived, at least `margin` ago,
 *   while its own never came, settle it as never sent: the reservation is forgotten and the step
 *   is due again, so it is sent once, by the next tick.
 *
 * The margin covers what can hold a `Send` event back behind later ones: a sender still inside its
 * SES call (the Lambda times out after 30 s), SES publishing late, and SNS retrying a delivery to
 * our endpoint that failed (about a minute). When no later email of the account brings evidence
 * (sending stopped right after the crash), the sweeper makes some: one email to SES's mailbox
 * simulator from the account, whose own `Send` event is the evidence.
 */

/** Default safety margin; `UNKNOWN_SEND_MARGIN_SECONDS` overrides it. */
export const DEFAULT_MARGIN_MS = 15 * 60_000;
/** SES's mailbox simulator: accepted and counted like any email, delivered to nobody. */
export const PROBE_RECIPIENT = "success@simulator.amazonses.com";
/** The header that names a probe in the raw email (the local SES keeps headers, not tags). */
export const PROBE_HEADER = "X-Fluenzr-Probe";

export function marginFromEnv(env: Record<string, string | undefined> = process.env): number {
  const seconds = Number(env.UNKNOWN_SEND_MARGIN_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : DEFAULT_MARGIN_MS;
}

export interface Resolved {
  messageId: string;
  campaignId: string;
  contactId: string;
  nodeId: string;
}

/**
 * Forget every `sending` email that evidence says SES never took, and make its step due now.
 * One statement: the evidence is checked on the rows it deletes, so a `Send` event committed in
 * the meantime wins (its email is `sent`, not `sending`, and is left alone).
 */
export async function resolveNeverSent(marginMs: number): Promise<Resolved[]> {
  const now = Clock.now();
  const cutoff = new Date(now.getTime() - marginMs);
  const picked = pick(messageTable, ["id", "campaignId", "contactId", "nodeId"], "never");
  const rows = await select(
    picked,
    sql`
    WITH never AS (
      DELETE FROM message m
      WHERE m.status = 'sending' AND m.created_at <= ${cutoff}
        AND (EXISTS (SELECT 1 FROM message e
                     WHERE e.email_account_id = m.email_account_id AND e.created_at > m.created_at AND e.send_event_at <= ${cutoff})
          OR EXISTS (SELECT 1 FROM ses_probe p
                     WHERE p.email_account_id = m.email_account_id AND p.created_at > m.created_at AND p.send_event_at <= ${cutoff}))
      RETURNING m.id, m.campaign_id, m.contact_id, m.node_id
    ), due AS (
      UPDATE campaign_contact cc SET next_run_at = ${now}, claimed_at = NULL, claim_id = NULL, updated_at = ${now}
      FROM never n
      WHERE cc.campaign_id = n.campaign_id AND cc.contact_id = n.contact_id AND cc.current_node_id = n.node_id
        AND cc.status IN ('pending', 'in_progress')
      RETURNING cc.contact_id
    )
    SELECT ${picked.list} FROM never`,
  );
  const resolved = rows.map(({ id, ...rest }) => ({ messageId: id, ...rest }));
  if (resolved.length) Log.warn("emails SES never took are due again", { count: resolved.length });
  return resolved;
}

/**
 * For each account with an email still unknown after the margin and no later `Send` event to
 * judge it by, send one probe (at most one per account per margin). Returns how many were sent.
 */
export async function probeSilentAccounts(marginMs: number): Promise<number> {
  const now = Clock.now();
  const cutoff = new Date(now.getTime() - marginMs);
  const picked = pick(emailAccountTable, ["id", "email", "name"], "a");
  const accounts = await select(
    picked,
    sql`
    SELECT ${picked.list} FROM email_account a
    WHERE EXISTS (
        SELECT 1 FROM message m
        WHERE m.email_account_id = a.id AND m.status = 'sending' AND m.created_at <= ${cutoff}
          -- A later Send event already in (only waiting out the margin) needs no probe.
          AND NOT EXISTS (SELECT 1 FROM message e
                          WHERE e.email_account_id = a.id AND e.created_at > m.created_at AND e.send_event_at IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM ses_probe p
                          WHERE p.email_account_id = a.id AND p.created_at > m.created_at AND p.send_event_at IS NOT NULL))
      AND NOT EXISTS (SELECT 1 FROM ses_probe p WHERE p.email_account_id = a.id AND p.created_at > ${cutoff})`,
  );
  let sent = 0;
  for (const account of accounts) {
    const id = createId("sesProbe", now.getTime());
    await Database.rows(sql`INSERT INTO ses_probe (id, email_account_id, created_at) VALUES (${id}, ${account.id}, ${now})`);
    try {
      const { messageId } = await Mailer.use().send({
        from: { email: account.email, name: account.name },
        to: PROBE_RECIPIENT,
        subject: "FluenzR delivery probe",
        text: "Sent to the SES mailbox simulator to settle emails whose outcome is unknown.",
        headers: [{ name: PROBE_HEADER, value: id }],
        tags: { probe: id },
        configurationSet: Config.use().configurationSets?.none,
      });
      await Database.rows(sql`UPDATE ses_probe SET ses_message_id = ${messageId} WHERE id = ${id}`);
      sent++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await Database.rows(sql`UPDATE ses_probe SET error = ${message} WHERE id = ${id}`);
      Log.warn("SES probe failed", { emailAccountId: account.id, error: message });
    }
  }
  return sent;
}

/** A probe's `Send` event reached us. False when no probe has that id. */
export async function probeSeen(probeId: string): Promise<boolean> {
  const rows = await Database.rows(sql`
    UPDATE ses_probe SET send_event_at = coalesce(send_event_at, ${Clock.now()}) WHERE id = ${probeId} RETURNING 1`);
  return rows.length > 0;
}
