import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type AccountState, createStandins, Recording, resolve } from "./standins";

/** The repository root (sst.config.ts, infra/, packages/). */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The deploy-time variables infra reads (infra/config.ts, sst.config.ts). Each evaluation
 * starts with none of them set, so the shell running the tests does not change what is built.
 */
export const DEPLOY_ENV = [
  "AWS_REGION",
  "API_DOMAIN",
  "EMAIL_DOMAIN",
  "TRACKING_DOMAIN",
  "TRACKING_HTTPS",
  "REPLY_DOMAIN",
  "ALARM_EMAIL",
  "SENDER_MAX_CONCURRENCY",
  "LOG_LEVEL",
  "SES_IDENTITIES",
  "INBOUND_RULE_SET",
  "INBOUND_RETENTION_DAYS",
];

/** A deliberate breakage: replace the one occurrence of `from` in `file` (repository-relative). */
export interface Mutation {
  file: string;
  from: string;
  to: string;
}

export interface EvaluateOptions {
  stage?: string;
  /** Evaluate as under `sst dev` (`$dev` true). */
  dev?: boolean;
  env?: Record<string, string>;
  mutations?: Mutation[];
  /** What exists in the AWS account at deploy time (default: nothing). */
  account?: AccountState;
}

export interface AppConfig {
  name: string;
  home: string;
  removal?: "remove" | "retain" | "retain-all";
  protect?: boolean;
  providers?: Record<string, unknown>;
  types?: { ignore?: string[] };
}

export interface SstConfig {
  app(input: { stage: string }): AppConfig;
  run(): Promise<Record<string, unknown> | undefined>;
}

export interface Evaluation {
  stage: string;
  dev: boolean;
  env: Record<string, string>;
  /** The object sst.config.ts passed to `$config`. */
  config: SstConfig;
  app: AppConfig;
  /** What `run()` returned, outputs resolved. */
  outputs: Record<string, any>;
  recording: Recording;
  account: AccountState;
}

const GLOBALS = [
  "$config",
  "$app",
  "$dev",
  "sst",
  "aws",
  "$interpolate",
  "$concat",
  "$jsonStringify",
  "$jsonParse",
  "$resolve",
  "$output",
  "$util",
  "$transform",
];

/**
 * A fresh copy of sst.config.ts and infra/*.ts in a temporary folder, with the mutations applied:
 * each evaluation imports its own modules, so one evaluation never sees another's.
 */
async function copyInfra(mutations: Mutation[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fluenzr-infra-"));
  const files = ["sst.config.ts", ...(await readdir(join(ROOT, "infra"))).filter((f) => f.endsWith(".ts")).map((f) => `infra/${f}`)];
  const contents = new Map<string, string>();
  for (const file of files) contents.set(file, await readFile(join(ROOT, file), "utf8"));
  for (const m of mutations) {
    const text = contents.get(m.file);
    if (text === undefined) throw new Error(`mutation: no file ${m.file} in sst.config.ts + infra/`);
    const count = text.split(m.from).length - 1;
    if (count !== 1) throw new Error(`mutation: "${m.from}" occurs ${count} times in ${m.file} (expected once): update the mutation`);
    contents.set(
      m.file,
      text.replace(m.from, () => m.to),
    );
  }
  for (const [file, text] of contents) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  return dir;
}

/**
 * Evaluate sst.config.ts as `sst deploy --stage <stage>` would, against the recording
 * stand-ins: import it with a `$config` that captures its argument, call `app({stage})`, set
 * `$app` and `$dev`, then await `run()`.
 */
export async function evaluate(options: EvaluateOptions = {}): Promise<Evaluation> {
  const stage = options.stage ?? "test";
  const dev = options.dev ?? false;
  const env = options.env ?? {};
  const dir = await copyInfra(options.mutations ?? []);
  const g = globalThis as Record<string, unknown>;
  const savedEnv = new Map<string, string | undefined>();
  for (const key of [...DEPLOY_ENV, ...Object.keys(env)]) {
    if (!savedEnv.has(key)) savedEnv.set(key, process.env[key]);
    delete process.env[key];
  }
  Object.assign(process.env, env);
  const savedGlobals = new Map(GLOBALS.map((name) => [name, g[name]]));
  try {
    let captured: SstConfig | undefined;
    g.$config = (config: SstConfig) => {
      captured = config;
      return config;
    };
    const module = (await import(pathToFileURL(join(dir, "sst.config.ts")).href)) as { default?: SstConfig };
    const config = module.default ?? captured;
    if (!config) throw new Error("sst.config.ts did not call $config");
    const app = config.app({ stage });
    const recording = new Recording({ name: app.name, stage });
    Object.assign(g, createStandins(recording, options.account).globals, {
      $app: { name: app.name, stage, removal: app.removal ?? "retain", protect: app.protect ?? false, providers: app.providers ?? {} },
      $dev: dev,
    });
    const returned = await config.run();
    // Let what components create later (in `apply`s) be created, as Pulumi waits for it.
    await new Promise((done) => setImmediate(done));
    const outputs = resolve(returned ?? {});
    return { stage, dev, env, config, app, outputs, recording, account: options.account ?? {} };
  } finally {
    for (const [name, value] of savedGlobals) {
      if (value === undefined) delete g[name];
      else g[name] = value;
    }
    for (const [key, value] of savedEnv) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await rm(dir, { recursive: true, force: true });
  }
}
