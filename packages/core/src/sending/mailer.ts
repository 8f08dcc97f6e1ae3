import { port } from "../util/port";

/**
 * The mailer port: hand one email to SES. Errors say what happened, because each is handled
 * differently: a throttled email waits and retries, a rejected one fails its contact, an
 * account-wide stop pauses the campaign, and an unknown outcome is never retried (SES may have
 * accepted it).
 */
export interface OutgoingEmail {
  from: { email: string; name: string };
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  headers: Array<{ name: string; value: string }>;
  tags: Record<string, string>;
  configurationSet?: string;
}

export type MailerErrorKind =
  /** Slow down and retry later: not sent, not counted. */
  | "throttled"
  /** This email cannot be sent (bad address, content refused): fail the contact. */
  | "rejected"
  /** Nothing can be sent from the account or configuration right now: pause the campaign. */
  | "account"
  /** No idea whether SES accepted it. */
  | "unknown";

export class MailerError extends Error {
  constructor(
    readonly kind: MailerErrorKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "MailerError";
  }
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

export const { install, use } = port<Mailer>("Mailer");
