import { execFileSync } from "node:child_process";
import { createSign, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sns, Webhook } from "@fluenzr/core/tracking";

/**
 * SNS as tests play it: our own key and certificate (made with openssl), served by an injected
 * certificate fetcher behind the real URL checks, and messages signed the way SNS signs them.
 */
export const TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events";
export const INBOUND_TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-inbound";
export const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000000000000a.pem";

export interface SnsSigner {
  certificate: string;
  /** URLs the fetcher was asked for (each should be fetched once, then cached). */
  fetched: string[];
  /** GETs of subscription URLs. */
  confirmed: string[];
  sign(message: Record<string, unknown>, version?: "1" | "2", key?: string): Record<string, unknown>;
  notification(payload: unknown, options?: { topicArn?: string; version?: "1" | "2"; timestamp?: string; messageId?: string }): string;
  install(topicArns?: string[]): void;
}

let cached: { key: string; certificate: string; otherKey: string } | undefined;

function keys() {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "sns-cert-"));
  try {
    const make = (name: string) => {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          join(dir, `${name}.key`),
          "-out",
          join(dir, `${name}.pem`),
          "-days",
          "2",
          "-subj",
          "/CN=sns.amazonaws.com",
        ],
        { stdio: "ignore" },
      );
      return { key: readFileSync(join(dir, `${name}.key`), "utf8"), certificate: readFileSync(join(dir, `${name}.pem`), "utf8") };
    };
    const ours = make("ours");
    const other = make("other");
    cached = { key: ours.key, certificate: ours.certificate, otherKey: other.key };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The key of another certificate: signatures made with it must not verify. */
export const foreignKey = () => keys().otherKey;

export function snsSigner(): SnsSigner {
  const { key, certificate } = keys();
  const fetched: string[] = [];
  const confirmed: string[] = [];
  const signer: SnsSigner = {
    certificate,
    fetched,
    confirmed,
    sign(message, version = "2", signingKey = key) {
      const full = { SignatureVersion: version, SigningCertURL: CERT_URL, ...message };
      const signature = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256")
        .update(Sns.stringToSign(full as Sns.SnsMessage), "utf8")
        .sign(signingKey, "base64");
      return { ...full, Signature: signature };
    },
    notification(payload, options = {}) {
      return JSON.stringify(
        signer.sign(
          {
            Type: "Notification",
            MessageId: options.messageId ?? randomUUID(),
            TopicArn: options.topicArn ?? TOPIC,
            Message: typeof payload === "string" ? payload : JSON.stringify(payload),
            Timestamp: options.timestamp ?? new Date().toISOString(),
            UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
          },
          options.version,
        ),
      );
    },
    install(topicArns = [TOPIC, INBOUND_TOPIC]) {
      Sns.clearCertificateCache();
      Webhook.install({
        topicArns,
        fetchCertificate: async (url) => {
          fetched.push(url);
          return certificate;
        },
        confirm: async (url) => {
          confirmed.push(url);
        },
      });
    },
  };
  return signer;
}
