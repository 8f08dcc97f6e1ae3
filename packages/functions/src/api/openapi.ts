import { VisibleError } from "@fluenzr/core/error";
import { type Issue, issuesToDetails, objectOnly } from "@fluenzr/core/util";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { Context, Hono, MiddlewareHandler } from "hono";
import { describeRoute, generateSpecs, uniqueSymbol, validator } from "hono-openapi";
import * as v from "valibot";
import { EXAMPLES } from "./examples";
import * as Out from "./schemas";

/**
 * The OpenAPI document. Each route declares its entry next to it with `doc({...})`; request
 * bodies and query parameters come from the Valibot schemas that validate them (`body()` /
 * `query()`, turned into JSON Schema by hono-openapi), and `buildDocument()` assembles the rest
 * from the declarations: named components (one `$ref` per entity, envelope and error), the
 * responses of every status with the one error code each carries, response headers, the
 * `Idempotency-Key` parameter and examples. docs/api-contract.md explains how to add a route.
 */

type ValidationResult = { success: boolean; error?: readonly Issue[] };

function failOn(result: ValidationResult) {
  if (!result.success) throw new VisibleError("validation", "Request validation failed", issuesToDetails(result.error ?? []));
}

/** A JSON body: an object (a top-level array is refused, not read as `{}`). */
export const body = <S extends v.GenericSchema>(schema: S) => validator("json", objectOnly(schema), failOn);
export const query = <S extends v.GenericSchema>(schema: S) => validator("query", schema, failOn);

/**
 * The query parameters as `query()` validates them (repeated ones as arrays), for a fused read
 * that must build its statement before the validator runs: the same errors, the same output.
 */
export function parseQuery<S extends v.GenericSchema>(c: Context, schema: S): v.InferOutput<S> {
  const raw = Object.fromEntries(Object.entries(c.req.queries()).map(([k, values]) => [k, values.length === 1 ? values[0] : values]));
  const result = v.safeParse(schema, raw);
  failOn(result.success ? { success: true } : { success: false, error: result.issues });
  return (result as { output: v.InferOutput<S> }).output;
}

/** Entities of the API, each one named component. */
export const ENTITIES = {
  Contact: Out.Contact,
  Group: Out.Group,
  EmailAccount: Out.EmailAccount,
  Campaign: Out.Campaign,
  CampaignContact: Out.CampaignContact,
  CampaignStats: Out.CampaignStats,
  EmailStats: Out.EmailStats,
  AccountStats: Out.AccountStats,
  TimelinePoint: Out.TimelinePoint,
  ActivityEvent: Out.ActivityEvent,
  Deleted: Out.Deleted,
  Removed: Out.Removed,
  MembershipResult: Out.MembershipResult,
  EnrolmentResult: Out.EnrolmentResult,
  BulkResult: Out.BulkResult,
  Suppression: Out.Suppression,
  ContactExport: Out.ContactExport,
  SuppressionBulkResult: Out.SuppressionBulkResult,
  ReplyReported: Out.ReplyReported,
  WebhookResult: Out.WebhookResult,
  Webhook: Out.Webhook,
  WebhookWithSecret: Out.WebhookWithSecret,
  WebhookRotated: Out.WebhookRotated,
  WebhookTestResult: Out.WebhookTestResult,
  WebhookDelivery: Out.WebhookDelivery,
  WebhookDeliveryWithPayload: Out.WebhookDeliveryWithPayload,
  PageMeta: Out.PageMeta,
  FeedMeta: Out.FeedMeta,
} as const;
export type Entity = keyof typeof ENTITIES;

