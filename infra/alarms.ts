import { prefix, settings } from "./config";
import { webhookDlq } from "./outbound-webhooks";
import { sendDlq } from "./queue";
import { tick, tickDlq } from "./scheduler";
import { sender } from "./sender";
import { sesEventsDlq } from "./ses-events";

/**
 * Alarms, published to the `Alarms` topic (and mailed to ALARM_EMAIL when set). What each means
 * and what to do: docs/operations.md, "Alarms".
 */
export const alarmTopic = new sst.aws.SnsTopic("Alarms");

export const alarmEmail = settings.alarmEmail
  ? new aws.sns.TopicSubscription("AlarmsEmail", { topic: alarmTopic.arn, protocol: "email", endpoint: settings.alarmEmail })
  : undefined;

const notify = { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn], treatMissingData: "notBreaching" };

/** Send jobs that failed every delivery: emails that will not go out until redriven. */
export const sendDlqAlarm = new aws.cloudwatch.MetricAlarm("SendDlqNotEmpty", {
  ...notify,
  name: `${prefix}-send-dlq-not-empty`,
  alarmDescription: "Send jobs failed every delivery and wait in the send dead-letter queue (docs/operations.md#alarms).",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: sendDlq.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
});

/** Outbound webhook messages the deliverer failed to run five times (not endpoint failures: those are logged per delivery). */
export const webhookDlqAlarm = new aws.cloudwatch.MetricAlarm("WebhookDlqNotEmpty", {
  ...notify,
  name: `${prefix}-webhook-dlq-not-empty`,
  alarmDescription:
    "The webhook deliverer failed to run deliveries; they wait in the webhook dead-letter queue (docs/operations.md#alarms).",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: webhookDlq.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
});

/** SES events the consumer failed five times: statistics and stops (bounces, complaints) not applied until redriven. */
export const sesEventsDlqAlarm = new aws.cloudwatch.MetricAlarm("SesEventsDlqNotEmpty", {
  ...notify,
  name: `${prefix}-ses-events-dlq-not-empty`,
  alarmDescription: "SES events failed every delivery and wait in the SES events dead-letter queue (docs/operations.md#alarms).",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: sesEventsDlq.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
});

/** Ticks EventBridge Scheduler could not deliver (the tick function missing or refusing). */
export const tickDlqAlarm = new aws.cloudwatch.MetricAlarm("TickDlqNotEmpty", {
  ...notify,
  name: `${prefix}-tick-dlq-not-empty`,
  alarmDescription: "Ticks failed: not delivered by EventBridge Scheduler, or failed in the tick function (docs/operations.md#alarms).",
  namespace: "AWS/SQS",
  metricName: "ApproximateNumberOfMessagesVisible",
  dimensions: { QueueName: tickDlq.nodes.queue.name },
  statistic: "Maximum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
});

/** Sender invocations that failed as a whole (crash, timeout, database down): the batch comes back. */
export const senderErrorsAlarm = new aws.cloudwatch.MetricAlarm("SenderErrors", {
  ...notify,
  name: `${prefix}-sender-errors`,
  alarmDescription: "The sender function failed invocations (docs/operations.md#alarms).",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: sender.name },
  statistic: "Sum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
});

/** Tick invocations that failed (not retried: the next tick or the sweeper catches up). */
export const tickErrorsAlarm = new aws.cloudwatch.MetricAlarm("TickErrors", {
  ...notify,
  name: `${prefix}-tick-errors`,
  alarmDescription: "The tick function failed invocations; each failed tick is in the tick DLQ (docs/operations.md#alarms).",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: tick.name },
  statistic: "Sum",
  period: 300,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: "GreaterThanThreshold",
});
