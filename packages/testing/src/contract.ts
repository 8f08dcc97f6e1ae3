import { buildDocument } from "@fluenzr/functions/api/openapi";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { Hono } from "hono";

/**
 * The contract checker: a response is compared with what the OpenAPI document says its
 * operation answers for its status — the status must be documented, the content type too, the
 * body must match the schema (Ajv, JSON Schema 2020-12, formats checked) with no field the
 * document does not declare, and the headers the document lists (X-Request-Id, X-RateLimit-*)
 * must be there. The API test client (api.ts) runs it on every response, so a route drifting
 * from the document fails the test that called it.
 */

type Json = Record<string, any>;

export interface ContractInput {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  body: unknown;
}

interface Operation {
  pattern: RegExp;
  method: string;
  template: string;
  operation: Json;
}

interface Checker {
  operations: Operation[];
  validator(schema: Json): ValidateFunction;
}

const checkers = new WeakMap<object, Promise<Checker>>();

/** Headers whose presence depends on the request (a replay, a wait), not on the status. */
const CONDITIONAL_HEADERS = new Set(["idempotent-replayed", "retry-after"]);

/** Every object with declared properties is closed: a field the document does not declare fails. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (!schema || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$ref" && typeof value === "string") out.$ref = value.replace(/^#\//, "openapi#/");
    else if (key === "example" || key === "examples") out[key] = value;
    else out[key] = closed(value);
  }
  if (out.properties && out.additionalProperties === undefined && !out.allOf && !out.oneOf && !out.anyOf) out.additionalProperties = false;
  return out;
}

async function checkerFor(app: Hono<any, any, any>): Promise<Checker> {
  const document = (await buildDocument(app)) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: closed(document.components) } as never);
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(document.paths as Record<string, Json>)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
    for (const [method, operation] of Object.entries(item)) operations.push({ pattern, method: method.toUpperCase(), template, operation });
  }
  // Literal paths (`/v1/contacts/search`) win over templates (`/v1/contacts/{id}`), as in the router.
  operations.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  const cache = new Map<Json, ValidateFunction>();
  return {
    operations,
    validator(schema) {
      let validate = cache.get(schema);
      if (!validate) {
        validate = ajv.compile(closed(schema) as Json);
        cache.set(schema, validate);
      }
      return validate;
    },
  };
}

function resolve(document: Json, value: Json): Json {
  if (typeof value?.$ref !== "string") return value;
  const [, kind, name] = value.$ref.match(/^#\/components\/(\w+)\/(.+)$/) ?? [];
  return document.components[kind!][name!];
}

/**
 * The problems of one response against the document ([] when it matches). A request no
 * operation describes (an unknown route, /docs) is not checked.
 */
export async function contractProblems(app: Hono<any, any, any>, input: ContractInput): Promise<string[]> {
  let checker = checkers.get(app);
  if (!checker) {
    checker = checkerFor(app);
    checkers.set(app, checker);
  }
  const { operations, validator } = await checker;
  const document = (await buildDocument(app)) as Json;
  const method = input.method === "HEAD" ? "GET" : input.method;
  let path: string;
  try {
    path = decodeURI(input.path.split("?")[0]!);
  } catch {
    path = input.path.split("?")[0]!;
  }
  const found = operations.find((o) => o.method === method && o.pattern.test(path));
  if (!found) return [];
  const where = `${input.method} ${found.template} → ${input.status} (${found.operation.operationId})`;
  const documented = found.operation.responses?.[String(input.status)] ?? found.operation.responses?.default;
  if (!documented) return [`${where}: status ${input.status} is not documented`];
  const response = resolve(document, documented);
  const problems: string[] = [];
  for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
    if (CONDITIONAL_HEADERS.has(name.toLowerCase())) continue;
    const spec = resolve(document, header);
    const value = input.headers.get(name);
    if (value === null) problems.push(`${where}: header ${name} is missing`);
    else if (spec.schema?.type === "integer" && !/^\d+$/.test(value)) problems.push(`${where}: header ${name} is not an integer: ${value}`);
  }
  const contentType = (input.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = response.content as Json | undefined;
  if (input.method === "HEAD") return problems;
  if (!content) return problems;
  const media = content[contentType];
  if (!media)
    return [...problems, `${where}: content type ${contentType || "(none)"} is not documented (${Object.keys(content).join(", ")})`];
  if (contentType !== "application/json" || !media.schema) return problems;
  const validate = validator(media.schema);
  if (!validate(input.body)) {
    for (const error of validate.errors ?? []) {
      const extra = error.keyword === "additionalProperties" ? ` '${(error.params as Json).additionalProperty}'` : "";
      problems.push(`${where}: body${error.instancePath} ${error.message}${extra}`);
    }
  }
  return problems;
}

/** Throws when the response does not match the document (the API test client calls it). */
export async function assertContract(app: Hono<any, any, any>, input: ContractInput) {
  const problems = await contractProblems(app, input);
  if (problems.length) {
    throw new Error(
      `Response does not match the OpenAPI document:\n  ${problems.slice(0, 20).join("\n  ")}\nBody: ${JSON.stringify(input.body).slice(0, 2000)}`,
    );
  }
}
