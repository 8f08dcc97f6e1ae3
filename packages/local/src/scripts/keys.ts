import { parseArgs } from "node:util";
import * as Auth from "@fluenzr/core/auth";
import * as Database from "@fluenzr/core/database";
import * as Workspace from "@fluenzr/core/workspace";
import { openLocalDatabase, readConfig } from "../database";

const USAGE = `Manage API keys (against DATABASE_URL, or the local data folder when it is unset).

  npm run keys -- create [--workspace ws_...] [--new-workspace "Acme"] [--name "ci"] [--rate-limit 1000]
  npm run keys -- list [--workspace ws_...]
  npm run keys -- revoke key_...
  npm run keys -- workspaces

create prints the key once: only its SHA-256 hash is stored. Without --workspace, the only
workspace is used (or one is created when there is none).`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    workspace: { type: "string" },
    "new-workspace": { type: "string" },
    name: { type: "string" },
    "rate-limit": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const [command, argument] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  process.exit(command ? 0 : 1);
}

const fmt = (date: Date | null) => (date ? date.toISOString().replace(/\.\d+Z$/, "Z") : "-");

async function resolveWorkspace(): Promise<string> {
  if (values["new-workspace"]) return (await Workspace.create(values["new-workspace"])).id;
  if (values.workspace) {
    if (!(await Workspace.fromID(values.workspace))) throw new Error(`No workspace ${values.workspace}`);
    return values.workspace;
  }
  const all = await Workspace.list();
  if (all.length === 1) return all[0]!.id;
  if (all.length === 0) return (await Workspace.create("Default workspace")).id;
  throw new Error(`Several workspaces exist; pass --workspace (one of ${all.map((w) => w.id).join(", ")})`);
}

async function run() {
  switch (command) {
    case "create": {
      const workspaceId = await resolveWorkspace();
      const rateLimit = values["rate-limit"] ? Number(values["rate-limit"]) : undefined;
      if (rateLimit !== undefined && !(Number.isInteger(rateLimit) && rateLimit > 0))
        throw new Error("--rate-limit must be a positive integer");
      const created = await Auth.createKey({ workspaceId, name: values.name ?? "cli", rateLimit });
      console.log(`Created ${created.id} for workspace ${workspaceId} (${created.rateLimit} requests/minute).`);
      console.log(`\n  ${created.key}\n\nStore it now: it is not shown again.`);
      return;
    }
    case "list": {
      const workspaces = values.workspace ? [values.workspace] : (await Workspace.list()).map((w) => w.id);
      const rows = (await Promise.all(workspaces.map((id) => Auth.listKeys(id)))).flat();
      if (!rows.length) return console.log("No keys.");
      console.table(
        rows.map((k) => ({
          id: k.id,
          workspace: k.workspaceId,
          name: k.name,
          key: `${k.prefix}…`,
          created: fmt(k.createdAt),
          lastUsed: fmt(k.lastUsedAt),
          revoked: fmt(k.revokedAt),
        })),
      );
      return;
    }
    case "revoke": {
      if (!argument) throw new Error("revoke needs a key id (key_...)");
      const revoked = await Auth.revokeKey(argument);
      if (!revoked) throw new Error(`No active key ${argument}`);
      console.log(`Revoked ${revoked.id}: requests with it are refused from now on.`);
      return;
    }
    case "workspaces": {
      console.table((await Workspace.list()).map((w) => ({ id: w.id, name: w.name, created: fmt(w.createdAt) })));
      return;
    }
    default:
      throw new Error(`Unknown command ${command}\n\n${USAGE}`);
  }
}

const handle = await openLocalDatabase(readConfig()).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
let failed = false;
try {
  await handle.migrate();
  Database.install(handle);
  await run();
} catch (error) {
  console.error((error as Error).message);
  failed = true;
} finally {
  await handle.close();
}
process.exit(failed ? 1 : 0);
