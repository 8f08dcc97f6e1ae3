import { lambda, logLevel, settings } from "./config";
import { databaseUrl } from "./database";
import { sesIdentities } from "./email";
import { tracking } from "./events";
import { webhookQueue } from "./outbound-webhooks";
import { scheduling } from "./scheduler";

/**
 * The HTTP API: one Lambda running the Hono app behind an API Gateway HTTP API (`$default`
 * route), also serving the SNS webhooks and the unsubscribe links. A custom domain is optional:
 * set API_DOMAIN when deploying (SST then manages the certificate and the DNS record, the hosted
 * zone being in Route 53).
 */
export const apiFunction = {
  ...lambda,
  handler: "packages/functions/src/api.handler",
  timeout: "29 seconds",
  memory: "1024 MB",
  link: [databaseUrl, scheduling, tracking, webhookQueue],
  permissions: [
    // Email accounts are checked against SES identities (verified address or domain).
    { actions: ["ses:GetEmailIdentity"], resources: [sesIdentities] },
  ],
  environment: { LOG_LEVEL: logLevel },
  nodejs: {
    ...lambda.nodejs,
    // hono-openapi converts schemas through per-library adapters loaded on demand; the zod one
    // would put zod (~430 KB) in the bundle. The app's schemas are Valibot only, so zod stays
    // out (infra/test checks that nothing imports it up front or from our code).
    esbuild: { external: ["zod"] },
  },
  // The Swagger UI assets of /docs are served from files, not from the bundle.
  copyFiles: [
    { from: "node_modules/swagger-ui-dist/swagger-ui-bundle.js", to: "swagger-ui/swagger-ui-bundle.js" },
    { from: "node_modules/swagger-ui-dist/swagger-ui.css", to: "swagger-ui/swagger-ui.css" },
  ],
} satisfies sst.aws.FunctionArgs;

export const api = new sst.aws.ApiGatewayV2("Api", {
  domain: settings.apiDomain,
  cors: false,
  accessLog: { retention: "1 month" },
});

export const apiRoute = api.route("$default", apiFunction);

/** The API's base URL without a trailing slash (links in emails, webhook endpoints). */
export const apiUrl = api.url.apply((url) => url.replace(/\/+$/, ""));
