import { AsyncLocalStorage } from "node:async_hooks";
import { VisibleError } from "../error";

/**
 * Who is acting: a workspace (an API request, set by the auth middleware) or the system (the
 * engine, webhooks, scripts). Queries read the workspace from here rather than from arguments,
 * so a handler cannot forget the tenancy filter.
 */
export type Actor = { type: "workspace"; workspaceId: string; keyId?: string } | { type: "system" };

const storage = new AsyncLocalStorage<Actor>();

export function provide<T>(actor: Actor, fn: () => T): T {
  return storage.run(actor, fn);
}

export function use(): Actor {
  const actor = storage.getStore();
  if (!actor) throw new Error("No actor in context");
  return actor;
}

/** The current workspace id; throws when the code runs outside a workspace context. */
export function workspaceId(): string {
  const actor = storage.getStore();
  if (actor?.type !== "workspace") throw new VisibleError("unauthorized", "Invalid or missing API key");
  return actor.workspaceId;
}

export const asWorkspace = <T>(workspaceId: string, fn: () => T): T => provide({ type: "workspace", workspaceId }, fn);

/**
 * A workspace actor known only once its API key has been checked, by the request's first
 * statement (a write's key rides on its transaction's BEGIN: api/middleware/auth.ts). Reading
 * its workspace earlier is a bug in the route's code, not the caller's: it throws.
 */
export function awaitingKey(): { actor: Actor; resolve(workspaceId: string, keyId: string): void } {
  let known: { workspaceId: string; keyId: string } | undefined;
  const actor = {
    type: "workspace" as const,
    get workspaceId(): string {
      if (!known) throw new Error("The workspace was read before the request's API key was checked (read it inside the transaction)");
      return known.workspaceId;
    },
    get keyId(): string | undefined {
      return known?.keyId;
    },
  };
  return { actor, resolve: (workspaceId, keyId) => (known = { workspaceId, keyId }) };
}
