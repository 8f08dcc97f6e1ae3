import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "@fluenzr/functions/api/app";
import { apiClient } from "@fluenzr/testing";
import { getRequestListener } from "@hono/node-server";
import { describe, expect, it } from "vitest";

const NOT_IN_DOCUMENT = new Set(["/", "/docs", "/docs/:asset{swagger-ui-bundle\\.js|swagger-ui\\.css}", "/v1/openapi.json"]);

/** `/v1/contacts/:id` → `/v1/contacts/{id}` */
const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");

describe("OpenAPI document", () => {
  const app = createApp();

  it("is served without a key, as OpenAPI 3.1 with the bearer scheme", async () => {
    const res = await apiClient(app).get("/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("lists every route of the app, with its method", async () => {
    const doc = (await apiClient(app).get("/v1/openapi.json")).body;
    const routes = app.routes.filter((r) => r.method !== "ALL" && !NOT_IN_DOCUMENT.has(r.path));
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((r) => !doc.paths[toOpenApiPath(r.path)]?.[r.method.toLowerCase()]);
    expect(missing.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it("documents request bodies and query parameters from the schemas that validate them", async () => {
    const doc = (await apiClient(app).get("/v1/openapi.json")).body;
    const create = doc.paths["/v1/contacts"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toContain("email");
    expect(body.properties.email.format).toBe("email");
    const list = doc.paths["/v1/contacts"].get;
    const perPage = list.parameters.find((p: { name: string }) => p.name === "perPage");
    expect(perPage).toMatchObject({ in: "query" });
    const byId = doc.paths["/v1/contacts/{id}"].get;
    expect(byId.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: "path", name: "id", required: true })]));
    expect(byId.responses["401"]).toBeDefined();
  });
});

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe.skipIf(!existsSync(CHROMIUM))("/docs in a headless Chromium", () => {
  it("loads offline and lists the endpoints", async () => {
    const { chromium } = await import("playwright-core");
    const server = createServer(getRequestListener(createApp().fetch));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      const outside: string[] = [];
      await page.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith(base)) return route.continue();
        outside.push(url);
        return route.abort();
      });
      await page.goto(`${base}/docs`);
      await page.waitForSelector('[data-path="/v1/contacts/bulk"]', { timeout: 20_000 });
      const paths = await page.locator(".opblock-summary-path").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-path")));
      for (const path of ["/v1/contacts", "/v1/contacts/search", "/v1/groups/{id}/contacts", "/v1/email-accounts"]) {
        expect(paths).toContain(path);
      }
      expect(await page.locator("#swagger-ui").textContent()).toContain("Create a contact");
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
      server.close();
    }
  }, 60_000);
});
