import { sweep } from "@fluenzr/core/sending";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";
import { installScheduler } from "./setup/scheduler";

/** A fixed schedule (every 5 minutes): repair what crashes left behind. */
const setup = once(async () => {
  await installDatabase();
  installScheduler();
});

export async function handler() {
  await setup();
  return sweep();
}