/** Tags in the order /docs shows them: Campaigns, the heart of the product, first. */
export const TAGS = [
  {
    name: "Campaigns",
    description:
      "A campaign sends a sequence of emails (the workflow: start → email → delay → email … → end) from one or more email accounts (each contact keeps the account of its first email) to its contacts, within sending days, hours and an hourly limit. Lifecycle: draft → active ⇄ paused → completed → archived.",
  },
  {
    name: "Statistics",
    description: "Counts and rates of a campaign, per email of the sequence, over time, and the feed of its events.",
  },
  { name: "Contacts", description: "The people emails are sent to: unique by email in a workspace, with tags, groups and custom fields." },
  { name: "Groups", description: "Named sets of contacts, to enrol many contacts in a campaign at once." },
  { name: "Email accounts", description: "Sender addresses; a campaign sends from one whose SES identity is verified." },
  {
    name: "Suppressions",
    description:
      "Addresses and domains the workspace never emails, whatever happens to its contacts: added by hard bounces, complaints and unsubscribes, or by hand. Contacts created, imported or updated to a listed address arrive with the matching status; enrolment skips them; the sender re-checks at send time.",
  },
  {
    name: "Outbound webhooks",
    description:
      "Events POSTed to your endpoints as they happen: emails sent, delivered, opened, clicked, replied to, bounced, complained about, unsubscribed from; campaigns started, paused, resumed, completed; contacts created, updated, deleted. Signed with HMAC-SHA256 over `<timestamp>.<raw body>`, retried after 1 min, 5 min, 30 min and 2 h on 5xx, timeouts (10 s) and connection errors, each with a stable event id (`X-FluenzR-Event-Id`) to deduplicate on.",
  },
  { name: "Unsubscribe", description: "The List-Unsubscribe link of every email: HTML pages for the recipient, no API key." },
  { name: "Webhooks", description: "SNS deliveries of SES events and received replies, authenticated by the SNS signature, no API key." },
  { name: "Local", description: "Local mode only (`npm start`): simulate what SES would report." },
] as const;
export type Tag = (typeof TAGS)[number]["name"];

/** Error statuses beyond 400/401/413/429, each with the one code it carries. */
type ErrorStatus = 403 | 404 | 409;

export interface DocOptions {
  /** Stable and readable: `listCampaigns`, `getCampaignTimeline`. */
  operationId: string;
  tag: Tag;
  summary: string;
  description: string;
  /** `data` of the success envelope: an entity, or an array of one (`list: true`, unpaged). */
  data?: Entity;
  list?: boolean;
  /** A page: `data` is an array of `data`, `meta` the paging (`FeedMeta` for event feeds). */
  paged?: boolean;
  meta?: "PageMeta" | "FeedMeta";
  /** The success answer is an HTML page (unsubscribe). */
  html?: boolean;
  status?: 200 | 201;
  /** No API key (webhooks, unsubscribe): no 401/429 and no rate-limit headers. */
  public?: boolean;
  /** Honours `Idempotency-Key` (replays carry `Idempotent-Replayed: true`). */
  idempotent?: boolean;
  /** Reads a request body (so it may answer 413). */
  body?: boolean;
  /** Extra statuses and when they are answered. */
  errors?: Partial<Record<ErrorStatus, string>>;
  /** Path parameter descriptions and examples. */
  params?: Record<string, { description: string; example: string }>;
  /** The body must name exactly one of these fields (add-contacts: contactIds, groupIds or filters). */
  exactlyOneOf?: string[];
  /** The schema of each item of the body's array of rows (`contacts`, `entries`: bulk rows are validated one by one). */
  rows?: v.GenericSchema;
  /** Example request body (must be valid and accepted by the server; a test sends it). */
  requestExample?: unknown;
  /** Example of `data` in the success answer (checked against the schema by a test). */
  example?: unknown;
}

const DOCS = new Map<string, DocOptions>();

/** Every declared operation, by operationId (tests and the contract checker read them). */
export const declarations = (): ReadonlyMap<string, DocOptions> => DOCS;

