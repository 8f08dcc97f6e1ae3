import { createPublicKey, createVerify, type KeyObject } from "node:crypto";
import * as v from "valibot";

/**
 * Verifying SNS HTTPS messages before believing anything in them: the certificate URL must be
 * an SNS endpoint (not any amazonaws.com host: S3 buckets are there too), the signature (v1
 * SHA1, v2 SHA256) must check out against that certificate, the topic must be one of ours, and
 * the timestamp recent. Subscription URLs are only followed after all of that.
 */

const CERT_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const CERT_PATH = /^\/SimpleNotificationService(-[A-Za-z0-9]+)?\.pem$/;
/** SNS retries an HTTPS delivery for at most about an hour; a day leaves room for clock skew and outages. */
const MAX_AGE_MS = 24 * 3_600_000;
const MAX_SKEW_MS = 5 * 60_000;

const base = {
  MessageId: v.pipe(v.string(), v.nonEmpty()),
  TopicArn: v.pipe(v.string(), v.nonEmpty()),
  Message: v.string(),
  Timestamp: v.pipe(v.string(), v.isoTimestamp()),
  SignatureVersion: v.picklist(["1", "2"]),
  Signature: v.pipe(v.string(), v.nonEmpty()),
  SigningCertURL: v.pipe(v.string(), v.nonEmpty()),
};

export const snsMessageSchema = v.variant("Type", [
  v.object({
    Type: v.literal("Notification"),
    Subject: v.optional(v.nullable(v.string())),
    UnsubscribeURL: v.optional(v.string()),
    ...base,
  }),
  v.object({ Type: v.literal("SubscriptionConfirmation"), Token: v.string(), SubscribeURL: v.string(), ...base }),
  v.object({ Type: v.literal("UnsubscribeConfirmation"), Token: v.string(), SubscribeURL: v.string(), ...base }),
]);

export type SnsMessage = v.InferOutput<typeof snsMessageSchema>;

export class SnsVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SnsVerificationError";
  }
}

/** The fields signed, in this order, for each message type (AWS documentation). */
export function stringToSign(message: SnsMessage): string {
  const keys =
    message.Type === "Notification"
      ? (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] as const)
      : (["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"] as const);
  let out = "";
  for (const key of keys) {
    const value = (message as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    out += `${key}\n${value}\n`;
  }
  return out;
}

/** An SNS endpoint URL: https, an `sns.<region>.amazonaws.com` host, no credentials, default port. */
export function isSnsHost(url: URL): boolean {
  return url.protocol === "https:" && CERT_HOST.test(url.hostname) && !url.username && !url.password && !url.port;
}

export function checkCertificateUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SnsVerificationError("SigningCertURL is not a URL");
  }
  if (!isSnsHost(url)) throw new SnsVerificationError(`SigningCertURL host ${url.hostname} is not an SNS endpoint`);
  if (!CERT_PATH.test(url.pathname) || url.search || url.hash)
    throw new SnsVerificationError("SigningCertURL path is not an SNS certificate");
  return url;
}

export type CertificateFetcher = (url: string) => Promise<string>;

/** Fetch a certificate over HTTPS (production): short timeout, small body, PEM only. */
export const fetchCertificate: CertificateFetcher = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: "error" });
  if (!response.ok) throw new SnsVerificationError(`certificate fetch answered ${response.status}`);
  const pem = await response.text();
  if (pem.length > 20_000 || !pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new SnsVerificationError("certificate is not a PEM certificate");
  return pem;
};

export interface Verifier {
  /** Topics whose messages are accepted. */
  topicArns: ReadonlySet<string>;
  fetchCertificate: CertificateFetcher;
  now?: () => number;
}

const certificates = new Map<string, Promise<KeyObject>>();

/** The certificate's public key, fetched and parsed once per URL. */
function certificate(url: string, fetcher: CertificateFetcher): Promise<KeyObject> {
  let pending = certificates.get(url);
  if (!pending) {
    pending = fetcher(url).then((pem) => {
      try {
        return createPublicKey(pem);
      } catch {
        throw new SnsVerificationError("certificate cannot be read");
      }
    });
    certificates.set(url, pending);
    // A failed fetch is not cached: the next message tries again.
    pending.catch(() => certificates.delete(url));
  }
  return pending;
}

/** Forget cached certificates (tests). */
export function clearCertificateCache(): void {
  certificates.clear();
}

/**
 * Parse and verify a raw SNS HTTPS body. Throws SnsVerificationError for anything that does not
 * check out; nothing in the body is used (not even its URLs) before it does.
 */
export async function verify(rawBody: string, messageTypeHeader: string | undefined, verifier: Verifier): Promise<SnsMessage> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new SnsVerificationError("body is not JSON (raw message delivery must be off)");
  }
  const parsed = v.safeParse(snsMessageSchema, json);
  if (!parsed.success) throw new SnsVerificationError("body is not an SNS message");
  const message = parsed.output;
  if (messageTypeHeader && messageTypeHeader !== message.Type)
    throw new SnsVerificationError("message type header does not match the body");
  if (!verifier.topicArns.has(message.TopicArn)) throw new SnsVerificationError(`topic ${message.TopicArn} is not allowed`);
  const now = verifier.now?.() ?? Date.now();
  const at = Date.parse(message.Timestamp);
  if (at > now + MAX_SKEW_MS || at < now - MAX_AGE_MS) throw new SnsVerificationError("timestamp out of range");
  const certUrl = checkCertificateUrl(message.SigningCertURL);
  const key = await certificate(certUrl.toString(), verifier.fetchCertificate);
  const verifierFn = createVerify(message.SignatureVersion === "1" ? "RSA-SHA1" : "RSA-SHA256");
  verifierFn.update(stringToSign(message), "utf8");
  let valid = false;
  try {
    valid = verifierFn.verify(key, message.Signature, "base64");
  } catch {
    valid = false;
  }
  if (!valid) throw new SnsVerificationError("signature does not verify");
  return message;
}

/** Confirm a verified subscription: only an SNS endpoint URL is ever requested. */
export async function confirmSubscription(
  message: Extract<SnsMessage, { Type: "SubscriptionConfirmation" }>,
  get: (url: string) => Promise<void>,
) {
  const url = new URL(message.SubscribeURL);
  if (!isSnsHost(url)) throw new SnsVerificationError("SubscribeURL is not an SNS endpoint");
  await get(url.toString());
}

export const httpGet = async (url: string) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: "error" });
  if (!response.ok) throw new Error(`subscription confirmation answered ${response.status}`);
};
