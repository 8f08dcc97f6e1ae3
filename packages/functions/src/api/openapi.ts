import { VisibleError } from "@fluenzr/core/error";
import { type Issue, issuesToDetails, objectOnly } from "@fluenzr/core/util";
import { describeRoute, resolver, validator } from "hono-openapi";
import * as v from "valibot";

/**
 * Route declarations: the Valibot schemas the domain validates with are the ones given to
 * `body()` / `query()` here, and hono-openapi turns the same schemas into the OpenAPI document.
 */

type ValidationResult = { success: boolean; error?: readonly Issue[] };

function failOn(result: ValidationResult) {
  if (!result.success) throw new VisibleError("validation", "Request validation failed", issuesToDetails(result.error ?? []));
}

/** A JSON body: an object (a top-level array is refused, not read as `{}`). */
export const body = <S extends v.GenericSchema>(schema: S) => validator("json", objectOnly(schema), failOn);
export const query = <S extends v.GenericSchema>(schema: S) => validator("query", schema, failOn);

const ErrorEnvelope = v.object({
  success: v.literal(false),
  error: v.object({
    code: v.picklist([
      "VALIDATION_ERROR",
      "UNAUTHORIZED",
      "FORBIDDEN",
      "NOT_FOUND",
      "CONFLICT",
      "PAYLOAD_TOO_LARGE",
      "RATE_LIMITED",
      "INTERNAL_ERROR",
    ]),
    message: v.string(),
    details: v.optional(v.array(v.object({ path: v.string(), message: v.string() }))),
  }),
});

const PageMeta = v.object({ page: v.number(), perPage: v.number(), total: v.number(), totalPages: v.number() });

const json = (schema: v.GenericSchema) => ({ "application/json": { schema: resolver(schema) } });
const error = (description: string) => ({ description, content: json(ErrorEnvelope) });

export interface DocOptions {
  summary: string;
  description?: string;
  tag: string;
  /** Schema of `data` in the success envelope. */
  data?: v.GenericSchema;
  /** The answer is a page: `data` is an array of `data` and `meta` holds the paging. */
  paged?: boolean;
  /** The page's `meta` when it is not the lists' `{page, perPage, total, totalPages}` (event feeds). */
  meta?: v.GenericSchema;
  status?: 200 | 201;
  /** Public routes (webhooks, unsubscribe) carry no API key. */
  public?: boolean;
  /** Extra error statuses this route answers with, beyond the common ones. */
  errors?: Array<404 | 409>;
}

export function doc(options: DocOptions) {
  const data = options.data ?? v.unknown();
  const envelope = v.object({
    success: v.literal(true),
    data: options.paged ? v.array(data) : data,
    ...(options.paged ? { meta: options.meta ?? PageMeta } : {}),
  }) as unknown as v.GenericSchema;
  const responses: Record<string, unknown> = {
    [options.status ?? 200]: { description: "Success", content: json(envelope) },
    400: error("Validation error: `details` lists each field path and what is wrong with it"),
  };
  if (!options.public) {
    responses[401] = error("Invalid or missing API key");
    responses[429] = error("Rate limit exceeded: retry after `Retry-After` seconds");
  }
  for (const status of options.errors ?? []) responses[status] = error(status === 404 ? "Not found" : "Conflict with the current state");
  return describeRoute({
    summary: options.summary,
    description: options.description,
    tags: [options.tag],
    security: options.public ? [] : [{ bearerAuth: [] }],
    responses: responses as never,
  });
}

export const DOCUMENTATION = {
  info: {
    title: "FluenzR API",
    version: "1.0.0",
    description:
      "Cold-email campaigns: contacts, groups, email accounts, campaigns with multi-step sequences, statistics. " +
      "Authenticate with `Authorization: Bearer flz_sk_...`. Every response is an envelope `{success, data, meta?}` " +
      "or `{success: false, error: {code, message, details?}}`.",
  },
  components: {
    securitySchemes: { bearerAuth: { type: "http" as const, scheme: "bearer", description: "flz_sk_ followed by 32 letters or digits" } },
  },
  security: [{ bearerAuth: [] }],
};
