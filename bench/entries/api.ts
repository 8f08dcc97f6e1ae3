import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Workspace from "@fluenzr/core/workspace";
import { type BenchResult, freshDatabase, load, round, startServer } from "../lib";

/**
 * GET /v1/contacts/:id through the whole app (auth + rate limit in one round trip, then the
 * contact with its groups) against a bare Hono route doing one primary-key select with the same
 * driver, both in a child process, loaded at 50 connections from this one. Rounds alternate so
 * drift on a shared machine hits both alike; the best round of each is compared.
 */
export async function apiContactById(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_api");
  Database.install(db);
  const ws = await Workspace.create("Bench");
  const { key } = await Auth.createKey({ workspaceId: ws.id, name: "bench", rateLimit: 100_000_000 });
  const contact = await Actor.asWorkspace(ws.id, () =>
    Contact.create({ email: "bench@example.org", firstName: "Bench", customFields: { sector: "Fintech" } }),
  );
  await Actor.asWorkspace(ws.id, async () => {
    for (let i = 0; i < 2000; i++) await Contact.create({ email: `filler${i}@example.org` });
  });
  await db.pool.query("ANALYZE");
  await db.close();

  const env = { BENCH_DATABASE_URL: db.url };
  const path = `/v1/contacts/${contact.id}`;
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const best = {
    app: { rps: 0, p50: 0, p99: Infinity, errors: 0, non2xx: 0 },
    baseline: { rps: 0, p50: 0, p99: Infinity, errors: 0, non2xx: 0 },
  };
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["baseline", "app"] as const) {
      const server = await startServer(mode, env);
      try {
        await load({ url: server.url + path, connections: 50, seconds: 2, headers: { authorization: `Bearer ${key}` } });
        const result = await load({ url: server.url + path, connections: 50, seconds, headers: { authorization: `Bearer ${key}` } });
        if (result.non2xx || result.errors) throw new Error(`${mode}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        if (result.rps > best[mode].rps) best[mode] = result;
      } finally {
        await server.stop();
      }
    }
  }
  const ratio = best.app.rps / best.baseline.rps;
  return [
    {
      name: "api.get-contact",
      value: round(best.app.rps, 0),
      unit: "requests/s",
      baseline: round(best.baseline.rps, 0),
      ratio: round(ratio, 3),
      target: "ratio >= 0.5 of a bare Hono route doing one primary-key select (50 connections)",
      pass: ratio >= 0.5,
      p50Ms: best.app.p50,
      p99Ms: best.app.p99,
      baselineP99Ms: best.baseline.p99,
    },
    {
      name: "api.get-contact.p99",
      value: best.app.p99,
      unit: "ms",
      target: "p99 < 25 ms at 50 connections",
      pass: best.app.p99 < 25,
    },
  ];
}
