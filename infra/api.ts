import { databaseUrl } from "./database";

/**
 * The HTTP API: one Lambda running the Hono app behind an API Gateway HTTP API. A custom domain
 * is optional: set API_DOMAIN when deploying (the certificate and DNS are then managed by SST
 * when the zone is in Route 53).
 */
export const apiFunction = {
  handler: "packages/functions/src/api.handler",
  timeout: "29 seconds",
  memory: "1024 MB",
  link: [databaseUrl],
  environment: { LOG_LEVEL: "info", NODE_OPTIONS: "--enable-source-maps" },
  // The Swagger UI assets of /docs are served from files, not from the bundle.
  copyFiles: [
    { from: "node_modules/swagger-ui-dist/swagger-ui-bundle.js", to: "swagger-ui/swagger-ui-bundle.js" },
    { from: "node_modules/swagger-ui-dist/swagger-ui.css", to: "swagger-ui/swagger-ui.css" },
  ],
  nodejs: { format: "esm" as const, minify: true },
};

export const api = new sst.aws.ApiGatewayV2("Api", {
  domain: process.env.API_DOMAIN,
  cors: false,
  accessLog: { retention: "1 month" },
});

api.route("$default", apiFunction);
