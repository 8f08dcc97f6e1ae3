import { SendBatch } from "@fluenzr/core/sending";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installScheduler } from "./setup/scheduler";
import { installSending } from "./setup/sending";
import { installWebhooks } from "./setup/webhooks";

/** SQS → the sender, with partial batch responses: only failed records come back. */
const setup = once(async () => {
  await installDatabase();
  installScheduler();
  installSending();
  installWebhooks();
});

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  await setup();
  return SendBatch.handle(event.Records.map((r) => ({ messageId: r.messageId, body: r.body })));
}
