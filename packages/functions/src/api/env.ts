/** The Hono environment of the API: what middleware puts in context for handlers. */
export interface ApiEnv {
  Variables: {
    requestId: string;
    workspaceId: string;
    keyId: string;
    /** Headers for this request's response (see respond.ts). */
    responseHeaders: Record<string, string>;
  };
}
