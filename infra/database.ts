import { lambda, logLevel } from "./config";

/**
 * The Neon connection string (pooled, `postgresql://...@...-pooler.../db?sslmode=require`), set
 * once per stage with `npx sst secret set DatabaseUrl '<url>' --stage <stage>`.
 */
export const databaseUrl = new sst.Secret("DatabaseUrl");

/**
 * Migrations on deploy: the migration function carries packages/core/migrations (the folder
 * local mode applies) and the deploy invokes it once per `sst deploy`. The invocation is
 * synchronous; a migration that throws is a function error, which fails the deploy. Every other
 * function waits for that run (below), so new code never goes live on a schema it does not know.
 */
export const migrator = new sst.aws.Function("Migrator", {
  ...lambda,
  handler: "packages/functions/src/migrate.handler",
  timeout: "5 minutes",
  link: [databaseUrl],
  copyFiles: [{ from: "packages/core/migrations", to: "migrations" }],
  environment: { LOG_LEVEL: logLevel, MIGRATIONS_DIR: "/var/task/migrations" },
});

// `sst dev` runs no migrations: apply them with `npm run db:migrate` against the stage's database.
export const migration = $dev
  ? undefined
  : new aws.lambda.Invocation("MigratorRun", {
      functionName: migrator.name,
      input: JSON.stringify({ reason: "deploy" }),
      // A new value on every deploy re-invokes the function.
      triggers: { deployedAt: Date.now().toString() },
    });

/** Name SST gives the Lambda function of the `Migrator` component. */
const MIGRATOR_FUNCTION = "MigratorFunction";

if (migration) {
  // Every Lambda function of the app (those components create too) is created or updated only
  // after the migration run succeeded; a failed migration leaves the previous code live. A stack
  // transform, because SST creates the functions inside `apply`s, after this line has run; the
  // migrator itself is left out (it must exist before it is invoked).
  $transform(aws.lambda.Function, (_args, opts, name) => {
    if (name === MIGRATOR_FUNCTION) return;
    const existing = opts.dependsOn;
    opts.dependsOn = existing === undefined ? [migration] : $output(existing).apply((d) => [...(Array.isArray(d) ? d : [d]), migration]);
  });
}