export function doc(options: DocOptions) {
  if (DOCS.has(options.operationId) && DOCS.get(options.operationId) !== options) {
    throw new Error(`operationId ${options.operationId} is declared twice`);
  }
  DOCS.set(options.operationId, options);
  const described = describeRoute({
    operationId: options.operationId,
    summary: options.summary,
    description: options.description,
    tags: [options.tag],
    security: options.public ? [] : [{ bearerAuth: [] }],
  });
  // What the document reads is the spec hono-openapi keeps on its middleware; the middleware itself
  // only awaits `next()`, an async step every request of the route would take. Ours hands `next()` on.
  const passOn: MiddlewareHandler = (_c, next) => next();
  return Object.assign(passOn, { [uniqueSymbol]: (described as unknown as Record<symbol, unknown>)[uniqueSymbol] }) as typeof described;
}

/** The 409 of every operation that honours `Idempotency-Key`, unless it names its own. */
const KEY_CONFLICT = "The `Idempotency-Key` was used for another request, or its first request still runs.";

/** A page of an entity: `data` is an array of it, `meta` the paging. */
export const pageOf = (data: Entity) => ({ data, paged: true }) as const;

/** A create: answers 201, reads a body and honours `Idempotency-Key`. */
export const creates = (data: Entity) => ({ data, status: 201, body: true, idempotent: true }) as const;

/** An operation of a tag's table: its `DocOptions` but the tag, keyed by operationId. */
export type OperationDoc = Omit<DocOptions, "operationId" | "tag">;

/**
 * The operations of one tag, declared as a table by operationId (a route file reads as its routes,
 * the table beside them): each entry is that route's `doc` middleware, `op.listGroups`.
 */
export function operations<K extends string>(tag: Tag, table: Record<K, OperationDoc>): Record<K, ReturnType<typeof doc>> {
  const entries = Object.entries<OperationDoc>(table).map(([operationId, options]) => [operationId, doc({ operationId, tag, ...options })]);
  return Object.fromEntries(entries) as Record<K, ReturnType<typeof doc>>;
}

const ERRORS = {
  400: {
    name: "ValidationError",
    code: "VALIDATION_ERROR",
    description: "Validation error: `details` lists each field path and what is wrong with it.",
  },
  401: { name: "Unauthorized", code: "UNAUTHORIZED", description: "Invalid or missing API key." },
  403: { name: "Forbidden", code: "FORBIDDEN", description: "Forbidden." },
  404: { name: "NotFound", code: "NOT_FOUND", description: "Not found." },
  409: { name: "Conflict", code: "CONFLICT", description: "Conflict with the current state." },
  413: { name: "PayloadTooLarge", code: "PAYLOAD_TOO_LARGE", description: "Request body exceeds 1 MB." },
  429: { name: "RateLimited", code: "RATE_LIMITED", description: "Rate limit exceeded: retry after `Retry-After` seconds." },
} as const;
type DocumentedError = keyof typeof ERRORS;

/** An error body: its code, message and, for 400 and 409, the details by path. */
const errorExample = (code: string, message: string, details?: Record<string, string>) => ({
  code,
  message,
  ...(details && { details: Object.entries(details).map(([path, problem]) => ({ path, message: problem })) }),
});

const ERROR_EXAMPLES: Record<DocumentedError, unknown> = {
  400: errorExample("VALIDATION_ERROR", "Request validation failed", { email: "must be a valid email address" }),
  401: errorExample("UNAUTHORIZED", "Invalid or missing API key"),
  403: errorExample("FORBIDDEN", "SNS message rejected: the signature does not verify"),
  404: errorExample("NOT_FOUND", "Campaign cmp_abc123 not found"),
  409: errorExample("CONFLICT", "Cannot start a campaign that is active", { status: "is active; start needs draft" }),
  413: errorExample("PAYLOAD_TOO_LARGE", "Request body exceeds 1 MB"),
  429: errorExample("RATE_LIMITED", "Rate limit of 100 requests per minute exceeded"),
};

const ref = (kind: "schemas" | "responses" | "headers" | "parameters", name: string) => ({ $ref: `#/components/${kind}/${name}` });

