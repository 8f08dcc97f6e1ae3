import { lambda, logLevel, prefix } from "./config";
import { databaseUrl } from "./database";
import { sendQueue } from "./queue";

/**
 * Campaign ticks: the API (and the sender and sweeper) create one EventBridge Scheduler schedule
 * per active campaign at run time, in this group, targeting the tick function with input
 * `{"campaignId": "..."}` and assuming this role. Both kinds of failed tick end in the tick
 * dead-letter queue: ticks the scheduler cannot deliver (its dead-letter config) and ticks whose
 * function failed (the function's on-failure destination). A failed tick is not retried: the
 * next tick (or the sweeper) picks the campaign up again.
 */
export const tickDlq = new sst.aws.Queue("TickDlq", {
  transform: { queue: { messageRetentionSeconds: 14 * 24 * 3600 } },
});

export const tick = new sst.aws.Function("Tick", {
  ...lambda,
  handler: "packages/functions/src/tick.handler",
  timeout: "30 seconds",
  link: [databaseUrl, sendQueue],
  environment: { LOG_LEVEL: logLevel },
  // Lambda retries a failed asynchronous invocation twice by default: no retries, by design.
  retries: 0,
  // Lambda's on-failure destination sends with the function's role.
  permissions: [{ actions: ["sqs:SendMessage"], resources: [tickDlq.arn] }],
  transform: {
    eventInvokeConfig: { destinationConfig: { onFailure: { destination: tickDlq.arn } } },
  },
});

export const scheduleGroup = new aws.scheduler.ScheduleGroup("CampaignSchedules", { name: `${prefix}-campaigns` });

export const schedulerRole = new aws.iam.Role("SchedulerRole", {
  description: "Assumed by EventBridge Scheduler to tick campaigns",
  assumeRolePolicy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "scheduler.amazonaws.com" }, Action: "sts:AssumeRole" }],
  }),
});

new aws.iam.RolePolicy("SchedulerRoleTargets", {
  role: schedulerRole.id,
  policy: $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: "lambda:InvokeFunction", Resource: [tick.arn, $interpolate`${tick.arn}:*`] },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: tickDlq.arn },
    ],
  }),
});

/** `arn:...:schedule-group/<name>` → `arn:...:schedule/<name>/*`: every schedule of the group. */
const groupSchedules = scheduleGroup.arn.apply((arn) => `${arn.replace(":schedule-group/", ":schedule/")}/*`);

/**
 * What the code needs to manage schedules (`Resource.Scheduling`); linking it grants the
 * permissions to do so.
 */
export const scheduling = new sst.Linkable("Scheduling", {
  properties: {
    groupName: scheduleGroup.name,
    roleArn: schedulerRole.arn,
    tickArn: tick.arn,
    deadLetterArn: tickDlq.arn,
  },
  include: [
    sst.aws.permission({
      actions: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
      resources: [groupSchedules],
    }),
    // ListSchedules has no resource-level permissions.
    sst.aws.permission({ actions: ["scheduler:ListSchedules"], resources: ["*"] }),
    sst.aws.permission({
      actions: ["iam:PassRole"],
      resources: [schedulerRole.arn],
      conditions: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["scheduler.amazonaws.com"] }],
    }),
  ],
});
