import { isInvalidInput, isUniqueViolation } from "@fluenzr/core/database";
import { type ErrorDetail, type ErrorKind, VisibleError } from "@fluenzr/core/error";
import * as Log from "@fluenzr/core/log";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { json } from "./respond";

/** The one place where an error kind becomes an HTTP status and an error code (SPEC §1). */
export const ERROR_STATUS: Record<ErrorKind | "internal", { status: ContentfulStatusCode; code: string }> = {
  validation: { status: 400, code: "VALIDATION_ERROR" },
  unauthorized: { status: 401, code: "UNAUTHORIZED" },
  forbidden: { status: 403, code: "FORBIDDEN" },
  not_found: { status: 404, code: "NOT_FOUND" },
  conflict: { status: 409, code: "CONFLICT" },
  payload_too_large: { status: 413, code: "PAYLOAD_TOO_LARGE" },
  rate_limited: { status: 429, code: "RATE_LIMITED" },
  internal: { status: 500, code: "INTERNAL_ERROR" },
};

export function errorBody(kind: ErrorKind | "internal", message: string, details?: ErrorDetail[]) {
  return { success: false as const, error: { code: ERROR_STATUS[kind].code, message, ...(details ? { details } : {}) } };
}

export function errorResponse(c: Context, kind: ErrorKind | "internal", message: string, details?: ErrorDetail[]) {
  return json(c, errorBody(kind, message, details), ERROR_STATUS[kind].status);
}

/** app.onError: known errors answer with their kind; anything else is logged in full and hidden. */
export function handleError(error: Error, c: Context) {
  if (error instanceof VisibleError) return errorResponse(c, error.kind, error.message, error.details);
  if (isUniqueViolation(error)) return errorResponse(c, "conflict", "The resource already exists");
  if (isInvalidInput(error)) {
    Log.warn("database refused a value that passed validation", { requestId: c.get("requestId"), path: c.req.path, error });
    return errorResponse(c, "validation", "A value in the request cannot be stored", [
      { path: "", message: "a value is malformed or out of range" },
    ]);
  }
  if (error instanceof HTTPException) {
    if (error.status === 413) return errorResponse(c, "payload_too_large", "Request body exceeds 1 MB");
    if (error.status === 400) return errorResponse(c, "validation", error.message || "Bad request", [{ path: "", message: error.message }]);
    if (error.status === 401) return errorResponse(c, "unauthorized", "Invalid or missing API key");
  }
  Log.error("unhandled error", { requestId: c.get("requestId"), method: c.req.method, path: c.req.path, error });
  return errorResponse(c, "internal", "An internal error occurred");
}
