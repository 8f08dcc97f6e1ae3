import * as Scheduler from "@fluenzr/core/scheduler";
import { eventBridgeScheduler } from "@fluenzr/core/scheduler/eventbridge";
import { Resource } from "sst";

export function installScheduler(): void {
  const { groupName, roleArn, tickArn, deadLetterArn } = Resource.Scheduling;
  Scheduler.install(eventBridgeScheduler({ groupName, roleArn, targetArn: tickArn, deadLetterArn }));
}
