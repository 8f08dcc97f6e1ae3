import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { waitUntilAnswering } from "../../src/api-ready";
import { s3MailReader } from "../../src/setup/inbound-mail";

/** An S3 GetObject body, as the SDK gives it (the part the reader uses). */
const body = (bytes: Buffer) => ({ transformToByteArray: async () => new Uint8Array(bytes) }) as never;

describe("the inbound bucket reader (S3 GetObject, mocked with aws-sdk-client-mock)", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());

  it("reads a stored message's bytes from the inbound bucket", async () => {
    const bytes = Buffer.from("From: a@b.c\r\nSubject: hi\r\n\r\nbody");
    s3.on(GetObjectCommand, { Bucket: "fluenzr-inbound", Key: "inbound/m1" }).resolves({
      Body: body(bytes),
      ContentLength: bytes.length,
    });
    const read = s3MailReader("fluenzr-inbound", new S3Client({ region: "us-east-1" }));
    expect(Buffer.from(await read({ bucket: "fluenzr-inbound", key: "inbound/m1" }))).toEqual(bytes);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: "fluenzr-inbound", Key: "inbound/m1" }]);
  });

  it("refuses another bucket, and objects larger than SES ever stores", async () => {
    const read = s3MailReader("fluenzr-inbound", new S3Client({ region: "us-east-1" }));
    await expect(read({ bucket: "someone-else", key: "inbound/m1" })).rejects.toThrow(/expected fluenzr-inbound: refused/);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    s3.on(GetObjectCommand).resolves({ Body: body(Buffer.from("x")), ContentLength: 41 * 1024 * 1024 });
    await expect(read({ bucket: "fluenzr-inbound", key: "inbound/big" })).rejects.toThrow(/over 40 MB/);
  });
});

describe("ApiReady: the deploy waits until the API answers before subscribing the webhooks", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** API Gateway's "Not Found" for the first `warmup` requests, then the app's OpenAPI document. */
  async function gateway(warmup: number) {
    let seen = 0;
    server = createServer((req, res) => {
      seen++;
      if (seen <= warmup || req.url !== "/v1/openapi.json") {
        res.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end('{"openapi":"3.1.0"}');
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("polls through API Gateway's Not Found until the app answers", async () => {
    const url = await gateway(3);
    const ready = await waitUntilAnswering({ url: `${url}/`, intervalMs: 10, timeoutMs: 5_000 });
    expect(ready.attempts).toBe(4);
  });

  it("fails the deploy, saying what it last saw, when the API never answers", async () => {
    const url = await gateway(1_000_000);
    await expect(waitUntilAnswering({ url, intervalMs: 10, timeoutMs: 200 })).rejects.toThrow(
      /did not answer within 0 s \(last: HTTP 404 \{"message":"Not Found"\}\)/,
    );
  });
});
