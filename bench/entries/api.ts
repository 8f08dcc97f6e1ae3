import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Workspace from "@fluenzr/core/workspace";
import { createApp } from "@fluenzr/functions/api/app";
import { startWsProxy } from "@fluenzr/testing/ws-proxy";
import { type BenchResult, freshDatabase, type LoadResult, load, round, sequential, startServer } from "../lib";

const WORKFLOW = {
  nodes: [
    { id: "s", type: "start" },
    { id: "e1", type: "email", data: { subject: "{{firstName}}, quick question", body: "Hello {{firstName}} at {{company}}." } },
    { id: "d", type: "delay", data: { days: 3, businessDays: true } },
    { id: "e2", type: "email", data: { subject: "Following up", body: "{{firstName}}, following up." } },
    { id: "end", type: "end" },
  ],
  edges: [
    { from: "s", to: "e1" },
    { from: "e1", to: "d" },
    { from: "d", to: "e2" },
    { from: "e2", to: "end" },
  ],
} as const;

/** Added to each direction by the WebSocket proxy: a Lambda a couple of milliseconds from Neon. */
const LATENCY_MS = 2;

/**
 * Reads through the whole app (auth, rate limit and the resource in ONE statement, the answer's
 * JSON rendered by PostgreSQL: core database/render.ts) against bare
 * Hono routes doing one primary-key select with the same driver, both in a child process,
 * loaded at 50 connections from this one. `GET /v1/campaigns/:id` (workflow and counters
 * included) and `GET /v1/contacts/:id` (with its groups). Rounds alternate baseline and app so
 * drift on a shared machine hits both alike; the best round of each is compared.
 *
 * Then as production sees it: the Neon driver over a WebSocket proxy adding 2 ms each way, one
 * request at a time, where each round trip costs 4 ms: an authenticated read should take one
 * round trip and little else (p50 < 4 + 3 ms). `roundTrips` is counted in-process by the driver.
 */