const HEADERS = {
  "X-Request-Id": {
    description: "The request's id: the caller's `X-Request-Id` when it is 1 to 128 of `A-Za-z0-9._:-`, else a new UUID.",
    schema: { type: "string" },
    example: "5f0c6a8e-8d1c-4a53-9b7e-2f4d1c9a7e10",
  },
  "X-RateLimit-Limit": { description: "Requests allowed per minute for this key.", schema: { type: "integer", minimum: 0 }, example: 100 },
  "X-RateLimit-Remaining": { description: "Requests left in the current minute.", schema: { type: "integer", minimum: 0 }, example: 97 },
  "X-RateLimit-Reset": {
    description: "When the current window ends (Unix time, seconds).",
    schema: { type: "integer", minimum: 0 },
    example: 1736937060,
  },
  "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer", minimum: 0 }, example: 12 },
  "Idempotent-Replayed": {
    description: "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.",
    schema: { type: "string", enum: ["true"] },
    example: "true",
  },
} as const;
type HeaderName = keyof typeof HEADERS;

const headers = (names: HeaderName[]) => Object.fromEntries(names.map((name) => [name, ref("headers", name)]));
const RATE = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"] as const;

/** Answers to an API key carry the rate-limit headers (but 401: no key, no limit); 429 says when to retry. */
const errorHeaders = (status: DocumentedError, authed: boolean) =>
  headers(["X-Request-Id", ...(authed && status !== 401 ? RATE : []), ...(status === 429 ? (["Retry-After"] as const) : [])]);

function errorSchema(code: string) {
  return {
    type: "object",
    required: ["success", "error"],
    properties: {
      success: { const: false },
      error: {
        type: "object",
        required: ["code", "message"],
        properties: {
          code: { const: code },
          message: { type: "string" },
          details: { type: "array", items: ref("schemas", "ErrorDetail") },
        },
      },
    },
  };
}

/** Valibot → JSON Schema: counters are integers (`v.integer()`); what cannot be expressed is left open. */
const jsonSchema = (schema: v.GenericSchema) => {
  const { $schema: _, ...rest } = toJsonSchema(schema, { target: "draft-2020-12", errorMode: "ignore" }) as Record<string, unknown>;
  return rest;
};

function components() {
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(ENTITIES)) {
    const example = EXAMPLES[name as Entity];
    // Lists (stats per email, timeline) have an array as example; the component is one item.
    const item = Array.isArray(example) ? example[0] : example;
    schemas[name] = { ...jsonSchema(schema), ...(item !== undefined ? { examples: [item] } : {}) };
  }
  schemas.ErrorDetail = {
    type: "object",
    required: ["path", "message"],
    properties: {
      path: {
        type: "string",
        description: "The field's path (`contacts[3].email`, `workflow.nodes[2].data.subject`); empty for the whole request.",
      },
      message: { type: "string" },
      nodeId: { type: "string", description: "Workflow errors: the node concerned." },
      edge: {
        type: "object",
        description: "Workflow errors: the edge concerned.",
        required: ["from", "to"],
        properties: { from: { type: "string" }, to: { type: "string" } },
      },
    },
  };
  const responses: Record<string, unknown> = {};
  for (const [status, error] of Object.entries(ERRORS)) {
    schemas[`${error.name}Error`] = errorSchema(error.code);
    // Two shared responses per error: to an API key (with the rate-limit headers, but on 401) and
    // public (webhooks, unsubscribe pages). Operations refer to them unless they say when the status comes.
    for (const authed of [true, false]) {
      const key = Number(status) as DocumentedError;
      responses[authed ? error.name : `${error.name}Public`] = {
        description: error.description,
        headers: errorHeaders(key, authed),
        content: {
          "application/json": { schema: ref("schemas", `${error.name}Error`), example: { success: false, error: ERROR_EXAMPLES[key] } },
        },
      };
    }
  }
  return {
    schemas,
    responses,
    headers: HEADERS,
    parameters: {
      IdempotencyKey: {
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description:
          "Makes a retry safe: the first answer (below 500) is stored for 24 h and replayed to a repeat; the key reused with another request answers 409, and a repeat while the first runs waits for it (up to 5 s), then 409 with `Retry-After`.",
        schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
        example: "2b6f0cc9-create-campaign-q1",
      },
    },
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", description: "`flz_sk_` followed by 32 letters or digits." },
    },
  };
}

