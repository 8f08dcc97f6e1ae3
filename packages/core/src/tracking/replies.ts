import { sql } from "drizzle-orm";
import PostalMime from "postal-mime";
import * as v from "valibot";
import * as Activity from "../activity";
import * as Actor from "../actor";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import { VisibleError } from "../error";
import * as Log from "../log";
import * as Message from "../message";
import { settleSent } from "../sending/progress";
import { companyDomain } from "../util/free-mail";
import * as InboundMail from "./inbound-mail";
import { recordUnmatched } from "./ses-events";
import { finishSequence, type MessageRef, reach } from "./state";

/**
 * Replies: mail received by SES for the reply domain (receipt rule → SNS) is parsed, matched to
 * the email it answers by `In-Reply-To`/`References` against SES's message id, and recorded. A
 * real reply stops the contact's sequence; an automatic one (out of office) is recorded as such
 * and changes nothing else.
 */

export const inboundSchema = v.object({
  notificationType: v.literal("Received"),
  mail: v.object({ messageId: v.pipe(v.string(), v.nonEmpty()), timestamp: v.pipe(v.string(), v.isoTimestamp()) }),
  // Inline (SNS action) or stored in S3 (S3 action): see inbound-mail.ts.
  content: v.optional(v.string()),
});

const AUTO_SUBJECT =
  /^\s*(auto(matic|matische)?[\s:-]*(reply|response|antwort|risposta)|autoreply|auto:|out of (the )?office|ooo\b|r[ée]ponse automatique|absen(ce|t)|message d'absence|abwesenheit|respuesta autom[aá]tica|fuera de la oficina)/i;

export interface ParsedReply {
  subject: string;
  preview: string;
  from?: string;
  automatic: boolean;
  /** SES message ids the reply refers to, most direct first. */
  references: string[];
}

/** The SES message id in `<id@email.amazonses.com>`: the part before the @. */
const sesId = (ref: string) => ref.replace(/^<|>$/g, "").split("@")[0]!;

/** What was written, without the quoted original below it. */
export function preview(text: string, max = 200): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^>/.test(line) || /^On .+ wrote:\s*$/.test(line) || /^Le .+ a écrit\s*:\s*$/.test(line) || /^-{2,}\s*Original Message/i.test(line))
      break;
    lines.push(line);
  }
  const compact = lines.join(" ").replace(/\s+/g, " ").trim();
  return compact.length > max ? `${compact.slice(0, max - 1)}…` : compact;
}

export async function parseReply(raw: string | Uint8Array): Promise<ParsedReply> {
  const email = await PostalMime.parse(raw);
  const header = (name: string) => email.headers.find((h) => h.key === name)?.value?.trim();
  const autoSubmitted = header("auto-submitted");
  const precedence = header("precedence")?.toLowerCase();
  const subject = email.subject ?? "";
  const automatic =
    (autoSubmitted !== undefined && autoSubmitted.toLowerCase() !== "no") ||
    header("x-autoreply") !== undefined ||
    header("x-autorespond") !== undefined ||
    precedence === "auto_reply" ||
    AUTO_SUBJECT.test(subject);
  const refs = [...(email.inReplyTo?.match(/<[^>]+>/g) ?? []), ...(email.references?.match(/<[^>]+>/g) ?? []).reverse()];
  return {
    subject,
    preview: preview(email.text ?? ""),
    from: email.from?.address,
    automatic,
    references: [...new Set(refs.map(sesId))],
  };
}

async function messageBySesId(ids: string[]): Promise<(Message.Found & { sesMessageId: string }) | undefined> {
  for (const sesMessageId of ids) {
    const found = await Message.find({ sesMessageId });
    if (found) return { ...found, sesMessageId };
  }
  return undefined;
}

/** Record a reply to `message`; a real one stops the sequence. Once per provider key. */
async function recordReply(
  message: MessageRef,
  at: Date,
  reply: { subject?: string; preview?: string; from?: string; automatic: boolean; source: string },
  providerKey: string | undefined,
): Promise<boolean> {
  const recorded = await Database.transaction(async () => {
    // A human reply in a campaign with `stopOnCompanyReply` stops other contacts' rows: the
    // campaign is locked first, as the sender does before its contacts' rows (one lock order).
    const companyStop = !reply.automatic && (await companyStopOn(message.campaignId));
    const inserted = await Activity.recordAbout(message, {
      type: "replied",
      occurredAt: at,
      metadata: { subject: reply.subject, preview: reply.preview, from: reply.from, automatic: reply.automatic, source: reply.source },
      providerKey,
    });
    if (!inserted) return false;
    if (!reply.automatic) {
      await reach(message, "replied", at);
      await finishSequence(message.campaignId, message.contactId, "replied", at);
      if (companyStop) await stopCompany(message, at, { from: reply.from, subject: reply.subject, key: providerKey });
    }
    return true;
  });
  if (recorded && !reply.automatic) await completeIfDone(message.campaignId);
  return recorded;
}

