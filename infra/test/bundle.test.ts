import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { expect, test } from "vitest";
import { HANDLERS, linkEnvironment } from "./harness/checks";
import { evaluate } from "./harness/evaluate";
import { locateHandler, sstBuildOptions } from "./harness/handlers";

/**
 * The API bundle as SST builds it (with infra's settings, zod left out) runs on its own, in a
 * folder with no node_modules, with its configuration given the way SST gives links: it answers
 * its OpenAPI document (which goes through the schema adapters) without touching the database.
 */
test("the API bundle serves requests with only its links for configuration", async () => {
  const { recording } = await evaluate({ stage: "bundle" });
  const fn = recording.functionByHandler(HANDLERS.api)!;
  const dir = await mkdtemp(join(tmpdir(), "fluenzr-api-bundle-"));
  try {
    await esbuild.build({
      ...sstBuildOptions(fn.args),
      entryPoints: [locateHandler(HANDLERS.api).file!],
      outfile: join(dir, "bundle.mjs"),
    });
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/v1/openapi.json",
      rawQueryString: "",
      headers: { host: "api.example.com" },
      requestContext: {
        http: { method: "GET", path: "/v1/openapi.json", sourceIp: "192.0.2.1", protocol: "HTTP/1.1", userAgent: "test" },
        domainName: "api.example.com",
        requestId: "test",
        stage: "$default",
        timeEpoch: Date.now(),
      },
      isBase64Encoded: false,
    };
    await writeFile(
      join(dir, "invoke.mjs"),
      `const { handler } = await import("./bundle.mjs");
       const response = await handler(${JSON.stringify(event)}, {});
       process.stdout.write(JSON.stringify({ status: response.statusCode, body: String(response.body).slice(0, 200) }));`,
    );
    const env = {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      LOG_LEVEL: "silent",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      ...linkEnvironment(recording, fn),
    };
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ["invoke.mjs"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (c) => {
        out += c;
      });
      child.stderr.on("data", (c) => {
        err += c;
      });
      child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
    });
    const response = JSON.parse(output);
    expect(response.status).toBe(200);
    expect(response.body).toContain('"openapi":"3.1.0"');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 30_000);
