import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where the drizzle-kit migrations are: `MIGRATIONS_DIR` when set (the migration Lambda copies
 * the folder next to its bundle), else packages/core/migrations beside this source file.
 */
export function migrationsFolder(): string {
  if (process.env.MIGRATIONS_DIR) return process.env.MIGRATIONS_DIR;
  const fromSource = fileURLToPath(new URL("../../migrations", import.meta.url));
  if (existsSync(fromSource)) return fromSource;
  return fileURLToPath(new URL("./migrations", import.meta.url));
}
