import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Workspace from "@fluenzr/core/workspace";
import { type BenchResult, freshDatabase, type LoadResult, load, round, startServer } from "../lib";

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

/**
 * Reads through the whole app (auth + rate limit in one round trip, then the resource) against
 * bare Hono routes doing one primary-key select with the same driver, both in a child process,
 * loaded at 50 connections from this one. `GET /v1/campaigns/:id` is ARCHITECTURE.md's target
 * (its workflow and counters included); `GET /v1/contacts/:id` is measured alike. Rounds
 * alternate baseline and app so drift on a shared machine hits both alike; the best round of
 * each is compared.
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
  await db.close();

  const env = { BENCH_DATABASE_URL: db.url };
  const headers = { authorization: `Bearer ${key}` };
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const paths = { campaign: `/v1/campaigns/${campaign.id}`, contact: `/v1/contacts/${contact.id}` };
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
  // Campaigns: ARCHITECTURE.md's target; contacts: the foundation issue's (the contact read also
  // gathers its groups, which the bare route does not).
  return [...report("api.get-campaign", best.campaign), ...report("api.get-contact", best.contact)];
}

function emptyResult(): LoadResult {
  return { rps: 0, p50: 0, p99: Infinity, errors: 0, non2xx: 0 };
}

function report(name: string, { app, baseline }: { app: LoadResult; baseline: LoadResult }): BenchResult[] {
  const ratio = app.rps / baseline.rps;
  return [
    {
      name,
      value: round(app.rps, 0),
      unit: "requests/s",
      baseline: round(baseline.rps, 0),
      ratio: round(ratio, 3),
      target: "ratio >= 0.5 of a bare Hono route doing one primary-key select (50 connections)",
      pass: ratio >= 0.5,
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
