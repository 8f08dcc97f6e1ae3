import { openLocalDatabase, readConfig } from "../database";

/** `npm run db:migrate`: apply packages/core/migrations to DATABASE_URL or the local data folder. */
const handle = await openLocalDatabase(readConfig());
try {
  await handle.migrate();
  console.log(`Migrated ${handle.description}.`);
} finally {
  await handle.close();
}
