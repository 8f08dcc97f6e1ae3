import { Identity } from "@fluenzr/core/email-account";
import { sesIdentityVerifier } from "@fluenzr/core/email-account/ses-identity";
import { handle } from "hono/aws-lambda";
import { createApp } from "./api/app";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installScheduler } from "./setup/scheduler";
import { installTracking } from "./setup/tracking";
import { installWebhooks } from "./setup/webhooks";

/** API Gateway (HTTP API, payload v2) → the Hono app. */
const setup = once(async () => {
  await installDatabase();
  installScheduler();
  installTracking();
  installWebhooks();
  Identity.install(sesIdentityVerifier());
});

const app = createApp();
const honoHandler = handle(app);

export const handler: typeof honoHandler = async (event, context) => {
  await setup();
  return honoHandler(event, context);
};
