import { spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { evaluate } from "../../infra/test/harness/evaluate";
import { analyzeHandlers, locateHandler, sstBuildOptions } from "../../infra/test/harness/handlers";
import { resolve } from "../../infra/test/harness/standins";
import { type BenchResult, median, round } from "../lib";

/**
 * Cold start: the API, tick and sender bundles built as SST builds them, with each function's own
 * settings read from infra/ (evaluated offline): esbuild, ESM, minified, the target of the
 * function's Node runtime, nothing external but what SST forces. For each: the bundle's size and
 * the median time to import it in a fresh Node process (module evaluation, without Node's own
 * start-up), and which AWS SDK clients it carries (all, and those loaded at import).
 */
const BUNDLES = {
  api: "packages/functions/src/api.handler",
  tick: "packages/functions/src/tick.handler",
  sender: "packages/functions/src/sender.handler",
};
const MAX_MB = 1.5;
const MAX_IMPORT_MS = 200;
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 7);

function importMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const { NODE_OPTIONS: _, ...env } = process.env;
  return new Promise((resolveMs, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.once("exit", (code) => (code === 0 ? resolveMs(Number(out)) : reject(new Error(`importing ${file} failed: ${err.trim()}`))));
  });
}

export async function bundleSizes(): Promise<BenchResult[]> {
  const { recording } = await evaluate({ stage: "bench" });
  const dir = await mkdtemp(join(tmpdir(), "fluenzr-bundles-"));
  const results: BenchResult[] = [];
  try {
    for (const [label, handler] of Object.entries(BUNDLES)) {
      const fn = recording.functionByHandler(handler);
      if (!fn) throw new Error(`infra/ creates no function for ${handler}`);
      const { file } = locateHandler(handler);
      const outfile = join(dir, label, "bundle.mjs");
      const options = sstBuildOptions(fn.args);
      await esbuild.build({ ...options, entryPoints: [file!], outfile, sourcemap: "linked", write: true });
      const bytes = (await stat(outfile)).size;
      const [analysis] = await analyzeHandlers([fn.args]);
      const clients = { bundled: [...analysis!.sdkClients.bundled].sort(), atImport: [...analysis!.sdkClients.atImport].sort() };
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push(await importMs(outfile));
      const mb = bytes / 1_000_000;
      results.push({
        name: `bundles.${label}.size`,
        value: round(mb, 3),
        unit: "MB",
        target: `< ${MAX_MB} MB (esbuild as SST builds it: ESM, minified, ${options.target}, runtime ${resolve(fn.args.runtime) ?? "nodejs24.x"})`,
        pass: mb < MAX_MB,
        bytes,
        awsSdkClients: clients.bundled,
        awsSdkClientsAtImport: clients.atImport,
      });
      const ms = median(times);
      results.push({
        name: `bundles.${label}.import`,
        value: round(ms, 1),
        unit: "ms",
        target: `< ${MAX_IMPORT_MS} ms (median of ${RUNS} imports, each in a fresh node process)`,
        pass: ms < MAX_IMPORT_MS,
        runs: times.map((t) => round(t, 1)),
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}
