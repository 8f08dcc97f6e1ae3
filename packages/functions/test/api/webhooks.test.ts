import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import * as Database from "@fluenzr/core/database";
import { apiClient, CERT_URL, foreignKey, INBOUND_TOPIC, snsSigner, TOPIC, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";

useTestDatabase();

const fixture = (name: string) => readFileSync(new URL(`../../../core/test/fixtures/${name}`, import.meta.url), "utf8");
const openRecord = JSON.parse(fixture("ses-events/open.json"));

const api = apiClient();
const post = (body: string, path = "/webhooks/ses", type = "Notification") =>
  api.request("POST", path, { rawBody: body, headers: { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": type } });

const written = async () => {
  const [row] = await Database.rows<{ events: number; unmatched: number }>(
    sql`SELECT (SELECT count(*)::int FROM event) AS events, (SELECT count(*)::int FROM unmatched_event) AS unmatched`,
  );
  return row!;
};

describe("SNS verification at /webhooks/ses", () => {
  const signer = snsSigner();
  beforeEach(() => signer.install());

  it.each(["1", "2"] as const)(
    "accepts a valid signature version %s (an unknown email is recorded for diagnosis, 200)",
    async (version) => {
      const before = await written();
      const res = await post(
        signer.notification({ ...openRecord, mail: { ...openRecord.mail, messageId: `v${version}-${randomUUID()}` } }, { version }),
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, data: { kind: "event", result: "unmatched" } });
      expect((await written()).unmatched).toBe(before.unmatched + 1);
    },
  );

  it("fetches each certificate once and caches it", async () => {
    signer.fetched.length = 0;
    for (let i = 0; i < 3; i++) await post(signer.notification({ ...openRecord, mail: { ...openRecord.mail, messageId: randomUUID() } }));
    expect(signer.fetched).toEqual([CERT_URL]);
  });

  const tamper = (mutate: (m: Record<string, unknown>) => void) => {
    const message = JSON.parse(signer.notification(openRecord));
    mutate(message);
    return JSON.stringify(message);
  };

  const resign = (fields: Record<string, unknown>) =>
    JSON.stringify(
      signer.sign({
        Type: "Notification",
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Message: JSON.stringify(openRecord),
        Timestamp: new Date().toISOString(),
        ...fields,
      }),
    );

  it.each([
    [
      "a wrong signature",
      () => JSON.stringify({ ...JSON.parse(signer.notification(openRecord)), Signature: Buffer.from("nope").toString("base64") }),
    ],
    [
      "a signature by another key",
      () =>
        JSON.stringify(
          signer.sign(
            { Type: "Notification", MessageId: "m", TopicArn: TOPIC, Message: "{}", Timestamp: new Date().toISOString() },
            "2",
            foreignKey(),
          ),
        ),
    ],
    ["an altered Message", () => tamper((m) => (m.Message = JSON.stringify({ ...openRecord, eventType: "Complaint" })))],
    ["an altered TopicArn", () => tamper((m) => (m.TopicArn = INBOUND_TOPIC))],
    ["an altered Timestamp", () => tamper((m) => (m.Timestamp = new Date(Date.now() - 1000).toISOString()))],
    ["a certificate on S3", () => resign({ SigningCertURL: "https://s3.amazonaws.com/attacker/SimpleNotificationService-1.pem" })],
    [
      "a look-alike host",
      () => resign({ SigningCertURL: "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem" }),
    ],
    [
      "a host under amazonaws.com but not SNS",
      () => resign({ SigningCertURL: "https://sns-us-east-1.amazonaws.com/SimpleNotificationService-1.pem" }),
    ],
    [
      "a bucket named like SNS",
      () => resign({ SigningCertURL: "https://sns.us-east-1.amazonaws.com.s3.amazonaws.com/SimpleNotificationService-1.pem" }),
    ],
    ["plain http", () => resign({ SigningCertURL: "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem" })],
    [
      "credentials in the URL",
      () => resign({ SigningCertURL: "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem" }),
    ],
    ["a wrong path", () => resign({ SigningCertURL: "https://sns.us-east-1.amazonaws.com/attacker.pem" })],
    ["a path escaping", () => resign({ SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem/../x.pem" })],
    ["a query string", () => resign({ SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem?x=1" })],
    ["a topic not ours (signed)", () => resign({ TopicArn: "arn:aws:sns:us-east-1:999999999999:other" })],
    ["a stale timestamp (signed)", () => resign({ Timestamp: new Date(Date.now() - 3 * 86_400_000).toISOString() })],
    ["a future timestamp (signed)", () => resign({ Timestamp: new Date(Date.now() + 3_600_000).toISOString() })],
    ["an unknown signature version", () => tamper((m) => (m.SignatureVersion = "3"))],
    ["raw message delivery (the SES record itself)", () => JSON.stringify(openRecord)],
    ["no body", () => ""],
    ["not JSON", () => "Type=Notification"],
  ])("answers 403 and writes nothing for %s", async (_, make) => {
    const before = await written();
    const res = await post(make());
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
    expect(await written()).toEqual(before);
  });

  it("refuses a body whose type disagrees with the SNS header", async () => {
    expect((await post(signer.notification(openRecord), "/webhooks/ses", "SubscriptionConfirmation")).status).toBe(403);
  });
});

describe("subscription confirmations", () => {
  const signer = snsSigner();
  beforeEach(() => {
    signer.install();
    signer.confirmed.length = 0;
  });

  const confirmation = (fields: Record<string, unknown> = {}) =>
    JSON.stringify(
      signer.sign({
        Type: "SubscriptionConfirmation",
        MessageId: randomUUID(),
        Token: "tok",
        TopicArn: TOPIC,
        Message: "You have chosen to subscribe...",
        SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=tok`,
        Timestamp: new Date().toISOString(),
        ...fields,
      }),
    );

  it("confirms an allowlisted topic, after verifying the message", async () => {
    const res = await post(confirmation(), "/webhooks/ses", "SubscriptionConfirmation");
    expect(res.body).toEqual({ success: true, data: { kind: "confirmed", topicArn: TOPIC } });
    expect(signer.confirmed).toEqual([`https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=tok`]);
  });

  it("never fetches the SubscribeURL of a forged, foreign or non-SNS confirmation", async () => {
    const forged = JSON.parse(confirmation());
    forged.SubscribeURL = "http://169.254.169.254/latest/meta-data/";
    expect((await post(JSON.stringify(forged), "/webhooks/ses", "SubscriptionConfirmation")).status).toBe(403);
    expect(
      (await post(confirmation({ TopicArn: "arn:aws:sns:us-east-1:999999999999:theirs" }), "/webhooks/ses", "SubscriptionConfirmation"))
        .status,
    ).toBe(403);
    // Signed, allowlisted, but pointing elsewhere: still never requested.
    expect(
      (
        await post(
          confirmation({ SubscribeURL: "https://attacker.example/?Action=ConfirmSubscription" }),
          "/webhooks/ses",
          "SubscriptionConfirmation",
        )
      ).status,
    ).toBe(403);
    expect(signer.confirmed).toEqual([]);
  });
});
