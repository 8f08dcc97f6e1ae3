import type * as Contact from "../contact";
import * as Template from "../template";
import type { EmailNode } from "../workflow";
import * as Config from "./config";
import type { OutgoingEmail } from "./mailer";

export interface ComposeInput {
  workspaceId: string;
  campaignId: string;
  messageId: string;
  node: EmailNode;
  account: { email: string; name: string; replyTo: string | null };
  contact: Pick<Contact.Contact, "id" | "email" | "firstName" | "lastName" | "company" | "jobTitle" | "phone" | "website" | "customFields">;
  unsubscribeToken: string;
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
  const subject = Template.render(node.data.subject, values).replace(/[\r\n]+/g, " ");
  const tracking = node.data.trackOpens || node.data.trackClicks;
  let text: string;
  let html: string | undefined;
  if (Template.isHtml(node.data.body)) {
    html = Template.render(node.data.body, values, Template.escapeHtml);
    text = Template.htmlToText(html);
  } else {
    text = Template.render(node.data.body, values);
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
