import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPgDatabase } from "@fluenzr/core/database/pg";
import { createPgliteDatabase } from "@fluenzr/core/database/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { databaseUrl, TEMPLATE_DATABASE } from "./database";

/**
 * Once per run: migrate a template (a PostgreSQL database, or a PGlite snapshot) that every
 * test file copies, so no test pays for migrations.
 */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    const stale = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE 'fluenzr\\_t%\\_%'`,
      [TEMPLATE_DATABASE],
    );
    for (const { datname } of stale.rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    const template = createPgDatabase(databaseUrl(TEMPLATE_DATABASE), { max: 1 });
    await template.migrate();
    await template.close();
    project.provide("pgliteSnapshot", "");
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
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
}
