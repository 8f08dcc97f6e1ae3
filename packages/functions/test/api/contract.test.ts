import { createApp } from "@fluenzr/functions/api/app";
import { declarations } from "@fluenzr/functions/api/openapi";
import { apiClient, contractProblems, factory, useTestDatabase } from "@fluenzr/testing";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";

/**
 * The OpenAPI document as a contract: what it declares (operationIds, descriptions, examples),
 * the checker that every API test response goes through (packages/testing/src/contract.ts), and
 * the examples /docs prefills, sent to the server.
 */

useTestDatabase();

const app = createApp();
const document = async () => (await apiClient(app).get("/v1/openapi.json")).body;
const headers = (entries: Record<string, string>) => new Headers({ "content-type": "application/json", ...entries });
const RATE = { "x-request-id": "r1", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "99", "x-ratelimit-reset": "1736937060" };
const GROUP = {
  id: "grp_a1b2c3",
  name: "Leads",
  description: null,
  contactCount: 0,
  createdAt: "2025-01-10T08:00:00.000Z",
  updatedAt: "2025-01-10T08:00:00.000Z",
};

describe("the contract checker", () => {
  const check = (status: number, body: unknown, extra: Record<string, string> = RATE) =>
    contractProblems(app, { method: "GET", path: "/v1/groups/grp_a1b2c3", status, headers: headers(extra), body });

  it("passes a response as documented", async () => {
    expect(await check(200, { success: true, data: GROUP })).toEqual([]);
    expect(await check(404, { success: false, error: { code: "NOT_FOUND", message: "Group grp_x not found" } })).toEqual([]);
  });

  it("fails a field the document does not declare, a missing one, a wrong type or code", async () => {
    expect(await check(200, { success: true, data: { ...GROUP, secret: 1 } })).toEqual([
      "GET /v1/groups/{id} → 200 (getGroup): body/data must NOT have additional properties 'secret'",
    ]);
    const { name: _, ...nameless } = GROUP;
    expect((await check(200, { success: true, data: nameless })).join()).toContain("must have required property 'name'");
    expect((await check(200, { success: true, data: { ...GROUP, contactCount: 1.5 } })).join()).toContain(
      "/data/contactCount must be integer",
    );
    expect((await check(404, { success: false, error: { code: "CONFLICT", message: "x" } })).join()).toContain(
      "/error/code must be equal to constant",
    );
  });

  it("fails an undocumented status, a missing rate-limit header, an undocumented content type", async () => {
    expect(await check(418, {})).toEqual(["GET /v1/groups/{id} → 418 (getGroup): status 418 is not documented"]);
    const { "x-ratelimit-remaining": _, ...without } = RATE;
    expect(await check(200, { success: true, data: GROUP }, without)).toEqual([
      "GET /v1/groups/{id} → 200 (getGroup): header X-RateLimit-Remaining is missing",
    ]);
    const html = await contractProblems(app, {
      method: "GET",
      path: "/v1/groups/grp_a1b2c3",
      status: 200,
      headers: new Headers({ ...RATE, "content-type": "text/html" }),
      body: "<p>",
    });
    expect(html.join()).toContain("content type text/html is not documented");
  });

  it("leaves requests no operation describes alone", async () => {
    expect(await contractProblems(app, { method: "GET", path: "/docs", status: 200, headers: new Headers(), body: "" })).toEqual([]);
  });
});

