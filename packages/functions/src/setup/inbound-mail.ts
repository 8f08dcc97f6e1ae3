import type { S3Client } from "@aws-sdk/client-s3";
import type { InboundMail } from "@fluenzr/core/tracking";

/** Largest message SES receives (40 MB); anything bigger in the bucket is not a received mail. */
const MAX_BYTES = 40 * 1024 * 1024;

/**
 * Reads received replies from the inbound bucket (infra/inbound.ts), and only from it: a
 * notification naming another bucket is refused. The S3 client is loaded on first use, so the
 * API's cold start does not pay for it.
 */
export function s3MailReader(bucket: string, client?: S3Client): InboundMail.MailReader {
  let s3: Promise<{ client: S3Client; GetObjectCommand: typeof import("@aws-sdk/client-s3").GetObjectCommand }> | undefined;
  const load = () => {
    s3 ??= import("@aws-sdk/client-s3").then((m) => ({ client: client ?? new m.S3Client({}), GetObjectCommand: m.GetObjectCommand }));
    return s3;
  };
  return async ({ bucket: named, key }) => {
    if (named !== bucket) throw new Error(`inbound message in bucket ${named}, expected ${bucket}: refused`);
    const { client: c, GetObjectCommand } = await load();
    const object = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if ((object.ContentLength ?? 0) > MAX_BYTES) throw new Error(`inbound message ${key} is ${object.ContentLength} bytes, over 40 MB`);
    if (!object.Body) throw new Error(`inbound message ${key} has no body`);
    return object.Body.transformToByteArray();
  };
}