/**
 * `stopOnCompanyReply`: a human reply from a contact of domain D stops every other contact of D
 * still in the campaign's sequence (status `completed`), each with a `stopped` event naming the
 * reply (the email it answered, who replied). A free-mail domain is no company: nothing stops.
 */
async function companyStopOn(campaignId: string): Promise<boolean> {
  const [row] = await Database.rows<{ stop: boolean }>(
    sql`SELECT stop_on_company_reply AS stop FROM campaign WHERE id = ${campaignId} FOR UPDATE`,
  );
  return row?.stop === true;
}

async function stopCompany(message: MessageRef, at: Date, reply: { from?: string; subject?: string; key?: string }): Promise<number> {
  const [row] = await Database.rows<{ email: string }>(sql`SELECT email FROM contact WHERE id = ${message.contactId}`);
  const domain = row && companyDomain(row.email);
  if (!domain) return 0;
  const stopped = await Database.rows<{ contact_id: string; current_node_id: string | null }>(sql`
    UPDATE campaign_contact cc SET status = 'completed', next_run_at = NULL, claimed_at = NULL, claim_id = NULL, updated_at = ${at}
    FROM contact k
    WHERE cc.campaign_id = ${message.campaignId} AND k.id = cc.contact_id AND cc.contact_id <> ${message.contactId}
      AND cc.status IN ('pending', 'in_progress') AND lower(split_part(k.email, '@', 2)) = ${domain}
    RETURNING cc.contact_id, cc.current_node_id`);
  for (const s of stopped) {
    await Activity.record({
      workspaceId: message.workspaceId,
      campaignId: message.campaignId,
      contactId: s.contact_id,
      nodeId: s.current_node_id,
      type: "stopped",
      occurredAt: at,
      metadata: {
        reason: "company_reply",
        domain,
        reply: {
          contactId: message.contactId,
          messageId: message.id,
          from: reply.from,
          subject: reply.subject,
          receivedAt: at.toISOString(),
        },
      },
      providerKey: `stopped:${reply.key ?? message.id}:${s.contact_id}`,
    });
  }
  if (stopped.length) Log.info("company reply stopped contacts", { campaignId: message.campaignId, domain, stopped: stopped.length });
  return stopped.length;
}

export type InboundResult = "replied" | "automatic" | "duplicate" | "unmatched" | "ignored";

/** An SES inbound notification (already authenticated). */
export async function applyInbound(input: unknown): Promise<InboundResult> {
  const parsed = v.safeParse(inboundSchema, input);
  if (!parsed.success) return "ignored";
  const { mail } = parsed.output;
  const key = `inbound:${mail.messageId}`;
  const raw = await InboundMail.rawMessage(input);
  if (raw === undefined) return "ignored";
  const reply = await parseReply(raw);
  const message = await messageBySesId(reply.references);
  if (!message) {
    await recordUnmatched(key, "inbound", "In-Reply-To/References name no email we sent", { mail, subject: reply.subject });
    return "unmatched";
  }
  // A reply proves the email went out.
  if (message.status === "sending") await settleSent(message.id, message.sesMessageId, new Date(mail.timestamp));
  const recorded = await recordReply(message, new Date(mail.timestamp), { ...reply, source: "ses-inbound" }, key);
  if (!recorded) return "duplicate";
  return reply.automatic ? "automatic" : "replied";
}

export const reportSchema = v.object({
  contactId: v.pipe(v.string(), v.startsWith("con_", "must be a con_ id")),
  subject: v.optional(v.pipe(v.string(), v.maxLength(998))),
  text: v.optional(v.pipe(v.string(), v.maxLength(100_000))),
  receivedAt: v.optional(v.pipe(v.string(), v.isoTimestamp("must be an ISO 8601 timestamp"))),
  automatic: v.optional(v.boolean(), false),
});

/**
 * An integration reports a reply (from a mailbox it watches): attributed to the last email the
 * contact was sent in the campaign.
 */
export async function report(
  campaignId: string,
  input: v.InferOutput<typeof reportSchema>,
): Promise<{ recorded: boolean; messageId: string }> {
  const workspaceId = Actor.workspaceId();
  const message = await Message.latestTo(workspaceId, campaignId, input.contactId);
  if (!message) throw new VisibleError("not_found", `No email was sent to contact ${input.contactId} in campaign ${campaignId}`);
  const at = input.receivedAt ? new Date(input.receivedAt) : Clock.now();
  const recorded = await recordReply(
    message,
    at,
    { subject: input.subject, preview: input.text ? preview(input.text) : undefined, automatic: input.automatic, source: "api" },
    undefined,
  );
  return { recorded, messageId: message.id };
}