function successSchema(options: DocOptions): Record<string, unknown> {
  if (!options.data) return { type: "object", required: ["success", "data"], properties: { success: { const: true }, data: {} } };
  const item = ref("schemas", options.data);
  const data = options.paged || options.list ? { type: "array", items: item } : item;
  const properties: Record<string, unknown> = { success: { const: true }, data };
  if (options.paged) properties.meta = ref("schemas", options.meta ?? "PageMeta");
  return { type: "object", required: options.paged ? ["success", "data", "meta"] : ["success", "data"], properties };
}

/** A deletion answers the id it deleted: the example is the tag's resource id. */
const deletedExample = (tag: Tag) => {
  const id = RESOURCE_IDS[tag]?.example;
  return id ? { id, deleted: true } : EXAMPLES.Deleted;
};

function successExample(options: DocOptions) {
  const entity = options.data === "Deleted" ? deletedExample(options.tag) : options.data ? EXAMPLES[options.data] : undefined;
  const data = options.example ?? entity;
  if (data === undefined) return undefined;
  if (options.paged) {
    const meta = options.meta === "FeedMeta" ? EXAMPLES.FeedMeta : { page: 1, perPage: 20, total: 1, totalPages: 1 };
    return { success: true, data: [data], meta };
  }
  return { success: true, data: options.list && !Array.isArray(data) ? [data] : data };
}

const RESOURCE_IDS: Record<Tag, { description: string; example: string } | undefined> = {
  Campaigns: { description: "The campaign's id (`cmp_…`).", example: "cmp_abc123" },
  Statistics: { description: "The campaign's id (`cmp_…`).", example: "cmp_abc123" },
  Contacts: { description: "The contact's id (`con_…`).", example: "con_xyz789" },
  Groups: { description: "The group's id (`grp_…`).", example: "grp_a1b2c3" },
  "Email accounts": { description: "The email account's id (`acc_…`).", example: "acc_xyz789" },
  Suppressions: { description: "The entry's id (`sup_…`).", example: "sup_01jq0c6b7s" },
  "Outbound webhooks": { description: "The webhook subscription's id (`whk_…`).", example: "whk_01jq0c7k2dab12cd34ef56ab78" },
  Unsubscribe: undefined,
  Webhooks: undefined,
  Local: undefined,
};

type OperationObject = Record<string, any>;

/** `page`/`perPage` are strings in the URL, validated as integers: documented as integers with their bounds. */
const PAGING = {
  page: { description: "Page number, from 1.", schema: { type: "integer", minimum: 1, maximum: 999_999_999, default: 1 }, example: 1 },
  perPage: { description: "Items per page.", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 }, example: 20 },
};

