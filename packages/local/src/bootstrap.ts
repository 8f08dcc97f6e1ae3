import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as Auth from "@fluenzr/core/auth";
import * as Workspace from "@fluenzr/core/workspace";
import type { LocalConfig } from "./database";

export interface Bootstrapped {
  workspaceId: string;
  /** The key to print: a new one, or BOOTSTRAP_API_KEY. */
  key?: string;
  created: boolean;
}

/**
 * First start: a workspace and an API key, printed once and kept in DATA_DIR/api-key (local
 * mode only, mode 600) so a restart can say where it is. With BOOTSTRAP_API_KEY, that key is
 * made to exist and be valid, so scripts can talk to the server.
 */
export async function bootstrap(config: LocalConfig): Promise<Bootstrapped> {
  if (config.bootstrapKey) {
    if (!Auth.KEY_PATTERN.test(config.bootstrapKey)) {
      throw new Error("BOOTSTRAP_API_KEY must be flz_sk_ followed by 32 letters or digits");
    }
    const existing = await Auth.fromKey(config.bootstrapKey);
    if (existing && !existing.revokedAt) return { workspaceId: existing.workspaceId, created: false };
    if (existing) throw new Error(`BOOTSTRAP_API_KEY is revoked (${existing.id}); choose another key`);
    const workspaceId = (await Workspace.list())[0]?.id ?? (await Workspace.create("Local workspace")).id;
    await Auth.createKey({ workspaceId, name: "bootstrap", key: config.bootstrapKey });
    return { workspaceId, created: true };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const workspaces = await Workspace.list();
  if (workspaces.length > 0) return { workspaceId: workspaces[0]!.id, created: false };
  const workspace = await Workspace.create("Local workspace");
  const { key } = await Auth.createKey({ workspaceId: workspace.id, name: "local" });
  const file = keyFile(config);
  writeFileSync(file, `${key}\n`);
  chmodSync(file, 0o600);
  return { workspaceId: workspace.id, key, created: true };
}

export const keyFile = (config: LocalConfig) => join(config.dataDir, "api-key");

export function savedKey(config: LocalConfig): string | undefined {
  return existsSync(keyFile(config)) ? readFileSync(keyFile(config), "utf8").trim() : undefined;
}
