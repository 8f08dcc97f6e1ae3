import { type AddressInfo, connect } from "node:net";
import { WebSocketServer } from "ws";

/**
 * What Neon's edge does for its serverless driver, reduced to the bytes: each WebSocket
 * (`/v1?address=host:port`) is relayed to a TCP connection to PostgreSQL.
 */
export interface WsProxy {
  address: string;
  connections: () => number;
  /**
   * What a thawed Lambda finds after Neon suspended an idle compute: every connection open now
   * is dead, unnoticed by the client until it writes. The database session ends at once; the
   * client's next message is dropped and its WebSocket closed (the statement never arrives).
   */
  killOpenConnections(): number;
  close(): Promise<void>;
}

export interface WsProxyOptions {
  /**
   * Added to every message in each direction, in milliseconds: a round trip costs twice this
   * (a Lambda a few milliseconds from Neon). Order is kept: equal delays fire in order.
   */
  latencyMs?: number;
}

export async function startWsProxy(options: WsProxyOptions = {}): Promise<WsProxy> {
  const latency = options.latencyMs ?? 0;
  const later = (send: () => void) => (latency > 0 ? setTimeout(send, latency) : send());
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  let connections = 0;
  const open = new Set<{ kill(): void }>();
  server.on("connection", (socket, request) => {
    connections++;
    const target = new URL(request.url ?? "", "http://proxy").searchParams.get("address") ?? "127.0.0.1:5432";
    const [host, port] = target.split(":");
    const tcp = connect(Number(port), host);
    let dead = false;
    const entry = {
      kill() {
        dead = true;
        tcp.removeAllListeners("close");
        tcp.on("close", () => {});
        tcp.destroy();
      },
    };
    open.add(entry);
    socket.on("close", () => open.delete(entry));
    socket.on("message", (data: Buffer) => {
      if (dead) {
        socket.terminate();
        return;
      }
      later(() => tcp.write(data));
    });
    tcp.on("data", (data) => later(() => socket.send(data)));
    socket.on("close", () => tcp.end());
    tcp.on("close", () => socket.close());
    tcp.on("error", () => socket.close());
    socket.on("error", () => tcp.destroy());
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    connections: () => connections,
    killOpenConnections() {
      const killed = open.size;
      for (const entry of open) entry.kill();
      open.clear();
      return killed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
