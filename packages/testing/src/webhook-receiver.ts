import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP endpoint for outbound webhooks: it records every request (headers and the raw
 * body, byte for byte) and answers what the test tells it to, by default 200.
 */
export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The most requests it was answering at once. */
  maxInFlight: number;
  /** The status (and body) of the next answers; a function sees each request. */
  respond(answer: number | ((request: Received) => number | { status: number; body?: string; delayMs?: number })): void;
  /** Wait until `n` requests arrived (or throw after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let answer: Parameters<Receiver["respond"]>[0] = 200;
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server: Server = createServer((req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    res.on("finish", () => inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = { headers: req.headers, raw: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(request);
      const result = typeof answer === "number" ? answer : answer(request);
      const { status, body, delayMs } = typeof result === "number" ? { status: result, body: undefined, delayMs: 0 } : result;
      const send = () => {
        res.writeHead(status, { "content-type": "text/plain" });
        res.end(body ?? (status < 300 ? "ok" : `status ${status}`));
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get maxInFlight() {
      return state.maxInFlight;
    },
    set maxInFlight(value: number) {
      state.maxInFlight = value;
    },
    respond(next) {
      answer = next;
    },
    async waitFor(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`receiver got ${received.length} requests, expected ${n}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
