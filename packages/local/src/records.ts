import * as Database from "@fluenzr/core/database";
import { sql } from "drizzle-orm";

/**
 * SES-shaped records for a sent email: what SES would publish about it. Local mode produces a
 * Send and a Delivery for each email it sends, and simulates opens, clicks, bounces, complaints
 * and replies with them; tests and benches use them too. They go through the same handling as
 * production events, after the SNS layer.
 */
export interface SentEmail {
  messageId: string;
  sesMessageId: string;
  workspaceId: string;
  campaignId: string;
  contactId: string;
  nodeId: string;
  to: string;
  subject: string;
  from?: string;
  sentAt: Date;
}

/** The message as the events about it name it, whatever its status (no SES id needed). */
export async function messageRow(
  messageId: string,
  workspaceId?: string,
): Promise<(Omit<SentEmail, "sesMessageId" | "sentAt"> & { sesMessageId: string | null; sentAt: Date }) | undefined> {
  const [row] = await Database.rows<{
    id: string;
    workspace_id: string;
    campaign_id: string;
    contact_id: string;
    node_id: string;
    to_email: string;
    subject: string;
    ses_message_id: string | null;
    sent_at: Date | null;
    created_at: Date;
    account_email: string;
  }>(sql`
    SELECT m.id, m.workspace_id, m.campaign_id, m.contact_id, m.node_id, m.to_email, m.subject, m.ses_message_id, m.sent_at, m.created_at,
           a.email AS account_email
    FROM message m JOIN email_account a ON a.id = m.email_account_id
    WHERE m.id = ${messageId} ${workspaceId ? sql`AND m.workspace_id = ${workspaceId}` : sql``}`);
  if (!row) return undefined;
  return {
    messageId: row.id,
    sesMessageId: row.ses_message_id,
    workspaceId: row.workspace_id,
    campaignId: row.campaign_id,
    contactId: row.contact_id,
    nodeId: row.node_id,
    to: row.to_email,
    subject: row.subject,
    from: row.account_email,
    sentAt: Database.toDate(row.sent_at ?? row.created_at),
  };
}

/** A sent email (SES took it and we know its SES id), as events about it name it. */
export async function sentEmail(messageId: string, workspaceId?: string): Promise<SentEmail | undefined> {
  const row = await messageRow(messageId, workspaceId);
  if (!row?.sesMessageId) return undefined;
  return { ...row, sesMessageId: row.sesMessageId };
}

function mail(email: SentEmail) {
  return {
    timestamp: email.sentAt.toISOString(),
    source: email.from ?? "sender@example.com",
    messageId: email.sesMessageId,
    destination: [email.to],
    headersTruncated: false,
    commonHeaders: { from: [email.from ?? "sender@example.com"], to: [email.to], messageId: email.sesMessageId, subject: email.subject },
    tags: {
      workspace: [email.workspaceId],
      campaign: [email.campaignId],
      contact: [email.contactId],
      node: [email.nodeId],
      message: [email.messageId],
    },
  };
}

export type Simulated = "send" | "delivery" | "open" | "click" | "bounce" | "soft-bounce" | "complaint";

export function sesRecord(type: Simulated, email: SentEmail, at: Date, extra: { link?: string; userAgent?: string; ip?: string } = {}) {
  const timestamp = at.toISOString();
  // A reader's browser by default (an open or click judged human when not too soon after sending).
  const userAgent =
    extra.userAgent ??
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
  const ipAddress = extra.ip ?? "192.0.2.1";
  switch (type) {
    case "send":
      return { eventType: "Send", mail: mail(email), send: {} };
    case "delivery":
      return {
        eventType: "Delivery",
        mail: mail(email),
        delivery: { timestamp, processingTimeMillis: 120, recipients: [email.to], smtpResponse: "250 2.0.0 OK" },
      };
    case "open":
      return { eventType: "Open", mail: mail(email), open: { timestamp, ipAddress, userAgent } };
    case "click":
      return {
        eventType: "Click",
        mail: mail(email),
        click: { timestamp, ipAddress, userAgent, link: extra.link ?? "https://example.com/", linkTags: {} },
      };
    case "bounce":
    case "soft-bounce":
      return {
        eventType: "Bounce",
        mail: mail(email),
        bounce: {
          timestamp,
          bounceType: type === "bounce" ? "Permanent" : "Transient",
          bounceSubType: type === "bounce" ? "General" : "MailboxFull",
          feedbackId: `${email.sesMessageId}-${type}-${at.getTime()}`,
          bouncedRecipients: [
            {
              emailAddress: email.to,
              action: "failed",
              status: type === "bounce" ? "5.1.1" : "4.2.2",
              diagnosticCode: type === "bounce" ? "smtp; 550 5.1.1 user unknown" : "smtp; 452 4.2.2 mailbox full",
            },
          ],
        },
      };
    case "complaint":
      return {
        eventType: "Complaint",
        mail: mail(email),
        complaint: {
          timestamp,
          complainedRecipients: [{ emailAddress: email.to }],
          complaintFeedbackType: "abuse",
          feedbackId: `${email.sesMessageId}-complaint`,
        },
      };
  }
}

/** An SES inbound notification carrying a reply (or an out-of-office) to `email`. */
export function inboundReply(email: SentEmail, at: Date, options: { text?: string; automatic?: boolean; id?: string } = {}) {
  const subject = options.automatic ? `Automatic reply: ${email.subject}` : `Re: ${email.subject}`;
  const ref = `<${email.sesMessageId}@email.amazonses.com>`;
  const messageId = options.id ?? `reply-${email.messageId}-${at.getTime()}`;
  const content = [
    `From: <${email.to}>`,
    `To: <${email.from ?? "sender@example.com"}>`,
    `Subject: ${subject}`,
    `Date: ${at.toUTCString()}`,
    `Message-ID: <${messageId}@mail.example.org>`,
    `In-Reply-To: ${ref}`,
    `References: ${ref}`,
    ...(options.automatic ? ["Auto-Submitted: auto-replied"] : []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=UTF-8",
    "",
    options.text ?? (options.automatic ? "I am out of the office." : "Thanks, let's talk next week."),
    "",
    `> ${email.subject}`,
  ].join("\r\n");
  return {
    notificationType: "Received",
    mail: { timestamp: at.toISOString(), source: email.to, messageId, destination: [email.from], commonHeaders: { subject } },
    receipt: { timestamp: at.toISOString(), recipients: [email.from], action: { type: "SNS", encoding: "UTF8" } },
    content,
  };
}

/** How an open or click was judged (docs/machine-events.md), from its activity event. */
export async function judgement(providerKey: string): Promise<{ machine: boolean; machineReason?: string } | undefined> {
  const [row] = await Database.rows<{ machine: boolean | null; reason: string | null }>(sql`
    SELECT (metadata->>'machine')::boolean AS machine, metadata->>'machineReason' AS reason FROM event WHERE provider_key = ${providerKey}`);
  if (!row || row.machine === null) return undefined;
  return { machine: row.machine, ...(row.reason ? { machineReason: row.reason } : {}) };
}
