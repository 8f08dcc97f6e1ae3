import * as v from "valibot";

/**
 * Where an SES inbound notification's message is. With the S3 action (infra/inbound.ts) SES
 * stores the whole message in a bucket and the notification only says where (`receipt.action`
 * `{ type: "S3", bucketName, objectKey }`): no 150 KB cap, bytes untouched. With an SNS action
 * the message is inline in `content`, either as text (`UTF8`, which re-encodes other charsets)
 * or `BASE64` (the exact bytes). The whole MIME is then parsed (replies.ts, postal-mime).
 */

export interface StoredMail {
  bucket: string;
  key: string;
}

/** Reads a stored message's bytes (functions: S3 GetObject, restricted to the inbound bucket). */
export type MailReader = (location: StoredMail) => Promise<Uint8Array>;

let reader: MailReader | undefined;

export function install(next: MailReader | undefined): void {
  reader = next;
}

const action = v.object({
  type: v.string(),
  encoding: v.optional(v.string()),
  bucketName: v.optional(v.string()),
  objectKey: v.optional(v.string()),
});

const notification = v.object({
  receipt: v.optional(v.object({ action: v.optional(action) })),
  content: v.optional(v.string()),
});

export class InboundMailError extends Error {
  override name = "InboundMailError";
}

/**
 * The raw message (RFC 5322 bytes, or text for a UTF-8 SNS action) of a notification, or
 * undefined when it carries none (nothing to parse). Throws InboundMailError when the message
 * is stored but cannot be read (the webhook answers 5xx and SNS retries the delivery).
 */
export async function rawMessage(input: unknown): Promise<string | Uint8Array | undefined> {
  const parsed = v.safeParse(notification, input);
  if (!parsed.success) return undefined;
  const { receipt, content } = parsed.output;
  const act = receipt?.action;
  if (content !== undefined && content !== "") {
    return act?.encoding?.toUpperCase() === "BASE64" ? new Uint8Array(Buffer.from(content, "base64")) : content;
  }
  if (act?.type === "S3" && act.bucketName && act.objectKey) {
    if (!reader) throw new InboundMailError("a stored inbound message arrived, but no mail reader is installed");
    return reader({ bucket: act.bucketName, key: act.objectKey });
  }
  return undefined;
}
