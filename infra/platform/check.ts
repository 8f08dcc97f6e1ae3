import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { extractPlatform, sstBinary } from "./extract";

/**
 * `npm run typecheck:platform` (and .ci/run): sst.config.ts and infra/*.ts type-checked against
 * SST's real platform types, as `sst install` would set them up, without touching the
 * project's dependency tree:
 *
 * - the platform source comes out of the installed `sst` binary (./extract.ts) into
 *   `.sst/typecheck/.sst/platform/`, with the `config.d.ts` SST generates for an app whose home
 *   is AWS;
 * - `@pulumi/aws` and `@pulumi/pulumi`, at the versions that platform's package.json pins, are
 *   installed once into `.sst/typecheck/node_modules` (gitignored; reinstalled when SST moves);
 * - a copy of sst.config.ts and infra/*.ts sits next to them (same relative paths, so the
 *   config's `/// <reference path="./.sst/platform/config.d.ts" />` resolves);
 * - only diagnostics in our files count; the platform's own files are SST's business.
 *
 * `--break` applies one deliberate wrong argument first and exits 0 only if the check catches
 * it (CI runs both, so the check is shown able to fail).
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WORK = join(ROOT, ".sst/typecheck");
const PLATFORM = join(WORK, ".sst/platform");
const PINNED = ["@pulumi/aws", "@pulumi/pulumi"];

/** What SST writes as .sst/platform/config.d.ts for `home: "aws"` (pkg/project: writeTypes). */
const CONFIG_D_TS = `import "./src/global.d.ts"
import "../types.generated"
import { AppInput, App, Config } from "./src/config"
import * as _aws from "@pulumi/aws";


declare global {
  // @ts-expect-error
  export import aws = _aws
  interface Providers {
    providers?: {
      "aws"?:  (_aws.ProviderArgs & { package?: string, version?: string }) | boolean | string;
    }
  }
  export const $config: (
    input: Omit<Config, "app"> & {
      app(input: AppInput): Promise<Omit<App, "providers"> & Providers> | (Omit<App, "providers"> & Providers);
    },
  ) => Config;
}
`;

/** The deliberate breakage of `--break`: a duration where SST wants a string like "3 minutes". */
const BREAKAGE = { file: "infra/queue.ts", from: `visibilityTimeout: "3 minutes",`, to: "visibilityTimeout: 180," };

function log(message: string) {
  process.stdout.write(`${message}\n`);
}

function preparePlatform(): Record<string, string> {
  const started = performance.now();
  const binary = sstBinary(ROOT);
  const stamp = join(PLATFORM, ".extracted-from");
  let manifest: { dependencies: Record<string, string> };
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === binary.version) {
    manifest = JSON.parse(readFileSync(join(PLATFORM, "package.json"), "utf8"));
  } else {
    rmSync(PLATFORM, { recursive: true, force: true });
    const files = extractPlatform(binary.path);
    for (const file of files) {
      if (file.name.endsWith(".lockb")) continue;
      const target = join(PLATFORM, file.name);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.data);
    }
    writeFileSync(join(PLATFORM, "config.d.ts"), CONFIG_D_TS);
    writeFileSync(join(WORK, ".sst/types.generated.ts"), "export {};\n");
    writeFileSync(stamp, binary.version);
    manifest = JSON.parse(readFileSync(join(PLATFORM, "package.json"), "utf8"));
    log(`extracted SST ${binary.version}'s platform (${files.length} files) in ${Math.round(performance.now() - started)} ms`);
  }
  const pins: Record<string, string> = {};
  for (const name of PINNED) {
    const version = manifest.dependencies[name];
    if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`SST's platform does not pin ${name} to an exact version`);
    pins[name] = version;
  }
  return pins;
}

