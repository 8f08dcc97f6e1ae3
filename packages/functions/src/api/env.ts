/** The Hono environment of the API: what middleware puts in context for handlers. */
export interface ApiEnv {
  Variables: {
    requestId: string;
    workspaceId: string;
    keyId: string;
    /** The bearer token, kept by `auth` for a route that authenticates with its read (`fused`). */
    apiKey: string;
    /** Headers for this request's response (see respond.ts). */
    responseHeaders: Record<string, string>;
  };
}
