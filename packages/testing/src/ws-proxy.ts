import { type AddressInfo, connect } from "node:net";
import { WebSocketServer } from "ws";

/**
 * What Neon's edge does for its serverless driver, reduced to the bytes: each WebSocket
 * (`/v1?address=host:port`) is relayed to a TCP connection to PostgreSQL.
 */
export async function startWsProxy(): Promise<{ address: string; connections: () => number; close(): Promise<void> }> {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  let connections = 0;
  server.on("connection", (socket, request) => {
    connections++;
    const target = new URL(request.url ?? "", "http://proxy").searchParams.get("address") ?? "127.0.0.1:5432";
    const [host, port] = target.split(":");
    const tcp = connect(Number(port), host);
    socket.on("message", (data: Buffer) => tcp.write(data));
    tcp.on("data", (data) => socket.send(data));
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