function installPinned(pins: Record<string, string>) {
  const installed = (name: string) => {
    const file = join(WORK, "node_modules", name, "package.json");
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version : undefined;
  };
  if (PINNED.every((name) => installed(name) === pins[name])) return;
  const started = performance.now();
  writeFileSync(join(WORK, "package.json"), JSON.stringify({ private: true, dependencies: pins }, null, 2));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=dev", "--no-package-lock", "--loglevel=error"], {
    cwd: WORK,
    stdio: "inherit",
  });
  log(
    `installed ${Object.entries(pins)
      .map(([n, v]) => `${n}@${v}`)
      .join(", ")} in ${Math.round((performance.now() - started) / 1000)} s`,
  );
}

/** Copy sst.config.ts + infra/*.ts next to the platform; returns copy path → original path. */
function copySources(breakage?: typeof BREAKAGE): Map<string, string> {
  const files = [
    "sst.config.ts",
    ...readdirSync(join(ROOT, "infra"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => `infra/${f}`),
  ];
  rmSync(join(WORK, "infra"), { recursive: true, force: true });
  mkdirSync(join(WORK, "infra"), { recursive: true });
  const copies = new Map<string, string>();
  for (const file of files) {
    let text = readFileSync(join(ROOT, file), "utf8");
    if (breakage?.file === file) {
      if (!text.includes(breakage.from)) throw new Error(`--break: "${breakage.from}" is no longer in ${file}: update BREAKAGE`);
      text = text.replace(breakage.from, breakage.to);
    }
    writeFileSync(join(WORK, file), text);
    copies.set(join(WORK, file), join(ROOT, file));
  }
  return copies;
}

function typeCheck(copies: Map<string, string>): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    lib: ["lib.es2023.d.ts"],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules/@types")],
  };
  const program = ts.createProgram([...copies.keys()], options);
  const ours = (file: ts.SourceFile | undefined) => file !== undefined && copies.has(file.fileName);
  // Only our files are checked (the platform's own .ts sources would cost a minute and are SST's).
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program
      .getSourceFiles()
      .filter(ours)
      .flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]),
  ];
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const d of diagnostics) {
    if (!ours(d.file)) continue;
    const { line, character } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
    const text = `${relative(ROOT, copies.get(d.file!.fileName)!)}:${line + 1}:${character + 1} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n  ")}`;
    if (!seen.has(text)) problems.push(text);
    seen.add(text);
  }
  // The platform must really be in the program: a check against nothing would pass anything.
  if (!program.getSourceFiles().some((f) => f.fileName.endsWith("node_modules/@pulumi/aws/sesv2/emailIdentity.d.ts"))) {
    problems.push("the real @pulumi/aws types were not loaded (is .sst/typecheck/node_modules complete?)");
  }
  return problems;
}

const breaking = process.argv.includes("--break");
const pins = preparePlatform();
installPinned(pins);
const copies = copySources(breaking ? BREAKAGE : undefined);
const started = performance.now();
const problems = typeCheck(copies);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (breaking) {
  if (problems.some((p) => p.startsWith(BREAKAGE.file) && /TS2322/.test(p))) {
    log(`the real-type check catches a deliberately wrong argument (${BREAKAGE.file}: ${BREAKAGE.to}) in ${seconds} s:`);
    for (const p of problems) log(`  ${p}`);
    process.exit(0);
  }
  log(`the real-type check did NOT catch the deliberate breakage ${BREAKAGE.to} in ${BREAKAGE.file}`);
  for (const p of problems) log(`  ${p}`);
  process.exit(1);
}
if (problems.length) {
  log(`sst.config.ts + infra/ against SST ${sstBinary(ROOT).version}'s real types: ${problems.length} problem(s)`);
  for (const p of problems) log(`  ${p}`);
  process.exit(1);
}
log(
  `sst.config.ts + infra/ type-check against SST ${sstBinary(ROOT).version}'s platform, ${Object.entries(pins)
    .map(([n, v]) => `${n}@${v}`)
    .join(", ")}: 0 problems (${seconds} s)`,
);
