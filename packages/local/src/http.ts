import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { serve } from "@hono/node-server";

/**
 * The local server's HTTP layer: the Hono app on Node's HTTP server, safe for keep-alive
 * clients when a request is answered before its body was read (401 without a key, 404, 400 on
 * a bad header, 413 on a declared length over 1 MB, ...).
 *
 * @hono/node-server drains such a body for at most 500 ms and then closes the socket without
 * having said so: the client's next request on that connection gets no answer ("socket hang up",
 * "fetch failed"). Here instead, at the moment the response's head is written:
 *
 * - a body still arriving whose declared length is at most DRAIN_LIMIT_BYTES is drained (read
 *   and discarded once the response is sent; Node's request timeout bounds a slow client), and
 *   the connection stays usable;
 * - any other unread body (larger, or of unknown length) gets `Connection: close` on the
 *   response: the client knows to open a new connection; this one is half-closed after the
 *   response and read for at most LINGER_MS, so the client receives the response whole.
 */
export const DRAIN_LIMIT_BYTES = 4 * 1024 * 1024;

function unreadBody(req: IncomingMessage): boolean {
  if (req.complete || req.readableEnded) return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function drainable(req: IncomingMessage): boolean {
  const length = Number(req.headers["content-length"]);
  return req.headers["transfer-encoding"] === undefined && Number.isInteger(length) && length <= DRAIN_LIMIT_BYTES && !req.destroyed;
}

/** How long a connection closed on an unread body keeps reading (and discarding) before it is dropped. */
export const LINGER_MS = 2_000;

/** Read and discard the rest of a request body nobody will read (the app may have opened a stream on it). */
function discard(req: IncomingMessage) {
  req.removeAllListeners("data");
  req.on("data", () => {});
  req.on("error", () => {});
  req.resume();
}

export function keepAliveSafe(listener: RequestListener): RequestListener {
  return (req, res) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (!this.headersSent && unreadBody(req)) {
        if (drainable(req)) {
          this.once("finish", () => discard(req));
        } else {
          this.setHeader("Connection", "close");
          // Node closes the socket right after the response: with the client still sending, the
          // unread bytes would make the kernel reset the connection, and the client could lose
          // the response itself. Half-close instead, and read until the client stops (bounded).
          const socket = req.socket;
          socket.destroySoon = function (this: typeof socket) {
            discard(req);
            this.resume();
            this.end();
            const timer = setTimeout(() => this.destroy(), LINGER_MS);
            timer.unref();
            this.once("close", () => clearTimeout(timer));
          };
        }
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse["writeHead"];
    listener(req, res);
  };
}

export interface ServeOptions {
  fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  port: number;
  hostname: string;
}

export function serveApp(options: ServeOptions): Server {
  return serve({
    fetch: options.fetch,
    port: options.port,
    hostname: options.hostname,
    // Node's own handling drains what the response left unread (see above); the adapter's
    // 500 ms drain-then-close is what dropped keep-alive connections.
    autoCleanupIncoming: false,
    createServer: ((serverOptions: object, listener: RequestListener) =>
      createServer(serverOptions, keepAliveSafe(listener))) as unknown as typeof createServer,
  }) as Server;
}