export async function apiReads(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_api");
  Database.install(db);
  EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
  const ws = await Workspace.create("Bench");
  const { key } = await Auth.createKey({ workspaceId: ws.id, name: "bench", rateLimit: 100_000_000 });
  const { contact, campaign } = await Actor.asWorkspace(ws.id, async () => {
    const account = await EmailAccount.create({ email: "bench@example.com", name: "Bench" });
    const contact = await Contact.create({ email: "bench@example.org", firstName: "Bench", customFields: { sector: "Fintech" } });
    for (let i = 0; i < 2000; i++) await Contact.create({ email: `filler${i}@example.org` });
    let campaign: Campaign.Campaign | undefined;
    for (let i = 0; i < 200; i++) {
      const created = await Campaign.create({ name: `Campaign ${i}`, emailAccountId: account.id, workflow: WORKFLOW as never });
      if (i === 100) campaign = created;
    }
    return { contact, campaign: campaign! };
  });
  await db.pool.query("ANALYZE");
  const headers = { authorization: `Bearer ${key}` };
  const paths = { campaign: `/v1/campaigns/${campaign.id}`, contact: `/v1/contacts/${contact.id}` };
  const roundTrips = await countRoundTrips({ ...paths, stats: `${paths.campaign}/stats`, list: "/v1/campaigns?perPage=20" }, headers);
  await db.close();

  const env = { BENCH_DATABASE_URL: db.url };
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  type Mode = "baseline" | "app";
  const best: Record<keyof typeof paths, Record<Mode, LoadResult>> = {
    campaign: { baseline: emptyResult(), app: emptyResult() },
    contact: { baseline: emptyResult(), app: emptyResult() },
  };
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["baseline", "app"] as const) {
      const server = await startServer(mode, env);
      try {
        for (const [resource, path] of Object.entries(paths) as [keyof typeof paths, string][]) {
          await load({ url: server.url + path, connections: 50, seconds: 2, headers });
          const result = await load({ url: server.url + path, connections: 50, seconds, headers });
          if (result.non2xx || result.errors) throw new Error(`${mode} ${path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
          if (result.rps > best[resource][mode].rps) best[resource] = { ...best[resource], [mode]: result };
        }
      } finally {
        await server.stop();
      }
    }
  }

  // Through Neon's driver with 2 ms each way: one request at a time, the app and the bare route.
  const proxy = await startWsProxy({ latencyMs: LATENCY_MS });
  const remote: Record<Mode, LoadResult> = { baseline: emptyResult(), app: emptyResult() };
  try {
    for (const mode of ["baseline", "app"] as const) {
      const server = await startServer(mode, { ...env, BENCH_WS_PROXY: proxy.address });
      try {
        await sequential(server.url + paths.campaign, headers, 2);
        remote[mode] = await sequential(server.url + paths.campaign, headers, Math.max(4, seconds / 2));
      } finally {
        await server.stop();
      }
    }
  } finally {
    await proxy.close();
  }
  return [
    ...report("api.get-campaign", best.campaign, roundTrips.campaign!),
    ...report("api.get-contact", best.contact, roundTrips.contact!),
    {
      name: "api.round-trips",
      value: Math.max(...Object.values(roundTrips)),
      unit: "round trips per request",
      target: "1 for each hot read (get campaign, get contact, campaign stats, list campaigns)",
      pass: Object.values(roundTrips).every((n) => n <= 1.01),
      ...roundTrips,
    },
    {
      name: "api.get-campaign.neon-2ms",
      value: remote.app.p50,
      unit: "ms (p50, one connection)",
      baseline: remote.baseline.p50,
      // One round trip as this machine's proxy delivers it: the bare route's p50 (one select through
      // the same proxy and driver), never less than the nominal 2 x LATENCY_MS. The proxy's timers
      // and the driver's own packets make it 7-8 ms here, not 4: against the nominal figure the
      // bare route itself would fail.
      target: `p50 < 1 round trip + 3 ms through Neon's driver with ${LATENCY_MS} ms added each way (one round trip: the bare route's p50, at least ${2 * LATENCY_MS} ms)`,
      pass: remote.app.p50 < Math.max(2 * LATENCY_MS, remote.baseline.p50) + 3,
      p99Ms: remote.app.p99,
      rps: round(remote.app.rps, 0),
      baselineRps: round(remote.baseline.rps, 0),
    },
  ];
}

/** Round trips per request of each hot read, counted by the driver over 200 requests (in-process). */
async function countRoundTrips(paths: Record<string, string>, headers: Record<string, string>): Promise<Record<string, number>> {
  const app = createApp();
  const counted: Record<string, number> = {};
  for (const [name, path] of Object.entries(paths)) {
    await app.request(path, { headers }); // opens the key's rate-limit minute
    const before = Database.roundTrips();
    for (let i = 0; i < 200; i++) {
      const res = await app.request(path, { headers });
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      await res.arrayBuffer();
    }
    counted[name] = round((Database.roundTrips() - before) / 200, 3);
  }
  return counted;
}

function emptyResult(): LoadResult {
  return { rps: 0, p50: 0, p99: Infinity, errors: 0, non2xx: 0 };
}

function report(name: string, { app, baseline }: { app: LoadResult; baseline: LoadResult }, roundTrips: number): BenchResult[] {
  const ratio = app.rps / baseline.rps;
  return [
    {
      name,
      value: round(app.rps, 0),
      unit: "requests/s",
      baseline: round(baseline.rps, 0),
      ratio: round(ratio, 3),
      target: "ratio >= 0.7 of a bare Hono route doing one primary-key select (50 connections)",
      pass: ratio >= 0.7,
      roundTrips,
      p50Ms: app.p50,
      p99Ms: app.p99,
      baselineP99Ms: baseline.p99,
    },
    {
      name: `${name}.p99`,
      value: app.p99,
      unit: "ms",
      target: "p99 < 25 ms at 50 connections",
      pass: app.p99 < 25,
    },
  ];
}
