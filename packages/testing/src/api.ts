import { createApp } from "@fluenzr/functions/api/app";
import { beforeAll } from "vitest";
import { assertContract } from "./contract";
import { useTestDatabase } from "./database";
import { type TestWorkspace, workspace } from "./factories";

type App = ReturnType<typeof createApp>;

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is (malformed JSON tests). */
  rawBody?: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** Override the client's key; `null` sends no Authorization header. */
  key?: string | null;
  /**
   * Skip the contract check of this response: only for a test about the checker itself. Every
   * other response is validated against the OpenAPI document (contract.ts).
   */
  unchecked?: boolean;
}

/** An API client over `app.request()`: the real app and middleware, no network. */
export function apiClient(app: App = createApp(), defaultKey?: string) {
  async function request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(path, "http://api.test");
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? defaultKey : options.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const response = await app.request(url.pathname + url.search, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (HTML pages, scripts)
    }
    if (!options.unchecked) {
      await assertContract(app, { method, path: url.pathname, status: response.status, headers: response.headers, body: parsed });
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }
  return {
    app,
    request,
    get: <T = any>(path: string, options?: RequestOptions) => request<T>("GET", path, options),
    post: <T = any>(path: string, body?: unknown, options?: RequestOptions) => request<T>("POST", path, { ...options, body }),
    put: <T = any>(path: string, body?: unknown, options?: RequestOptions) => request<T>("PUT", path, { ...options, body }),
    delete: <T = any>(path: string, body?: unknown, options?: RequestOptions) => request<T>("DELETE", path, { ...options, body }),
    withKey: (key: string) => apiClient(app, key),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;

/** A fresh workspace and a client on its key, for tests that count or list. */
export async function freshApi(app: App) {
  const w = await workspace();
  return { w, api: apiClient(app, w.key) };
}

/** A suite's workspaces: yours with a client on its key, and another (its ids must be 404 to you). */
export async function apiWorkspaces(app: App) {
  const { w: ws, api } = await freshApi(app);
  return { ws, other: await workspace(), api };
}

export interface ApiSuite {
  app: App;
  /** Your workspace, with `api` on its key. */
  ws: TestWorkspace;
  /** Another workspace: its ids must be 404 to you. */
  other: TestWorkspace;
  api: ApiClient;
  /** A new workspace and client, for a test that counts or lists. */
  fresh: () => ReturnType<typeof freshApi>;
}

/**
 * An API test file's setup in one call: its own database, the real app, and the two workspaces
 * (filled in before the first test runs, so read them inside tests: `s.api`, `s.ws`).
 */
export function apiSuite(): ApiSuite {
  useTestDatabase();
  const app = createApp();
  const suite = { app, fresh: () => freshApi(app) } as ApiSuite;
  beforeAll(async () => {
    Object.assign(suite, await apiWorkspaces(app));
  });
  return suite;
}
