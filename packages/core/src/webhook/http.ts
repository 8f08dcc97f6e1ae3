import { createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import * as Address from "./address";
import { ATTEMPT_TIMEOUT_MS, USER_AGENT } from "./events";

/**
 * One HTTP attempt: the signed POST of an event's body to a subscription's URL. Redirects are
 * not followed (a 3xx is an answer like any other); the attempt gives up after 10 seconds; at most
 * the first 1 KB of the answer is kept. Connections are kept alive between attempts.
 */

export interface Outcome {
  /** The endpoint's status, or null when there was none (refused, timeout, connection error). */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBodyPreview: string | null;
  /** The URL or the address it resolved to is not allowed: no request was made. */
  refused?: boolean;
}

/** `sha256=<hex>` of `<timestamp>.<body>` under each secret, comma-separated, newest first. */
export function signature(secrets: readonly string[], timestamp: number, body: string): string {
  return secrets.map((secret) => `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`).join(",");
}

export interface Request {
  url: string;
  body: string;
  eventId: string;
  eventType: string;
  /** Newest first. */
  secrets: readonly string[];
  /** Unix seconds. */
  timestamp: number;
}

const PREVIEW_BYTES = 1024;
const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** A URL's form checked once per policy (addresses are checked again on each new connection). */
const forms = new Map<string, { url: URL; refused?: string }>();

function checked(raw: string): { url: URL; refused?: string } {
  const key = `${Address.current()} ${raw}`;
  let found = forms.get(key);
  if (!found) {
    let refused = Address.urlRefusal(raw);
    const url = refused ? new URL("http://invalid.invalid") : new URL(raw);
    const literal = url.hostname.replace(/^\[|\]$/g, "");
    if (!refused && isIP(literal)) refused = Address.refusal(literal);
    found = refused ? { url, refused } : { url };
    if (forms.size > 10_000) forms.clear();
    forms.set(key, found);
  }
  return found;
}

export async function post(request: Request): Promise<Outcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const { url, refused } = checked(request.url);
  if (refused) return { statusCode: null, durationMs: 0, error: `URL refused: ${refused}`, responseBodyPreview: null, refused: true };
  const payload = Buffer.from(request.body);
  const client = url.protocol === "https:" ? https : http;
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<Outcome, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: elapsed() });
    };
    const req = client.request(
      url,
      {
        method: "POST",
        agent: agents[url.protocol as "http:" | "https:"],
        lookup: Address.guardedLookup,
        headers: {
          "content-type": "application/json",
          "content-length": payload.length,
          "user-agent": USER_AGENT,
          "x-fluenzr-signature": signature(request.secrets, request.timestamp, request.body),
          "x-fluenzr-timestamp": String(request.timestamp),
          "x-fluenzr-event-id": request.eventId,
          "x-fluenzr-event-type": request.eventType,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish({
            statusCode: res.statusCode ?? null,
            error: null,
            responseBodyPreview: Buffer.concat(chunks).subarray(0, PREVIEW_BYTES).toString("utf8"),
          });
        res.on("data", (chunk: Buffer) => {
          if (size < PREVIEW_BYTES) chunks.push(chunk);
          size += chunk.length;
          // Enough for the preview: stop reading (the connection is not reused then).
          if (size > 64 * 1024) {
            done();
            res.destroy();
          }
        });
        res.on("end", done);
        res.on("error", done);
      },
    );
    const timer = setTimeout(() => {
      finish({ statusCode: null, error: `timed out after ${ATTEMPT_TIMEOUT_MS / 1000} s`, responseBodyPreview: null });
      req.destroy();
    }, ATTEMPT_TIMEOUT_MS);
    req.on("error", (error: Error & { code?: string }) => {
      const isRefused = error instanceof Address.RefusedAddressError || error.code === "EWEBHOOKREFUSED";
      finish({
        statusCode: null,
        error: isRefused ? `URL refused: ${error.message}` : `connection failed: ${error.code ?? error.message}`,
        responseBodyPreview: null,
        ...(isRefused ? { refused: true } : {}),
      });
    });
    req.end(payload);
  });
}
