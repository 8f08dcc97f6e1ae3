import type * as Contact from "../contact";
import * as Template from "../template";
import { contentOf, type EmailNode } from "../workflow";
import * as Config from "./config";
import type { OutgoingEmail } from "./mailer";

export interface ComposeInput {
  workspaceId: string;
  campaignId: string;
  messageId: string;
  node: EmailNode;
  /** The node's A/B variant this contact gets (null or absent: the node's own subject and body). */
  variantId?: string | null;
  account: { email: string; name: string; replyTo: string | null };
  contact: Pick<Contact.Contact, "id" | "email" | "firstName" | "lastName" | "company" | "jobTitle" | "phone" | "website" | "customFields">;
  unsubscribeToken: string;
  /** The contact's previous email in the campaign, if any (its subject as sent). */
  previous?: { subject: string; sesMessageId: string | null } | null;
  /** Answer `previous` in its thread (`Re:` subject unless the node sets one, `In-Reply-To`, `References`). */
  thread?: boolean;
}

/** `Re: <subject>`, without stacking a second `Re:` on a subject that has one. */
export function replySubject(subject: string): string {
  return /^re:/i.test(subject) ? subject : `Re: ${subject}`;
}

export function unsubscribeUrl(token: string): string {
  return `${Config.use().publicUrl.replace(/\/$/, "")}/v1/unsubscribe/${token}`;
}

/**
 * The email as SES gets it. Throws `MissingVariableError` when a variable has no value and no
 * fallback: such an email is never sent half-filled.
 */
export function compose(input: ComposeInput): OutgoingEmail {
  const { contact, node } = input;
  const url = unsubscribeUrl(input.unsubscribeToken);
  const values: Template.Values = {
    ...contact.customFields,
    email: contact.email,
    firstName: contact.firstName,
    lastName: contact.lastName,
    company: contact.company,
    jobTitle: contact.jobTitle,
    phone: contact.phone,
    website: contact.website,
    unsubscribeUrl: url,
  };
  const { previous, thread } = input;
  const content = contentOf(node, input.variantId ?? null);
  const own = content.subject === undefined ? undefined : Template.render(content.subject, values).replace(/[\r\n]+/g, " ");
  // A follow-up without its own subject answers the previous email's (as sent: the variant the
  // contact got, when that one had variants); moved to another account
  // (a new thread), it takes that subject without the `Re:`.
  const subject =
    own ?? (previous ? (thread ? replySubject(previous.subject) : previous.subject.replace(/^(re:\s*)+/i, "")) : "(no subject)");
  const answered = thread && previous?.sesMessageId ? Config.rfcMessageId(previous.sesMessageId) : undefined;
  const tracking = node.data.trackOpens || node.data.trackClicks;
  let text: string;
  let html: string | undefined;
  if (Template.isHtml(content.body)) {
    html = Template.render(content.body, values, Template.escapeHtml);
    text = Template.htmlToText(html);
  } else {
    text = Template.render(content.body, values);
    // Open and click tracking live in the HTML part (a pixel, rewritten links).
    if (tracking) html = Template.textToHtml(text);
  }
  const mode = Config.trackingMode(node.data.trackOpens, node.data.trackClicks);
  return {
    from: { email: input.account.email, name: input.account.name },
    to: contact.email,
    replyTo: input.account.replyTo ?? undefined,
    subject,
    text,
    html,
    headers: [
      { name: "List-Unsubscribe", value: `<${url}>` },
      { name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click" },
      ...(answered
        ? [
            { name: "In-Reply-To", value: answered },
            { name: "References", value: answered },
          ]
        : []),
    ],
    tags: {
      workspace: input.workspaceId,
      campaign: input.campaignId,
      contact: contact.id,
      node: node.id,
      message: input.messageId,
    },
    configurationSet: Config.use().configurationSets?.[mode],
  };
}
