import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Workspace from "@fluenzr/core/workspace";
import { createApp } from "@fluenzr/functions/api/app";
import { startWsProxy } from "@fluenzr/testing/ws-proxy";
import ws from "ws";
import { type BenchResult, freshDatabase, median, round } from "../lib";

/** Added to each direction by the WebSocket proxy: a Lambda a couple of milliseconds from Neon. */
const LATENCY_MS = 2;

/**
 * Round trips of the writes #16's second pass changed, before it (main, 4 December; node-postgres
 * and Neon's driver alike), printed beside the figures measured: docs/decisions.md, "A write's key
 * rides on its first statement".
 */
const BEFORE: Record<string, number> = {
  createContactIdempotent: 9,
  addContactTags: 3,
  createGroup: 2,
  createCampaign: 3,
  startCampaign: 11,
};

type Call = (method: string, path: string, body: unknown, headers?: Record<string, string>) => Promise<{ id: string }>;

/**
 * The common writes, each a function of a counter `i` (a write that creates takes new values).
 * Each is called once per measurement, in this order: later ones use what earlier ones made.
 */
function writes(emailAccountId: string) {
  const made = { contact: "", campaign: "", group: "" };
  return {
    createContact: async (call: Call, i: number) => {
      made.contact = (await call("POST", "/v1/contacts", { email: `writes${i}@example.org`, firstName: "W" })).id;
    },
    /** The same, sent with an `Idempotency-Key` (its record, then its completion: two more). */
    createContactIdempotent: (call: Call, i: number) =>
      call("POST", "/v1/contacts", { email: `writes-idem${i}@example.org` }, { "idempotency-key": `writes-${i}-${Math.random()}` }),
    updateContact: (call: Call) => call("PUT", `/v1/contacts/${made.contact}`, { firstName: "X" }),
    addContactTags: (call: Call) => call("POST", `/v1/contacts/${made.contact}/tags`, { tags: ["bench"] }),
    createGroup: async (call: Call, i: number) => {
      made.group = (await call("POST", "/v1/groups", { name: `Writes ${i}` })).id;
    },
    addContactGroups: (call: Call) => call("POST", `/v1/contacts/${made.contact}/groups`, { groupIds: [made.group] }),
    createCampaign: async (call: Call, i: number) => {
      made.campaign = (await call("POST", "/v1/campaigns", { name: `Writes ${i}`, emailAccountId, workflow: WORKFLOW })).id;
    },
    updateCampaign: (call: Call) => call("PUT", `/v1/campaigns/${made.campaign}`, { name: "Writes 2" }),
    addCampaignContacts: (call: Call) => call("POST", `/v1/campaigns/${made.campaign}/contacts`, { contactIds: [made.contact] }),
    startCampaign: (call: Call) => call("POST", `/v1/campaigns/${made.campaign}/start`, undefined),
    pauseCampaign: (call: Call) => call("POST", `/v1/campaigns/${made.campaign}/pause`, undefined),
    deleteContact: (call: Call) => call("DELETE", `/v1/contacts/${made.contact}`, undefined),
  };
}

const WORKFLOW = {
  nodes: [
    { id: "s", type: "start" },
    { id: "e1", type: "email", data: { subject: "Hello {{firstName}}", body: "Hello {{firstName}}." } },
    { id: "end", type: "end" },
  ],
  edges: [
    { from: "s", to: "e1" },
    { from: "e1", to: "end" },
  ],
};

/**
 * Round trips and latency of the common writes through the whole app, in process. Round trips
 * are counted by the driver (node-postgres, then Neon's); latency is one write at a time through
 * Neon's driver over a WebSocket proxy adding 2 ms each way (each round trip costs 4 ms), the
 * median of `BENCH_WRITES` (default 40) of each.
 */
export async function writeRoundTrips(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_writes");
  Database.install(db);
  EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
  const workspace = await Workspace.create("Bench");
  const { key } = await Auth.createKey({ workspaceId: workspace.id, name: "bench", rateLimit: 100_000_000 });
  const account = await Actor.asWorkspace(workspace.id, async () => {
    for (let i = 0; i < 200; i++) await Contact.create({ email: `filler${i}@example.org` });
    return EmailAccount.create({ email: "bench@example.com", name: "Bench" });
  });
  await db.pool.query("ANALYZE");
  const app = createApp();
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const call: Call = async (method, path, body, extra) => {
    const res = await app.request(path, {
      method,
      headers: { ...headers, ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: { id: string } }).data;
  };
  // Any request opens the key's rate-limit minute first: its roll is not the write's.
  const opened = () => app.request("/v1/groups", { headers });

  const counts = async (prefix: string, i: number): Promise<Record<string, number>> => {
    const counted: Record<string, number> = {};
    for (const [name, write] of Object.entries(writes(account.id))) {
      await opened();
      const before = Database.roundTrips();
      await write(call, i);
      counted[name] = Database.roundTrips() - before;
    }
    return Object.fromEntries(Object.entries(counted).map(([name, n]) => [`${prefix}${name}`, n]));
  };
  const pg = await counts("pg.", 0);
  await db.close();

  const proxy = await startWsProxy({ latencyMs: LATENCY_MS });
  const neon = createNeonDatabase(db.url, { wsProxy: proxy.address, webSocketConstructor: ws, max: 4 });
  Database.install(neon);
  const times = Object.fromEntries(Object.keys(writes(account.id)).map((name) => [name, [] as number[]]));
  let neonCounts: Record<string, number> = {};
  try {
    neonCounts = await counts("neon.", 1);
    const n = Number(process.env.BENCH_WRITES ?? 40);
    for (let i = 1; i <= n; i++) {
      for (const [name, write] of Object.entries(writes(account.id))) {
        await opened();
        const started = performance.now();
        await write(call, 1000 + i);
        times[name]!.push(performance.now() - started);
      }
    }
  } finally {
    await neon.close();
    await proxy.close();
  }
  const p50 = Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, round(median(ms), 1)]));
  return [
    {
      name: "api.write-round-trips",
      value: Math.max(...Object.values(pg)),
      unit: "round trips per request (most of the writes below)",
      target: "the statements of each write's transaction (BEGIN and COMMIT included), none for the key alone",
      pass: true,
      ...pg,
      ...neonCounts,
      before: Object.fromEntries(Object.entries(BEFORE).map(([name, n]) => [name, `${n} → ${pg[`pg.${name}`]}`])),
    },
    {
      name: "api.write-latency.neon-2ms",
      value: Math.max(...Object.values(p50)),
      unit: `ms (p50 of each write, one at a time, Neon's driver with ${LATENCY_MS} ms added each way)`,
      target: "reported: about 4 ms per round trip plus the app's own time",
      pass: true,
      ...p50,
    },
  ];
}
