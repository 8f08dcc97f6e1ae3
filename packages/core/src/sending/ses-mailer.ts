import { GetAccountCommand, SESv2Client, SendEmailCommand, type SendEmailCommandInput } from "@aws-sdk/client-sesv2";
import { type Mailer, MailerError, type OutgoingEmail } from "./mailer";
import type { Reader } from "./ses-account";

const THROTTLED = new Set(["TooManyRequestsException", "LimitExceededException", "ThrottlingException"]);
const REJECTED = new Set(["MessageRejected", "BadRequestException", "InvalidParameterValue"]);
const ACCOUNT = new Set([
  "SendingPausedException",
  "AccountSuspendedException",
  "MailFromDomainNotVerifiedException",
  "NotFoundException",
  "AccessDeniedException",
]);

function quoteName(name: string): string {
  return `"${name.replace(/["\\\r\n]/g, "")}"`;
}

export function toSendEmailInput(email: OutgoingEmail): SendEmailCommandInput {
  return {
    FromEmailAddress: `${quoteName(email.from.name)} <${email.from.email}>`,
    Destination: { ToAddresses: [email.to] },
    ReplyToAddresses: email.replyTo ? [email.replyTo] : undefined,
    ConfigurationSetName: email.configurationSet,
    EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value })),
    Content: {
      Simple: {
        Subject: { Data: email.subject, Charset: "UTF-8" },
        Body: {
          Text: { Data: email.text, Charset: "UTF-8" },
          ...(email.html ? { Html: { Data: email.html, Charset: "UTF-8" } } : {}),
        },
        Headers: email.headers.map(({ name, value }) => ({ Name: name, Value: value })),
      },
    },
  };
}

/**
 * SES v2 `SendEmail`. The SDK's own retries are capped (2 attempts): longer waits go through
 * the queue and the next tick, not through a Lambda sleeping on a throttled account.
 */
export interface SesClientOptions {
  client?: SESv2Client;
  /** The local SES's URL (local mode). */
  endpoint?: string;
  region?: string;
}

function sesClient(options: SesClientOptions): SESv2Client {
  return (
    options.client ??
    new SESv2Client({
      maxAttempts: 2,
      ...(options.endpoint
        ? {
            endpoint: options.endpoint,
            region: options.region ?? "us-east-1",
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
          }
        : {}),
    })
  );
}

/** SES v2 `GetAccount`: whether SES lets the account send (sending/ses-account.ts). */
export function sesAccountReader(options: SesClientOptions = {}): Reader {
  const client = sesClient(options);
  return async () => {
    const account = await client.send(new GetAccountCommand({}));
    return { sendingEnabled: account.SendingEnabled !== false, enforcementStatus: account.EnforcementStatus ?? null };
  };
}

export function sesMailer(options: SesClientOptions = {}): Mailer {
  const client = sesClient(options);
  return {
    async send(email) {
      try {
        const result = await client.send(new SendEmailCommand(toSendEmailInput(email)));
        if (!result.MessageId) throw new MailerError("unknown", "SES answered without a message id");
        return { messageId: result.MessageId };
      } catch (error) {
        if (error instanceof MailerError) throw error;
        const name = (error as { name?: string }).name ?? "Error";
        const message = (error as Error).message;
        if (THROTTLED.has(name)) throw new MailerError("throttled", message, name);
        if (REJECTED.has(name)) throw new MailerError("rejected", message, name);
        if (ACCOUNT.has(name)) throw new MailerError("account", message, name);
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        // A 4xx is an answer: SES refused the request, it sent nothing.
        if (status && status >= 400 && status < 500) throw new MailerError("rejected", message, name);
        throw new MailerError("unknown", message, name);
      }
    },
  };
}
