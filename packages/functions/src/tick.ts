import * as Log from "@fluenzr/core/log";
import * as Queue from "@fluenzr/core/queue";
import { sqsQueue } from "@fluenzr/core/queue/sqs";
import { tick } from "@fluenzr/core/sending";
import { Resource } from "sst";
import * as v from "valibot";
import { installDatabase } from "./setup/database";
import { once } from "./setup/once";

/** EventBridge Scheduler → one campaign's tick, every minute of its send window. */
const setup = once(async () => {
  await installDatabase();
  Queue.install(sqsQueue(Resource.SendQueue.url));
});

const input = v.object({ campaignId: v.pipe(v.string(), v.startsWith("cmp_")) });

export async function handler(event: unknown) {
  const parsed = v.safeParse(input, event);
  if (!parsed.success) {
    // A malformed schedule input will not get better with retries.
    Log.error("tick: invalid input", { issues: parsed.issues.map((i) => i.message) });
    return { claimed: 0, error: "invalid input" };
  }
  await setup();
  const result = await tick(parsed.output.campaignId);
  Log.info("tick", { campaignId: parsed.output.campaignId, ...result });
  return result;
}
