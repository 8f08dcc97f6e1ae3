import { existsSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { ROOT } from "./evaluate";
import { resolve } from "./standins";

/**
 * What SST does with a function's handler, offline: find the file, bundle it with the options
 * SST v4 uses (pkg/runtime/node/build.go), and read the esbuild metafile for the handler's
 * exports, its import graph (the project files in it, what they read from `Resource`) and the
 * AWS SDK clients it carries.
 */

const EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/** SST's esbuild target per Lambda runtime (build.go `targetMap`). */
const TARGETS: Record<string, string> = {
  "nodejs24.x": "es2024",
  "nodejs22.x": "es2023",
  "nodejs20.x": "es2023",
  "nodejs18.x": "es2022",
};

/** SST marks these external whatever the function says (build.go `forceExternal`). */
const FORCE_EXTERNAL = ["sharp", "pg-native"];

/** The banner SST puts on ESM bundles (require, __filename, __dirname for CommonJS dependencies). */
const ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

export interface HandlerLocation {
  handler: string;
  /** Repository-relative source file, when one exists. */
  file?: string;
  exportName: string;
}

export function locateHandler(handler: string): HandlerLocation {
  const clean = handler.replace(/^\.\//, "");
  const dot = clean.lastIndexOf(".");
  const base = clean.slice(0, dot);
  const exportName = clean.slice(dot + 1);
  const file = EXTENSIONS.map((ext) => base + ext).find((candidate) => existsSync(join(ROOT, candidate)));
  return { handler, file, exportName };
}

/** The esbuild options SST v4 builds a Node function with (not counting its entry and output). */
export function sstBuildOptions(fnArgs: any): esbuild.BuildOptions {
  const nodejs = resolve(fnArgs.nodejs) ?? {};
  const custom = nodejs.esbuild ?? {};
  const esm = (nodejs.format ?? "esm") === "esm";
  const runtime = resolve(fnArgs.runtime) ?? "nodejs24.x";
  const install = Array.isArray(nodejs.install) ? nodejs.install : Object.keys(nodejs.install ?? {});
  return {
    bundle: true,
    platform: "node",
    format: esm ? "esm" : "cjs",
    target: custom.target ?? TARGETS[runtime] ?? "es2023",
    mainFields: custom.mainFields ?? (esm ? ["module", "main"] : ["main"]),
    conditions: custom.conditions,
    external: [...FORCE_EXTERNAL, ...install, ...(custom.external ?? [])],
    keepNames: custom.keepNames ?? true,
    minify: nodejs.minify ?? true,
    splitting: nodejs.splitting ?? false,
    loader: nodejs.loader,
    define: custom.define,
    banner: { js: esm ? [ESM_BANNER, nodejs.banner ?? ""].join("\n") : (nodejs.banner ?? "") },
    absWorkingDir: ROOT,
    logLevel: "silent",
  };
}

export interface HandlerAnalysis extends HandlerLocation {
  /** Why the bundle could not be built. */
  error?: string;
  exports: string[];
  /** Repository files (not node_modules) in the import graph. */
  projectFiles: string[];
  /** Names read as `Resource.<Name>` by the project files that import `sst`. */
  resourceReads: Set<string>;
  /** `client-sesv2`, ... in the bundle at all, and those loaded when the handler is imported. */
  sdkClients: { bundled: Set<string>; atImport: Set<string> };
  /** Imports left out of the bundle (Node built-ins aside): what, from where, how. */
  externalImports: Array<{ importer: string; path: string; kind: string }>;
}

const cache = new Map<string, Promise<HandlerAnalysis>>();

/** Analyse one function's handler (cached). */
export function analyzeHandler(fnArgs: any): Promise<HandlerAnalysis> {
  return analyzeHandlers([fnArgs]).then((all) => all[0]!);
}

/**
 * Analyse several functions' handlers, bundling those that share build options in one esbuild
 * run (shared modules are parsed once); each handler's graph is walked from its own entry.
 */
export function analyzeHandlers(fnArgsList: any[]): Promise<HandlerAnalysis[]> {
  const requests = fnArgsList.map((fnArgs) => {
    const handler = String(resolve(fnArgs.handler));
    const options = sstBuildOptions(fnArgs);
    return { handler, options, key: JSON.stringify([handler, options]), optionsKey: JSON.stringify(options) };
  });
  const groups = new Map<string, typeof requests>();
  for (const r of requests) {
    if (cache.has(r.key)) continue;
    groups.set(r.optionsKey, [...(groups.get(r.optionsKey) ?? []).filter((x) => x.key !== r.key), r]);
  }
  for (const group of groups.values()) {
    const built = analyzeGroup(
      group.map((r) => r.handler),
      group[0]!.options,
    );
    group.forEach((r, i) => {
      cache.set(
        r.key,
        built.then((all) => all[i]!),
      );
    });
  }
  return Promise.all(requests.map((r) => cache.get(r.key)!));
}

const SDK_CLIENT = /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//;

type Metafile = esbuild.Metafile;

async function build(files: string[], options: esbuild.BuildOptions): Promise<Metafile> {
  const result = await esbuild.build({
    ...options,
    entryPoints: files,
    outdir: join(tmpdir(), "fluenzr-handler-analysis"),
    outExtension: { ".js": ".mjs" },
    write: false,
    metafile: true,
    minify: false,
  });
  return result.metafile;
}

async function analyzeGroup(handlers: string[], options: esbuild.BuildOptions): Promise<HandlerAnalysis[]> {
  const locations = handlers.map(locateHandler);
  const files = [...new Set(locations.map((l) => l.file).filter((f): f is string => Boolean(f)))];
  const metafiles = new Map<string, Metafile | Error>();
  try {
    const metafile = await build(files, options);
    for (const file of files) metafiles.set(file, metafile);
  } catch {
    // Some entry does not build: build each alone to tell which.
    for (const file of files) metafiles.set(file, await build([file], options).catch((error: Error) => error));
  }
  return locations.map((location) => {
    const metafile = location.file ? metafiles.get(location.file) : undefined;
    if (!location.file || !metafile) return { ...location, ...emptyAnalysis(), error: `no file for handler ${location.handler}` };
    if (metafile instanceof Error) return { ...location, ...emptyAnalysis(), error: metafile.message };
    return { ...location, ...graphOf(location.file, metafile) };
  });
}

function emptyAnalysis() {
  return {
    exports: [],
    projectFiles: [],
    resourceReads: new Set<string>(),
    sdkClients: { bundled: new Set<string>(), atImport: new Set<string>() },
    externalImports: [],
  };
}

/** The part of a (possibly multi-entry) metafile reachable from one entry. */
function graphOf(entryFile: string, { inputs, outputs }: Metafile) {
  const walk = (follow: (kind: esbuild.ImportKind) => boolean) => {
    const seen = new Set<string>();
    const pending = [entryFile];
    while (pending.length) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const imp of inputs[file]?.imports ?? []) if (!imp.external && follow(imp.kind)) pending.push(imp.path);
    }
    return seen;
  };
  const reachable = walk(() => true);
  // Static imports only: what loads when the handler module is imported.
  const atImport = walk((kind) => kind === "import-statement" || kind === "require-call");
  const projectFiles = [...reachable].filter((p) => !p.includes("node_modules") && !p.startsWith("<"));
  const resourceReads = new Set<string>();
  for (const file of projectFiles) {
    const source = stripComments(readFileSync(join(ROOT, file), "utf8"));
    if (!/from\s*["']sst(\/resource)?["']/.test(source)) continue;
    for (const m of source.matchAll(/\bResource\s*\.\s*([A-Za-z_$][\w$]*)/g)) resourceReads.add(m[1]!);
    for (const m of source.matchAll(/\bResource\s*\[\s*["'`]([^"'`]+)["'`]\s*\]/g)) resourceReads.add(m[1]!);
  }
  const clientsOf = (files: Iterable<string>) =>
    new Set([...files].map((f) => SDK_CLIENT.exec(f)?.[1]).filter((c): c is string => Boolean(c)));
  const entry = Object.values(outputs).find((o) => o.entryPoint === entryFile);
  const externalImports = [...reachable].flatMap((importer) =>
    (inputs[importer]?.imports ?? [])
      .filter((imp) => imp.external && !imp.path.startsWith("node:") && !isBuiltin(imp.path) && imp.path !== "<runtime>")
      .map((imp) => ({ importer, path: imp.path, kind: imp.kind })),
  );
  return {
    exports: entry?.exports ?? [],
    projectFiles,
    resourceReads,
    sdkClients: { bundled: clientsOf(reachable), atImport: clientsOf(atImport) },
    externalImports,
  };
}

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}
