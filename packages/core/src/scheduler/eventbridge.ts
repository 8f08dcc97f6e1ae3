import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import { type CampaignSchedule, campaignOfSchedule, cronExpression, type Scheduler, scheduleName } from ".";

export interface EventBridgeConfig {
  /** The schedule group holding every campaign schedule. */
  groupName: string;
  /** The tick function's ARN, and the role the scheduler assumes to invoke it. */
  targetArn: string;
  roleArn: string;
  /** Where a tick the scheduler could not deliver goes. */
  deadLetterArn?: string;
}

const named = (error: unknown, name: string) => (error as { name?: string }).name === name;

/**
 * EventBridge Scheduler: one schedule per campaign, named `campaign-<id>` so every call is
 * idempotent. `UpdateSchedule` replaces the whole definition, so enabling, disabling and
 * changing hours are the same call.
 */
export function eventBridgeScheduler(config: EventBridgeConfig, client = new SchedulerClient({})): Scheduler {
  const definition = (schedule: CampaignSchedule): CreateScheduleCommandInput => ({
    Name: scheduleName(schedule.campaignId),
    GroupName: config.groupName,
    ScheduleExpression: cronExpression(schedule.window),
    ScheduleExpressionTimezone: schedule.window.timezone,
    State: schedule.enabled ? "ENABLED" : "DISABLED",
    FlexibleTimeWindow: { Mode: "OFF" },
    Description: `Ticks campaign ${schedule.campaignId} every minute of its send window`,
    Target: {
      Arn: config.targetArn,
      RoleArn: config.roleArn,
      Input: JSON.stringify({ campaignId: schedule.campaignId }),
      // A missed tick is replaced by the next minute's: no retries, no piling up.
      RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      ...(config.deadLetterArn ? { DeadLetterConfig: { Arn: config.deadLetterArn } } : {}),
    },
  });
  return {
    async put(schedule) {
      const input = definition(schedule);
      try {
        await client.send(new UpdateScheduleCommand(input));
      } catch (error) {
        if (!named(error, "ResourceNotFoundException")) throw error;
        try {
          await client.send(new CreateScheduleCommand(input));
        } catch (again) {
          // Created by a concurrent call meanwhile: make it ours.
          if (!named(again, "ConflictException")) throw again;
          await client.send(new UpdateScheduleCommand(input));
        }
      }
    },
    async remove(campaignId) {
      try {
        await client.send(new DeleteScheduleCommand({ Name: scheduleName(campaignId), GroupName: config.groupName }));
      } catch (error) {
        if (!named(error, "ResourceNotFoundException")) throw error;
      }
    },
    async get(campaignId) {
      try {
        const s = await client.send(new GetScheduleCommand({ Name: scheduleName(campaignId), GroupName: config.groupName }));
        return { enabled: s.State === "ENABLED", expression: s.ScheduleExpression ?? "", timezone: s.ScheduleExpressionTimezone ?? "UTC" };
      } catch (error) {
        if (named(error, "ResourceNotFoundException")) return undefined;
        throw error;
      }
    },
    async list() {
      const out = new Map<string, boolean>();
      let NextToken: string | undefined;
      do {
        const page = await client.send(new ListSchedulesCommand({ GroupName: config.groupName, NamePrefix: "campaign-", NextToken }));
        for (const s of page.Schedules ?? []) {
          const id = s.Name && campaignOfSchedule(s.Name);
          if (id) out.set(id, s.State === "ENABLED");
        }
        NextToken = page.NextToken;
      } while (NextToken);
      return out;
    },
  };
}
