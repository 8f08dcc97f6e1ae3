/** The Hono environment of the API: what middleware puts in context for handlers. */
export interface ApiEnv {
  Variables: {
    requestId: string;
    workspaceId: string;
    keyId: string;
    /** The bearer token, kept by `auth` for a route that authenticates with its read (`fused`). */
    apiKey: string;
    /** What the route's fused read found, and which read it was (middleware/auth.ts). */
    fusedRead: { middleware: unknown; value: unknown };
    /** Headers for this request's response (see respond.ts). */
    responseHeaders: Record<string, string>;
    /** The response `json` built for this request, which carries them already (respond.ts). */
    jsonResponse: Response;
  };
}
