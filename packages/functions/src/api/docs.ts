import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";

/**
 * `/docs`: Swagger UI over `/v1/openapi.json`, its script and stylesheet served by the app from
 * the swagger-ui-dist package (no CDN, works offline). In Lambda the two files are copied next
 * to the bundle (infra/api.ts `copyFiles`), as the package is not bundled.
 */
const ASSETS = { "swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8" } as const;
type Asset = keyof typeof ASSETS;

function assetDir(): string | undefined {
  if (process.env.SWAGGER_UI_DIR) return process.env.SWAGGER_UI_DIR;
  // Lambda: infra/api.ts copies the files to <task root>/swagger-ui.
  if (process.env.LAMBDA_TASK_ROOT) return join(process.env.LAMBDA_TASK_ROOT, "swagger-ui");
  try {
    return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  } catch {
    return undefined;
  }
}

const cache = new Map<Asset, string>();
function asset(name: Asset): string | undefined {
  if (!cache.has(name)) {
    const dir = assetDir();
    if (!dir || !existsSync(join(dir, name))) return undefined;
    cache.set(name, readFileSync(join(dir, name), "utf8"));
  }
  return cache.get(name);
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>FluenzR API reference</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: false });
  </script>
</body>
</html>`;

export const docs = new Hono()
  .get("/", (c) => c.html(PAGE))
  .get("/:asset{swagger-ui-bundle\\.js|swagger-ui\\.css}", (c) => {
    const name = c.req.param("asset") as Asset;
    const content = asset(name);
    if (content === undefined) return c.text("Not found", 404);
    return c.body(content, 200, { "content-type": ASSETS[name], "cache-control": "public, max-age=86400" });
  });
