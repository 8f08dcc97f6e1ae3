import { defineConfig } from "drizzle-kit";

/**
 * `npm run db:generate` writes a migration for schema changes into packages/core/migrations;
 * every runtime (local, tests, the deploy's migration function) applies that same folder.
 */
export default defineConfig({
  dialect: "postgresql",
  schema: "./packages/core/src/**/*.sql.ts",
  out: "./packages/core/migrations",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
  strict: true,
  verbose: true,
});