describe("the document", () => {
  it("gives every operation a stable operationId, a tag, a summary and a description", async () => {
    const doc = await document();
    const ids: string[] = [];
    for (const item of Object.values(doc.paths) as Record<string, any>[]) {
      for (const operation of Object.values(item)) {
        ids.push(operation.operationId);
        expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
        expect(operation.tags).toHaveLength(1);
        expect(operation.summary).toBeTruthy();
        expect(operation.description).toBeTruthy();
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(["listCampaigns", "createCampaign", "getCampaignTimeline", "getCampaignEmailStats"]));
  });

  it("lists Campaigns first among its described tags", async () => {
    const doc = await document();
    expect(doc.tags[0].name).toBe("Campaigns");
    for (const tag of doc.tags) expect(tag.description).toBeTruthy();
  });

  it("names one component per entity and refers to it", async () => {
    const doc = await document();
    const text = JSON.stringify(doc.paths);
    for (const name of ["Campaign", "Contact", "Group", "EmailAccount", "CampaignStats", "EmailStats", "TimelinePoint", "ActivityEvent"]) {
      expect(doc.components.schemas[name]).toBeDefined();
      expect(text).toContain(`"#/components/schemas/${name}"`);
    }
  });

  it("has examples valid against their schemas (fields not declared fail)", async () => {
    const doc = await document();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const close = (schema: unknown): unknown => {
      if (Array.isArray(schema)) return schema.map(close);
      if (!schema || typeof schema !== "object") return schema;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema))
        out[k] = k === "$ref" ? (v as string).replace(/^#\//, "doc#/") : k.startsWith("example") ? v : close(v);
      if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
      return out;
    };
    ajv.addSchema({ $id: "doc", components: close(doc.components) } as never);
    let checked = 0;
    for (const [name, schema] of Object.entries(doc.components.schemas) as [string, any][]) {
      for (const example of schema.examples ?? []) {
        const validate = ajv.compile({ $ref: `doc#/components/schemas/${name}` });
        const items = Array.isArray(example) && schema.type === "object" ? example : [example];
        for (const item of items) {
          expect(validate(item), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          checked++;
        }
      }
    }
    for (const item of Object.values(doc.paths) as Record<string, any>[]) {
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses) as [string, any][]) {
          const media = response.content?.["application/json"];
          if (!media?.example) continue;
          const validate = ajv.compile(close(media.schema) as object);
          expect(validate(media.example), `${operation.operationId} ${status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          checked++;
        }
        const request = operation.requestBody?.content?.["application/json"];
        if (request?.example) {
          const validate = ajv.compile(close(request.schema) as object);
          expect(validate(request.example), `${operation.operationId} request: ${ajv.errorsText(validate.errors)}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("every operation with a body has a request example", async () => {
    const doc = await document();
    const missing: string[] = [];
    for (const item of Object.values(doc.paths) as Record<string, any>[]) {
      for (const operation of Object.values(item)) {
        const media = operation.requestBody?.content?.["application/json"];
        if (media && !media.example && !operation.tags.includes("Webhooks")) missing.push(operation.operationId);
      }
    }
    expect(missing).toEqual([]);
  });

  it("declares each operation once", () => {
    expect(declarations().size).toBeGreaterThan(40);
  });
});

describe("the examples /docs prefills are accepted by the server", () => {
  it("POST /campaigns with the example body and a real account id answers 201", async () => {
    const doc = await document();
    const example = doc.paths["/v1/campaigns"].post.requestBody.content["application/json"].example;
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    const res = await apiClient(app, ws.key).post("/v1/campaigns", { ...example, emailAccountId: account.id });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ name: example.name, settings: example.settings, status: "draft" });
  });

  it("PUT /campaigns/:id with the example body (a workflow with conditions) answers 200", async () => {
    const doc = await document();
    const example = doc.paths["/v1/campaigns/{id}"].put.requestBody.content["application/json"].example;
    expect(example.workflow.nodes.some((n: { type: string }) => n.type === "condition")).toBe(true);
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    const api = apiClient(app, ws.key);
    const created = await api.post("/v1/campaigns", { name: "Draft", emailAccountId: account.id });
    const res = await api.put(`/v1/campaigns/${created.body.data.id}`, example);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.workflow.edges).toContainEqual({ from: "opened_intro", to: "case_study", when: "yes" });
  });

  it.each([
    ["/v1/groups", "post"],
    ["/v1/contacts", "post"],
    ["/v1/contacts/bulk", "post"],
    ["/v1/contacts/search", "post"],
    ["/v1/email-accounts", "post"],
  ])("%s %s with its example body succeeds", async (path, method) => {
    const doc = await document();
    const example = doc.paths[path].post.requestBody.content["application/json"].example;
    const ws = await factory.workspace();
    const res = await apiClient(app, ws.key).request(method.toUpperCase(), path, { body: example });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  });
});
