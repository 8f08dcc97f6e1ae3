import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import { createPgliteDatabase } from "@fluenzr/core/database/pglite";
import { isAlive } from "@fluenzr/core/util";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { DATABASE_PREFIX, databaseUrl, templateDatabase } from "./database";

/**
 * Once per run: migrate a template (a PostgreSQL database, or a PGlite snapshot) that every
 * test file copies, so no test pays for migrations.
 */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    const runId = String(process.pid);
    project.provide("testRun", runId);
    // Leftovers of runs that died; runs still alive keep theirs.
    const existing = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [
      DATABASE_PREFIX,
    ]);
    for (const { datname } of existing.rows) {
      const pid = Number(datname.slice(DATABASE_PREFIX.length).split("_")[0]);
      if (pid && pid !== process.pid && isAlive(pid)) continue;
      await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE ${templateDatabase(runId)}`);
    const template = createPgDatabase(databaseUrl(templateDatabase(runId)), { max: 1 });
    await template.migrate();
    await template.close();
    project.provide("pgliteSnapshot", "");
    return async () => {
      const mine = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [
        `${DATABASE_PREFIX}${runId}_`,
      ]);
      for (const { datname } of mine.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      await admin.end();
    };
  }
  const handle = await createPgliteDatabase();
  await handle.migrate();
  const dump = await handle.client.dumpDataDir("none");
  await handle.close();
  const path = join(tmpdir(), `fluenzr-pglite-${process.pid}.tar`);
  await writeFile(path, Buffer.from(await dump.arrayBuffer()));
  project.provide("pgliteSnapshot", path);
  project.provide("testRun", String(process.pid));
}
