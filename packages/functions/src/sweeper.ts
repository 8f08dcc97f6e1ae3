import { sweep } from "@fluenzr/core/sending";
import { marginFromEnv } from "@fluenzr/core/sending/evidence";
import { Deliverer } from "@fluenzr/core/webhook";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installScheduler } from "./setup/scheduler";
import { installSending } from "./setup/sending";
import { installWebhooks } from "./setup/webhooks";

/**
 * A fixed schedule (every 5 minutes): repair what crashes left behind. It sends too, but only
 * probes to SES's mailbox simulator, to settle emails of unknown fate (sending/evidence).
 */
const setup = once(async () => {
  await installDatabase();
  installScheduler();
  installSending();
  installWebhooks();
});

export async function handler() {
  await setup();
  const swept = await sweep({ unknownMarginMs: marginFromEnv() });
  // Outbound webhooks: deliveries a crash left unqueued, and retries due later than SQS can hold.
  const webhookDeliveries = await Deliverer.sweep();
  return { ...swept, webhookDeliveries };
}
