/** The Hono environment of the API: what middleware puts in context for handlers. */
export interface ApiEnv {
  Variables: {
    requestId: string;
    workspaceId: string;
    keyId: string;
  };
}
