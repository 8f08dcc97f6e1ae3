/// <reference path="./.sst/platform/config.d.ts" />

/**
 * One `sst deploy --stage <stage>` brings up the whole system. Resources live in infra/, one
 * file per concern; this file only orders them. No top-level imports: SST forbids them here.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "fluenzr",
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { region: (process.env.AWS_REGION ?? "us-east-1") as "us-east-1" } },
    };
  },
  async run() {
    await import("./infra/database");
    const { api } = await import("./infra/api");
    return { api: api.url };
  },
});
