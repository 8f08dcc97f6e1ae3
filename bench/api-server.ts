import { campaignTable } from "@fluenzr/core/campaign";
import { contactTable } from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import { createApp } from "@fluenzr/functions/api/app";
import { serve } from "@hono/node-server";
import { eq, sql } from "drizzle-orm";
import { Hono } from "hono";
import ws from "ws";

/**
 * The process under load in the API bench. `app`: the whole app (auth, rate limit, logging,
 * validation, envelopes). `baseline`: bare Hono routes, each doing one primary-key select with
 * the same driver, pool and technique (a named prepared statement, as the app's hot reads use).
 */
const mode = process.argv[2];
const url = process.env.BENCH_DATABASE_URL!;
const max = Number(process.env.BENCH_POOL ?? 20);
// BENCH_WS_PROXY: through Neon's serverless driver and a WebSocket proxy (with its added latency).
const handle = process.env.BENCH_WS_PROXY
  ? createNeonDatabase(url, { wsProxy: process.env.BENCH_WS_PROXY, webSocketConstructor: ws, max })
  : createPgDatabase(url, { max });
Database.install(handle);

let fetch: (request: Request) => Response | Promise<Response>;
if (mode === "baseline") {
  const bare = new Hono();
  const contactById = handle.db
    .select()
    .from(contactTable)
    .where(eq(contactTable.id, sql.placeholder("id")))
    .prepare("baseline_contact");
  const campaignById = handle.db
    .select()
    .from(campaignTable)
    .where(eq(campaignTable.id, sql.placeholder("id")))
    .prepare("baseline_campaign");
  bare.get("/v1/contacts/:id", async (c) => {
    const [row] = await contactById.execute({ id: c.req.param("id") });
    return row ? c.json({ success: true, data: row }) : c.json({ success: false }, 404);
  });
  bare.get("/v1/campaigns/:id", async (c) => {
    const [row] = await campaignById.execute({ id: c.req.param("id") });
    return row ? c.json({ success: true, data: row }) : c.json({ success: false }, 404);
  });
  fetch = bare.fetch;
} else {
  fetch = createApp().fetch;
}

const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
process.on("SIGTERM", () => {
  server.close();
  void handle.close().then(() => process.exit(0));
});
