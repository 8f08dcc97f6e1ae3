import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The local server (`npm start`, a real child process) on keep-alive connections: a request
 * rejected before its body is read (401, 404, 400, 413) must not cost the client its next
 * request on the same connection. The server either drains the body (the connection stays
 * usable) or says `Connection: close` (the client opens another). Checked with raw sockets, where
 * every byte is visible, and with Node's keep-alive Agent, a real client.
 */

const ROOT = join(import.meta.dirname, "../../..");
const KEY = "flz_sk_KeepAliveTestKey0123456789ABCDEF";
const BAD_KEY = "flz_sk_KeepAliveTestKey0123456789ABCDEX";

let server: ChildProcess;
let port: number;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fluenzr-keepalive-"));
  server = spawn(process.execPath, ["--import", "tsx", "packages/local/src/main.ts"], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", LOCAL_SES_PORT: "0", DATA_DIR: dataDir, BOOTSTRAP_API_KEY: KEY, DATABASE_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 90_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /API\s+http:\/\/localhost:(\d+)\/v1/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    server.stdout!.on("data", read);
    server.stderr!.on("data", read);
    server.once("exit", (code) => reject(new Error(`the server exited (${code}):\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

interface Rejection {
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  bytes: number;
  status: number;
}

const json = { "content-type": "application/json" };
const REJECTIONS: Rejection[] = [
  { what: "401 without a key", method: "POST", path: "/v1/contacts", headers: json, bytes: 200_000, status: 401 },
  {
    what: "401 with a bad key",
    method: "POST",
    path: "/v1/contacts",
    headers: { ...json, authorization: `Bearer ${BAD_KEY}` },
    bytes: 200_000,
    status: 401,
  },
  {
    what: "404 for an unknown route",
    method: "POST",
    path: "/v1/nowhere",
    headers: { ...json, authorization: `Bearer ${KEY}` },
    bytes: 200_000,
    status: 404,
  },
  {
    what: "400 for a bad Idempotency-Key",
    method: "POST",
    path: "/v1/campaigns",
    headers: { ...json, authorization: `Bearer ${KEY}`, "idempotency-key": "not a key" },
    bytes: 200_000,
    status: 400,
  },
  {
    what: "413 for a body over 1 MB",
    method: "POST",
    path: "/v1/contacts",
    headers: { ...json, authorization: `Bearer ${KEY}` },
    bytes: 2_000_000,
    status: 413,
  },
  {
    what: "413 for a body of 8 MB",
    method: "POST",
    path: "/v1/contacts",
    headers: { ...json, authorization: `Bearer ${KEY}` },
    bytes: 8_000_000,
    status: 413,
  },
];

/** A JSON body of `bytes` bytes (valid JSON: the rejection must not depend on it being broken). */
function body(bytes: number): Buffer {
  const text = `{"email":"a@example.org","notes":"${"x".repeat(bytes - 36)}"}`;
  return Buffer.from(text.padEnd(bytes, " "));
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
}

/** Reads HTTP/1.1 responses off a raw socket, as they come. */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting?: () => void;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on("data", (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiting?.();
    });
    socket.on("error", () => {});
  }

  static open(): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  send(method: string, path: string, headers: Record<string, string>, payload?: Buffer) {
    const lines = [`${method} ${path} HTTP/1.1`, `host: 127.0.0.1:${port}`, "connection: keep-alive"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (payload) lines.push(`content-length: ${payload.length}`);
    this.socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (payload) this.socket.write(payload);
  }

  /** The next response (status and headers; its body skipped), or undefined if the socket closed first. */
  async response(timeoutMs = 10_000): Promise<RawResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const [statusLine, ...lines] = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(":");
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers["content-length"] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status: Number(statusLine!.split(" ")[1]), headers };
        }
      }
      if (this.closed || Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 50);
      });
    }
  }
}

describe("early rejections on a keep-alive connection", () => {
  it.each(REJECTIONS.map((r) => [r.what, r] as const))("raw socket: %s, then the next request", async (_, r) => {
    const connection = await RawConnection.open();
    try {
      connection.send(r.method, r.path, r.headers, body(r.bytes));
      const first = await connection.response();
      expect(first?.status).toBe(r.status);
      if (first!.headers.connection?.toLowerCase() === "close") {
        // Announced: the client knows to open another connection. The server must then close this one.
        connection.send("GET", "/v1/contacts", { authorization: `Bearer ${KEY}` });
        expect(await connection.response(5_000)).toBeUndefined();
        expect(connection.closed).toBe(true);
        return;
      }
      // Not announced: the connection must still answer.
      connection.send("GET", "/v1/contacts", { authorization: `Bearer ${KEY}` });
      const second = await connection.response();
      expect(second?.status, "the next request on the connection got no answer").toBe(200);
    } finally {
      connection.socket.destroy();
    }
  });

  it("a keep-alive client (Node's http.Agent) gets an answer to every request after each rejection", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const request = (method: string, path: string, headers: Record<string, string>, payload?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode!));
        });
        req.on("error", reject);
        req.end(payload);
      });
    const statuses: number[] = [];
    try {
      for (const r of REJECTIONS) {
        statuses.push(await request(r.method, r.path, r.headers, body(r.bytes)));
        for (let i = 0; i < 3; i++) statuses.push(await request("GET", "/v1/contacts", { authorization: `Bearer ${KEY}` }));
      }
    } finally {
      agent.destroy();
    }
    expect(statuses).toEqual(REJECTIONS.flatMap((r) => [r.status, 200, 200, 200]));
  });

  it("a fetch client (undici, keep-alive by default) gets an answer to every request after each rejection", async () => {
    const base = `http://127.0.0.1:${port}`;
    const statuses: number[] = [];
    for (const r of REJECTIONS) {
      const res = await fetch(base + r.path, { method: r.method, headers: r.headers, body: body(r.bytes) });
      await res.arrayBuffer();
      statuses.push(res.status);
      for (let i = 0; i < 3; i++) {
        const next = await fetch(`${base}/v1/contacts`, { headers: { authorization: `Bearer ${KEY}` } });
        await next.arrayBuffer();
        statuses.push(next.status);
      }
    }
    expect(statuses).toEqual(REJECTIONS.flatMap((r) => [r.status, 200, 200, 200]));
  });
});
