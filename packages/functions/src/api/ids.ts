import { notFound } from "@fluenzr/core/error";
import { type IdKind, isId } from "@fluenzr/core/util";
import type { Context } from "hono";

const NAMES = {
  contact: "Contact",
  group: "Group",
  emailAccount: "Email account",
  campaign: "Campaign",
  suppression: "Suppression",
  webhook: "Webhook",
  webhookDelivery: "Delivery",
} as const;
export type ResourceKind = keyof typeof NAMES & IdKind;

/**
 * The path's `:id`, checked to be an id of this kind: one that cannot exist (wrong prefix, a NUL
 * byte, too long) names nothing, so it answers 404 before any SQL is run. Every route with an id
 * in its path reads it through here.
 */
export function pathId(c: Context, kind: ResourceKind, param = "id"): string {
  const id = c.req.param(param) ?? "";
  if (!isId(kind, id)) throw notFound(NAMES[kind], id);
  return id;
}

/** What a read by the path's id found, or the 404 naming that id. */
export function found<T>(value: T | undefined, kind: ResourceKind, c: Context, param = "id"): T {
  if (value === undefined) throw notFound(NAMES[kind], c.req.param(param) ?? "");
  return value;
}
