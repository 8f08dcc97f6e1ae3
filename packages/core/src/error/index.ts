/**
 * Errors a caller is meant to see. Each kind maps to one HTTP status in the API layer
 * (packages/functions/src/api/errors.ts); the domain never builds HTTP responses.
 */
export type ErrorKind = "validation" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "payload_too_large" | "rate_limited";

export interface ErrorDetail {
  path: string;
  message: string;
  [extra: string]: unknown;
}

export class VisibleError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = "VisibleError";
  }
}

export const notFound = (what: string, id?: string) => new VisibleError("not_found", id ? `${what} ${id} not found` : `${what} not found`);

export const conflict = (message: string, details?: ErrorDetail[]) => new VisibleError("conflict", message, details);

export const invalid = (details: ErrorDetail[], message = "Request validation failed") => new VisibleError("validation", message, details);
