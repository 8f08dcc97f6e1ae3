import * as v from "valibot";

// One message per field: a blank email is "is required", not also "must be a valid email".
v.setGlobalConfig({ abortPipeEarly: true });

import { type ErrorDetail, invalid } from "../error";

/** An issue from Valibot or any Standard Schema validator. */
export interface Issue {
  readonly message: string;
  readonly kind?: string;
  readonly type?: string;
  readonly received?: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: unknown }> | undefined;
}

/** `settings.sendDays[2]`: the field path of an issue, as the API reports it. */
export function issuePath(issue: Issue): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = typeof item === "object" && item !== null ? item.key : item;
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Valibot's wording for a missing key is about schemas; callers want to know the field is required. */
function messageOf(issue: Issue): string {
  if (issue.kind === "schema" && issue.type === "object" && issue.received === "undefined") return "is required";
  return issue.message;
}

export function issuesToDetails(issues: readonly Issue[]): ErrorDetail[] {
  return issues.map((issue) => ({ path: issuePath(issue), message: messageOf(issue) }));
}

/** A bulk row's issues as details, their paths under the row: `contacts[3].email`, or `contacts[3]` itself. */
export function rowDetails(issues: readonly Issue[], field: string, index: number): ErrorDetail[] {
  return issues.map((issue) => {
    const path = issuePath(issue);
    return { path: path ? `${field}[${index}].${path}` : `${field}[${index}]`, message: issue.message };
  });
}

/** Parse or throw a `validation` VisibleError listing every issue with its path. */
export function parse<S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (!result.success) throw invalid(issuesToDetails(result.issues));
  return result.output;
}

/**
 * A domain function that validates its own input. The schema stays attached so the HTTP layer
 * reuses it for request validation and the OpenAPI document.
 */
export function fn<S extends v.GenericSchema, R>(
  schema: S,
  cb: (input: v.InferOutput<S>) => R,
): ((input: v.InferInput<S>) => R) & { schema: S } {
  const wrapped = (input: v.InferInput<S>) => cb(parse(schema, input));
  wrapped.schema = schema;
  return wrapped;
}

/** `fn` for a function of a resource's id and an input (`update(id, input)`). */
export function fnFor<S extends v.GenericSchema, R>(
  schema: S,
  cb: (id: string, input: v.InferOutput<S>) => R,
): ((id: string, input: v.InferInput<S>) => R) & { schema: S } {
  const wrapped = (id: string, input: v.InferInput<S>) => cb(id, parse(schema, input));
  wrapped.schema = schema;
  return wrapped;
}