function complete(operation: OperationObject, options: DocOptions) {
  operation.operationId = options.operationId;
  const authed = !options.public;
  const status = options.status ?? 200;
  const success: OperationObject = {
    description: options.html ? "An HTML page." : "Success.",
    headers: headers(["X-Request-Id", ...(authed ? RATE : []), ...(options.idempotent ? (["Idempotent-Replayed"] as const) : [])]),
  };
  if (options.html) success.content = { "text/html": { schema: { type: "string" }, example: "<!doctype html>…" } };
  else {
    const example = successExample(options);
    success.content = { "application/json": { schema: successSchema(options), ...(example !== undefined ? { example } : {}) } };
  }
  const responses: OperationObject = { [status]: success };

  const errors: Partial<Record<DocumentedError, string | undefined>> = { 400: undefined };
  if (authed) errors[401] = undefined;
  for (const [code, when] of Object.entries(options.errors ?? {})) errors[Number(code) as ErrorStatus] = when;
  if (options.idempotent) errors[409] ??= KEY_CONFLICT;
  if (options.body || operation.requestBody) errors[413] = undefined;
  if (authed) errors[429] = undefined;
  for (const key of Object.keys(errors).map(Number) as DocumentedError[]) {
    const name = ERRORS[key].name;
    const when = errors[key];
    if (options.html && key === 404) {
      responses[404] = { description: when ?? "The link is not valid.", content: { "text/html": { schema: { type: "string" } } } };
      continue;
    }
    if (!when) {
      responses[key] = ref("responses", authed ? name : `${name}Public`);
      continue;
    }
    // A description says when the status comes: the response is written out, with the same headers.
    responses[key] = {
      description: when,
      headers: errorHeaders(key, authed),
      content: { "application/json": { schema: ref("schemas", `${name}Error`), example: { success: false, error: ERROR_EXAMPLES[key] } } },
    };
  }
  if (options.html) delete responses[400];
  operation.responses = responses;

  const parameters: OperationObject[] = (operation.parameters ?? []).map((parameter: OperationObject) => {
    if (parameter.in === "query" && parameter.name in PAGING) return { ...parameter, ...PAGING[parameter.name as keyof typeof PAGING] };
    if (parameter.in !== "path") return parameter;
    const declared = options.params?.[parameter.name] ?? (parameter.name === "id" ? RESOURCE_IDS[options.tag] : undefined);
    return declared ? { ...parameter, description: declared.description, example: declared.example } : parameter;
  });
  if (options.idempotent) parameters.push(ref("parameters", "IdempotencyKey"));
  if (parameters.length) operation.parameters = parameters;
  const media = operation.requestBody?.content?.["application/json"];
  if (media && options.requestExample !== undefined) media.example = options.requestExample;
  if (media?.schema && options.exactlyOneOf) media.schema.oneOf = options.exactlyOneOf.map((name) => ({ required: [name] }));
  const rowsField = ["contacts", "entries"].find((name) => media?.schema?.properties?.[name]);
  if (rowsField && options.rows) media!.schema!.properties![rowsField]!.items = jsonSchema(options.rows);
  if (options.public) operation.security = [];
  return operation;
}

const INFO = {
  title: "FluenzR API",
  version: "1.0.0",
  description:
    "Cold-email campaigns: contacts, groups, email accounts, campaigns with multi-step sequences, statistics. " +
    "Authenticate with `Authorization: Bearer flz_sk_...`. Every response is an envelope `{success, data, meta?}` " +
    "or `{success: false, error: {code, message, details?}}`; each error status carries one code. " +
    "Every answer to an API key carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`, every answer `X-Request-Id`.",
  license: { name: "Proprietary", identifier: "LicenseRef-FluenzR" },
  contact: { name: "FluenzR", url: "https://github.com/fluenzr" },
};

const built = new WeakMap<object, Promise<Record<string, any>>>();

/** The document of an app, built once per app. */
export function buildDocument(app: Hono<any, any, any>): Promise<Record<string, any>> {
  let document = built.get(app);
  if (!document) {
    document = assemble(app);
    built.set(app, document);
  }
  return document;
}

async function assemble(app: Hono<any, any, any>) {
  const generated = (await generateSpecs(app, { documentation: { openapi: "3.1.0", info: INFO } as never })) as Record<string, any>;
  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const [path, item] of Object.entries(generated.paths as Record<string, Record<string, OperationObject>>)) {
    for (const [method, operation] of Object.entries(item)) {
      const options = operation.operationId ? DOCS.get(operation.operationId) : undefined;
      if (!options) throw new Error(`${method.toUpperCase()} ${path} has no doc({...}) entry`);
      paths[path] ??= {};
      paths[path][method] = complete(operation, options);
    }
  }
  const parts = components();
  // Shared error responses that no public operation refers to are left out (an unused component is noise).
  const used = JSON.stringify(paths);
  parts.responses = Object.fromEntries(
    Object.entries(parts.responses).filter(([name]) => used.includes(`"#/components/responses/${name}"`)),
  );
  return {
    openapi: "3.1.0",
    info: INFO,
    servers: [{ url: "/", description: "This server" }],
    tags: TAGS,
    security: [{ bearerAuth: [] }],
    paths,
    components: parts,
  };
}
