import { randomBytes } from "node:crypto";
import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Contact from "@fluenzr/core/contact";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Group from "@fluenzr/core/group";
import * as Workspace from "@fluenzr/core/workspace";

/** Factories: data built through the domain's own functions, each in a fresh workspace. */

let sequence = 0;
export const unique = (prefix = "x") => `${prefix}${++sequence}${randomBytes(3).toString("hex")}`;

export interface TestWorkspace {
  id: string;
  key: string;
  keyId: string;
  /** Run domain code as this workspace. */
  as<T>(fn: () => T): T;
}

export async function workspace(options: { rateLimit?: number } = {}): Promise<TestWorkspace> {
  const ws = await Workspace.create(unique("Workspace "));
  const key = await Auth.createKey({ workspaceId: ws.id, name: "test", rateLimit: options.rateLimit });
  return { id: ws.id, key: key.key, keyId: key.id, as: (fn) => Actor.asWorkspace(ws.id, fn) };
}

export function contact(ws: TestWorkspace, input: Partial<Parameters<typeof Contact.create>[0]> = {}) {
  return ws.as(() => Contact.create({ email: `${unique("person")}@example.org`, firstName: "Ada", ...input }));
}

export function group(ws: TestWorkspace, input: Partial<Parameters<typeof Group.create>[0]> = {}) {
  return ws.as(() => Group.create({ name: unique("Group "), ...input }));
}

export function emailAccount(ws: TestWorkspace, input: Partial<Parameters<typeof EmailAccount.create>[0]> = {}) {
  return ws.as(() => EmailAccount.create({ email: `${unique("sender")}@example.com`, name: "Sender", ...input }));
}
