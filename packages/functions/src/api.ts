import { handle } from "hono/aws-lambda";
import { createApp } from "./api/app";
import { setup } from "./runtime";

/** API Gateway (HTTP API, payload v2) → the Hono app. */
const app = createApp();
const honoHandler = handle(app);

export const handler: typeof honoHandler = async (event, context) => {
  await setup();
  return honoHandler(event, context);
};
