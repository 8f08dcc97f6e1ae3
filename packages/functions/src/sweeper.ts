import { sweep } from "@fluenzr/core/sending";
import { marginFromEnv } from "@fluenzr/core/sending/evidence";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installScheduler } from "./setup/scheduler";
import { installSending } from "./setup/sending";

/**
 * A fixed schedule (every 5 minutes): repair what crashes left behind. It sends too, but only
 * probes to SES's mailbox simulator, to settle emails of unknown fate (sending/evidence).
 */
const setup = once(async () => {
  await installDatabase();
  installScheduler();
  installSending();
});

export async function handler() {
  await setup();
  return sweep({ unknownMarginMs: marginFromEnv() });
}
