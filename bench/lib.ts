import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import autocannon from "autocannon";
import pg from "pg";

/** What every bench entry prints: one JSON object per line. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  target: string;
  pass: boolean;
  [extra: string]: unknown;
}

export function print(result: BenchResult) {
  console.log(JSON.stringify(result));
}

export const ADMIN_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function urlFor(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh, migrated database for one bench entry. */
export async function freshDatabase(name: string) {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const handle = createPgDatabase(urlFor(name), { max: 20 });
  await handle.migrate();
  return { ...handle, url: urlFor(name) };
}

/**
 * Start bench/api-server.ts in a child process (its own core, like a separate Lambda host).
 * BENCH_NODE_FLAGS adds flags to its node (`--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
 */
export async function startServer(
  mode: "app" | "baseline",
  env: Record<string, string>,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const script = fileURLToPath(new URL("./api-server.ts", import.meta.url));
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(" ") ?? []), "--import", "tsx", script, mode], {
    env: { ...process.env, LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(options: {
  url: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The plan's top node and whether any node is a sequential scan (EXPLAIN, JSON format). */
export async function planOf(
  pool: { query: (text: string, values?: unknown[]) => Promise<{ rows: any[] }> },
  text: string,
  values: unknown[] = [],
) {
  const { rows } = await pool.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
  const plan = rows[0]["QUERY PLAN"][0].Plan;
  const nodes: string[] = [];
  const walk = (node: any) => {
    nodes.push(
      node["Node Type"] +
        (node["Index Name"] ? ` using ${node["Index Name"]}` : "") +
        (node["Relation Name"] ? ` on ${node["Relation Name"]}` : ""),
    );
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan);
  return { top: nodes[0]!, nodes, seqScan: nodes.some((n) => n.startsWith("Seq Scan")) };
}

export async function timeIt<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * One request at a time for `seconds` (keep-alive), each timed to the microsecond: the latency a
 * single caller sees, where autocannon's whole milliseconds are too coarse.
 */
export async function sequential(url: string, headers: Record<string, string>, seconds: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    if (res.status >= 300) non2xx++;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 2);
  return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors: 0, non2xx };
}
