import { SesQueue } from "@fluenzr/core/tracking";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installScheduler } from "./setup/scheduler";
import { installWebhooks } from "./setup/webhooks";

/** SQS (the `SesEvents` topic's queue) → SES events applied, with partial batch responses. */
const setup = once(async () => {
  await installDatabase();
  installScheduler();
  installWebhooks();
});

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  await setup();
  return SesQueue.handle(event.Records.map((r) => ({ messageId: r.messageId, body: r.body })));
}
