/**
 * The Neon connection string (pooled, `postgresql://...@...-pooler.../db?sslmode=require`), set
 * once per stage with `npx sst secret set DatabaseUrl '<url>' --stage <stage>`.
 */
export const databaseUrl = new sst.Secret("DatabaseUrl");
