import { readFileSync } from "node:fs";
import * as Campaign from "@fluenzr/core/campaign";
import type * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { InboundMail, Replies } from "@fluenzr/core/tracking";
import * as Records from "@fluenzr/local/records";
import { factory, linear, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Replies as the S3 receipt action delivers them (#15.7): the notification says where SES stored
 * the message; the whole MIME is read from there and parsed. A reply with a 300 KB attachment
 * (over the 150 KB an SNS action carries) in ISO-8859-1 (which a UTF-8 SNS action mangles) is
 * matched and recorded with its subject and text intact; the Base64 SNS encoding works too.
 */

useTestDatabase();

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));

const ONE_EMAIL = linear([{ id: "node_2", email: { subject: "Quick question", body: "Hello {{firstName}}" } }]);

let engine: TestEngine;
afterEach(() => {
  engine?.restore();
  InboundMail.install(undefined);
});

async function sentEmail() {
  engine = testEngine({ start: "2026-01-12T09:00:00Z" });
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const person: Contact.Contact = await factory.contact(ws, { firstName: "Zoë" });
  const campaign = await ws.as(() =>
    Campaign.create({ name: "t", emailAccountId: account.id, settings: { maxEmailsPerHour: 600 }, workflow: ONE_EMAIL }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [person.id] }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  await engine.runMinute();
  return (await Records.sentEmail(engine.mailer.sent[0]!.tags.message!))!;
}

/** A reply in ISO-8859-1 with a 300 KB attachment, answering `sesMessageId`. */
function latin1Reply(sesMessageId: string): Buffer {
  const attachment = Buffer.alloc(300 * 1024, 7)
    .toString("base64")
    .replace(/.{76}/g, "$&\r\n");
  const head = [
    "From: =?ISO-8859-1?Q?Ren=E9e_M=FCller?= <renee@example.org>",
    "To: sender@example.com",
    "Subject: =?ISO-8859-1?Q?Re:_Quick_question_-_d=E9j=E0_vu?=",
    `In-Reply-To: <${sesMessageId}@email.amazonses.com>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain; charset=ISO-8859-1",
    "Content-Transfer-Encoding: 8bit",
    "",
  ].join("\r\n");
  const text = Buffer.from("\r\nVolontiers, voilà le devis signé.\r\n\r\nOn Mon, X wrote:\r\n> Hello\r\n", "latin1");
  const tail = [
    "--b1",
    'Content-Type: application/pdf; name="devis.pdf"',
    "Content-Transfer-Encoding: base64",
    'Content-Disposition: attachment; filename="devis.pdf"',
    "",
    attachment,
    "--b1--",
    "",
  ].join("\r\n");
  return Buffer.concat([Buffer.from(head, "latin1"), text, Buffer.from(tail, "latin1")]);
}

/** The notification SES publishes with the S3 action: where the message is, no content. */
function s3Notification(bucket: string, key: string, messageId: string) {
  const record = fixture("ses-inbound-reply.json");
  delete record.content;
  record.receipt.action = { type: "S3", topicArn: "arn:aws:sns:us-east-1:123456789012:ses-inbound", bucketName: bucket, objectKey: key };
  record.mail.messageId = messageId;
  return record;
}

const replied = (messageId: string) =>
  Database.rows<{ metadata: Record<string, unknown> }>(
    sql`SELECT metadata FROM event WHERE message_id = ${messageId} AND type = 'replied'`,
  );

describe("inbound replies stored in S3", () => {
  it("reads the whole message from the bucket: over 150 KB, ISO-8859-1, parsed intact", async () => {
    const email = await sentEmail();
    const raw = latin1Reply(email.sesMessageId);
    expect(raw.length).toBeGreaterThan(150 * 1024);
    const bucket = new Map([["inbound/abc123", new Uint8Array(raw)]]);
    const reads: string[] = [];
    InboundMail.install(async ({ bucket: name, key }) => {
      reads.push(`${name}/${key}`);
      const bytes = name === "fluenzr-inbound" ? bucket.get(key) : undefined;
      if (!bytes) throw new Error(`NoSuchKey ${name}/${key}`);
      return bytes;
    });
    expect(await Replies.applyInbound(s3Notification("fluenzr-inbound", "inbound/abc123", "s3-reply-1"))).toBe("replied");
    expect(reads).toEqual(["fluenzr-inbound/inbound/abc123"]);
    const [event] = await replied(email.messageId);
    expect(event!.metadata).toMatchObject({ subject: "Re: Quick question - déjà vu", automatic: false, source: "ses-inbound" });
    expect(event!.metadata.preview).toBe("Volontiers, voilà le devis signé.");
    // The same notification again (SNS delivers at least once): recorded once.
    expect(await Replies.applyInbound(s3Notification("fluenzr-inbound", "inbound/abc123", "s3-reply-1"))).toBe("duplicate");
  });

  it("fails (so SNS retries) when the stored message cannot be read, recording nothing", async () => {
    const email = await sentEmail();
    await expect(Replies.applyInbound(s3Notification("fluenzr-inbound", "inbound/missing", "s3-reply-2"))).rejects.toThrow(
      /no mail reader is installed/,
    );
    InboundMail.install(async () => {
      throw new Error("AccessDenied");
    });
    await expect(Replies.applyInbound(s3Notification("fluenzr-inbound", "inbound/missing", "s3-reply-2"))).rejects.toThrow(/AccessDenied/);
    expect(await replied(email.messageId)).toEqual([]);
  });

  it("decodes an inline Base64 message byte for byte (SNS action with Base64 encoding)", async () => {
    const email = await sentEmail();
    const record = fixture("ses-inbound-reply.json");
    record.receipt.action = { type: "SNS", topicArn: "arn:aws:sns:us-east-1:123456789012:ses-inbound", encoding: "BASE64" };
    record.content = latin1Reply(email.sesMessageId).toString("base64");
    record.mail.messageId = "b64-reply";
    expect(await Replies.applyInbound(record)).toBe("replied");
    expect((await replied(email.messageId))[0]!.metadata).toMatchObject({ subject: "Re: Quick question - déjà vu" });
  });

  it("ignores a notification that carries no message", async () => {
    const record = fixture("ses-inbound-reply.json");
    delete record.content;
    record.receipt.action = { type: "Bounce" };
    expect(await Replies.applyInbound(record)).toBe("ignored");
  });
});
