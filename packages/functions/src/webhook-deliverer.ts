import { Deliverer } from "@fluenzr/core/webhook";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installWebhooks } from "./setup/webhooks";

/**
 * SQS → the outbound webhook deliverer, with partial batch responses. It runs apart from the
 * sender and the API: a slow or dead endpoint costs only this function's time.
 */
const setup = once(async () => {
  await installDatabase();
  installWebhooks();
});

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  await setup();
  return Deliverer.handle(event.Records.map((r) => ({ messageId: r.messageId, body: r.body })));
}
