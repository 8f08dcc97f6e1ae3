import { describe, expect, test } from "vitest";
import { CHECKS } from "./harness/checks";
import { evaluate, type Mutation } from "./harness/evaluate";
import type { AccountState } from "./harness/standins";

/**
 * Each wiring fact shown to fail: a copy of sst.config.ts + infra/ with one deliberate breakage
 * (a source edit, applied to a temporary copy), evaluated like the real one; the check for that
 * fact must report it, with a message naming what broke. Every mutation must still apply to the
 * current sources (it fails loudly when the code it edits has changed).
 */

interface Breakage {
  fact: string;
  check: keyof typeof CHECKS;
  mutations: Mutation[];
  /** A part of the problem reported. */
  reports: RegExp;
  env?: Record<string, string>;
  stage?: string;
  dev?: boolean;
  account?: AccountState;
}

/** The account once the domains' DKIM records are in DNS. */
const VERIFIED: AccountState = { identities: { "example.com": { verified: true }, "reply.example.com": { verified: true } } };
const REPLIES = { REPLY_DOMAIN: "reply.example.com" };

const BREAKAGES: Breakage[] = [
  // Every handler path exists and exports its handler.
  {
    fact: "a handler path that does not exist",
    check: "handlers",
    mutations: [
      { file: "infra/scheduler.ts", from: `"packages/functions/src/tick.handler"`, to: `"packages/functions/src/ticks.handler"` },
    ],
    reports: /no file for handler packages\/functions\/src\/ticks\.handler/,
  },
  {
    fact: "a handler file that does not export the handler",
    check: "handlers",
    mutations: [{ file: "infra/sender.ts", from: `"packages/functions/src/sender.handler"`, to: `"packages/functions/src/sender.send"` }],
    reports: /does not export "send"/,
  },
  {
    fact: "a copied file that does not exist",
    check: "handlers",
    mutations: [
      {
        file: "infra/api.ts",
        from: `from: "node_modules/swagger-ui-dist/swagger-ui.css"`,
        to: `from: "node_modules/swagger-ui-dist/swagger.css"`,
      },
    ],
    reports: /copyFiles source .*swagger\.css does not exist/,
  },
  // The queue has a DLQ, partial batch responses, and a visibility timeout >= 6x the sender timeout.
  {
    fact: "the send queue without a dead-letter queue",
    check: "queueDlq",
    mutations: [{ file: "infra/queue.ts", from: "  dlq: { queue: sendDlq.arn, retry: SEND_RETRIES },\n", to: "" }],
    reports: /no dead-letter queue/,
  },
  {
    fact: "partial batch responses off",
    check: "partialBatch",
    mutations: [{ file: "infra/sender.ts", from: "partialResponses: true", to: "partialResponses: false" }],
    reports: /partialResponses is not true/,
  },
  {
    fact: "a visibility timeout under 6x the sender's timeout",
    check: "visibilityTimeout",
    mutations: [{ file: "infra/queue.ts", from: `visibilityTimeout: "3 minutes"`, to: `visibilityTimeout: "2 minutes"` }],
    reports: /visibility timeout 120s < 6 x sender timeout 30s/,
  },
  {
    fact: "a sender timeout raised without the visibility timeout",
    check: "visibilityTimeout",
    mutations: [{ file: "infra/queue.ts", from: `SENDER_TIMEOUT = "30 seconds"`, to: `SENDER_TIMEOUT = "45 seconds"` }],
    reports: /< 6 x sender timeout 45s/,
  },
  // The sender's maximum concurrency is set.
  {
    fact: "the sender's maximum concurrency not set",
    check: "senderConcurrency",
    mutations: [
      {
        file: "infra/sender.ts",
        from: "eventSourceMapping: { scalingConfig: { maximumConcurrency: settings.senderConcurrency } },",
        to: "",
      },
    ],
    reports: /maximumConcurrency must be an integer/,
  },
  // Configuration sets carry the base events, and open/click only where tracking is on.
  {
    fact: "a base event type missing",
    check: "configurationSets",
    mutations: [{ file: "infra/email.ts", from: `"DELIVERY", "DELIVERY_DELAY", `, to: `"DELIVERY", ` }],
    reports: /does not publish DELIVERY_DELAY/,
  },
  {
    fact: "OPEN published by a set that does not track opens",
    check: "configurationSets",
    mutations: [{ file: "infra/email.ts", from: "none: { opens: false, clicks: false }", to: "none: { opens: true, clicks: false }" }],
    reports: /fluenzr-test-none \(none\) publishes OPEN/,
  },
  {
    fact: "CLICK missing where clicks are tracked",
    check: "configurationSets",
    mutations: [{ file: "infra/email.ts", from: `  if (clicks) matchingEventTypes.push("CLICK");\n`, to: "" }],
    reports: /fluenzr-test-clicks \(clicks\) does not publish CLICK/,
  },
  {
    fact: "event destinations disabled",
    check: "configurationSets",
    mutations: [{ file: "infra/email.ts", from: "eventDestination: { enabled: true,", to: "eventDestination: { enabled: false," }],
    reports: /no enabled event destination to the SesEvents topic/,
  },
  {
    fact: "the custom tracking domain not applied once its identity is verified",
    check: "configurationSets",
    env: { EMAIL_DOMAIN: "example.com", TRACKING_DOMAIN: "track.example.com" },
    account: VERIFIED,
    mutations: [{ file: "infra/email.ts", from: "(opens || clicks) && trackingDomain", to: "false" }],
    reports: /custom tracking domain is undefined, expected track\.example\.com/,
  },
  // #15.1: SES refuses a redirect domain no verified identity covers (a first deploy).
  {
    fact: "the custom tracking domain applied on a first deploy, before SES verified the domain",
    check: "configurationSets",
    env: { EMAIL_DOMAIN: "example.com", TRACKING_DOMAIN: "track.example.com" },
    mutations: [
      {
        file: "infra/email.ts",
        from: "const trackingDomain = trackingDomainStatus().apply;",
        to: "const trackingDomain = settings.trackingDomain;",
      },
    ],
    reports: /fluenzr-test-opens: custom tracking domain is track\.example\.com, expected undefined/,
  },
  {
    fact: "the custom tracking domain applied while its identity is still pending",
    check: "configurationSets",
    env: { EMAIL_DOMAIN: "example.com", TRACKING_DOMAIN: "track.example.com" },
    account: { identities: { "example.com": { verified: false } } },
    mutations: [
      { file: "infra/config.ts", from: "if (identity?.verified) return { apply: domain };", to: "if (identity) return { apply: domain };" },
    ],
    reports: /custom tracking domain is track\.example\.com, expected undefined/,
  },
  // Every function is linked to what its code reads from Resource.
  {
    fact: "the tick not linked to the send queue",
    check: "links",
    mutations: [{ file: "infra/scheduler.ts", from: "link: [databaseUrl, sendQueue],", to: "link: [databaseUrl]," }],
    reports: /Tick \(packages\/functions\/src\/tick\.handler\) reads Resource\.SendQueue but is not linked to it/,
  },
  {
    fact: "the sender not linked to Sending",
    check: "links",
    mutations: [
      {
        file: "infra/sender.ts",
        from: "link: [databaseUrl, scheduling, sending, webhookQueue],",
        to: "link: [databaseUrl, scheduling, webhookQueue],",
      },
    ],
    reports: /reads Resource\.Sending but is not linked to it/,
  },
  {
    fact: "the API not linked to Tracking",
    check: "links",
    mutations: [
      {
        file: "infra/api.ts",
        from: "link: [databaseUrl, scheduling, tracking, webhookQueue],",
        to: "link: [databaseUrl, scheduling, webhookQueue],",
      },
    ],
    reports: /reads Resource\.Tracking but is not linked to it/,
  },
  {
    fact: "code reading a link its function lacks",
    check: "links",
    mutations: [
      { file: "infra/sweeper.ts", from: `"packages/functions/src/sweeper.handler"`, to: `"infra/test/fixtures/handler.handler"` },
    ],
    reports: /SweeperHandler \(infra\/test\/fixtures\/handler\.handler\) reads Resource\.Tracking/,
  },
  {
    fact: "code reading an environment variable infra does not set",
    check: "environment",
    mutations: [
      { file: "infra/sweeper.ts", from: `"packages/functions/src/sweeper.handler"`, to: `"infra/test/fixtures/handler.handler"` },
    ],
    reports: /reads process\.env\.FLUENZR_UNDECLARED_FLAG/,
  },
  {
    fact: "a link property renamed on one side only",
    check: "linkContract",
    mutations: [{ file: "infra/scheduler.ts", from: "    deadLetterArn: tickDlq.arn,\n", to: "    dlqArn: tickDlq.arn,\n" }],
    reports: /Resource\.Scheduling\.deadLetterArn is declared but infra does not provide it/,
  },
  {
    fact: "a package marked external that the code needs",
    check: "externals",
    mutations: [
      {
        file: "infra/sweeper.ts",
        from: '    timeout: "2 minutes",\n',
        to: '    timeout: "2 minutes",\n    nodejs: { esbuild: { external: ["valibot"] } },\n',
      },
    ],
    reports: /marks valibot external, but packages\/core\/src\/.* imports valibot \(import-statement\)/,
  },
  // The scheduler role can invoke the tick.
  {
    fact: "the scheduler role trusting another service",
    check: "schedulerRole",
    mutations: [
      {
        file: "infra/scheduler.ts",
        from: `Principal: { Service: "scheduler.amazonaws.com" }`,
        to: `Principal: { Service: "events.amazonaws.com" }`,
      },
    ],
    reports: /cannot be assumed by scheduler\.amazonaws\.com/,
  },
  {
    fact: "the scheduler role not allowed to invoke the tick",
    check: "schedulerRole",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text to replace
    mutations: [{ file: "infra/scheduler.ts", from: "Resource: [tick.arn, $interpolate`${tick.arn}:*`]", to: "Resource: [tickDlq.arn]" }],
    reports: /may not invoke the tick function/,
  },
  {
    fact: "Scheduling pointing at another role",
    check: "schedulerRole",
    mutations: [{ file: "infra/scheduler.ts", from: "    roleArn: schedulerRole.arn,\n", to: "    roleArn: tickDlq.arn,\n" }],
    reports: /Scheduling\.roleArn .* is not a role of this app/,
  },
  {
    fact: "schedule managers unable to list schedules",
    check: "permissions",
    mutations: [
      { file: "infra/scheduler.ts", from: `sst.aws.permission({ actions: ["scheduler:ListSchedules"], resources: ["*"] }),`, to: "" },
    ],
    reports: /may not scheduler:ListSchedules/,
  },
  {
    fact: "the API unable to check SES identities",
    check: "permissions",
    mutations: [{ file: "infra/api.ts", from: `{ actions: ["ses:GetEmailIdentity"], resources: [sesIdentities] },`, to: "" }],
    reports: /may not ses:GetEmailIdentity/,
  },
  // The production stage retains and protects data.
  {
    fact: "production removed on sst remove",
    check: "production",
    mutations: [{ file: "sst.config.ts", from: `removal: production ? "retain" : "remove",`, to: `removal: "remove",` }],
    reports: /production removal is remove, expected retain/,
  },
  {
    fact: "production unprotected",
    check: "production",
    mutations: [{ file: "sst.config.ts", from: "protect: production,", to: "protect: false," }],
    reports: /production protect is false/,
  },
  // Migrations on deploy.
  {
    fact: "migrations run under sst dev",
    check: "migrations",
    dev: true,
    mutations: [{ file: "infra/database.ts", from: "export const migration = $dev", to: "export const migration = false" }],
    reports: /invoked under sst dev/,
  },
  {
    fact: "MIGRATIONS_DIR not where the migrations are copied",
    check: "migrations",
    mutations: [{ file: "infra/database.ts", from: `MIGRATIONS_DIR: "/var/task/migrations"`, to: `MIGRATIONS_DIR: "/var/task/db"` }],
    reports: /MIGRATIONS_DIR is \/var\/task\/db, but the migrations are copied to \/var\/task\/migrations/,
  },
  {
    fact: "migrations run on the first deploy only",
    check: "migrations",
    mutations: [{ file: "infra/database.ts", from: "triggers: { deployedAt: Date.now().toString() },", to: "" }],
    reports: /no triggers/,
  },
  // Webhooks, inbound, alarms.
  {
    fact: "raw message delivery on",
    check: "webhooks",
    env: REPLIES,
    mutations: [{ file: "infra/webhooks.ts", from: "rawMessageDelivery: false,", to: "rawMessageDelivery: true," }],
    reports: /uses raw message delivery/,
  },
  {
    fact: "a webhook subscribed to the wrong path",
    check: "webhooks",
    env: REPLIES,
    mutations: [{ file: "infra/webhooks.ts", from: `"/webhooks/ses-inbound")`, to: `"/webhook/ses-inbound")` }],
    reports: /SesInbound has no HTTPS subscription to .*\/webhooks\/ses-inbound/,
  },
  {
    fact: "SES not allowed to publish",
    check: "webhooks",
    mutations: [
      { file: "infra/events.ts", from: `Principal: { Service: "ses.amazonaws.com" }`, to: `Principal: { Service: "sns.amazonaws.com" }` },
    ],
    reports: /SES may not publish to SesEvents/,
  },
  {
    fact: "the inbound topic missing from the webhook allowlist",
    check: "webhooks",
    env: { REPLY_DOMAIN: "reply.example.com" },
    mutations: [
      {
        file: "infra/events.ts",
        from: "topicArns: sesInbound ? [sesEvents.arn, sesInbound.arn] : [sesEvents.arn]",
        to: "topicArns: [sesEvents.arn]",
      },
    ],
    reports: /Tracking\.topicArns lacks .*SesInbound/,
  },
  // #15.7: replies whole through S3, not inside an SNS notification (150 KB, re-encoded).
  {
    fact: "inbound mail published through an SNS action",
    check: "inbound",
    env: REPLIES,
    mutations: [
      {
        file: "infra/inbound.ts",
        from: "s3Actions: [{ bucketName: inboundMail.name, objectKeyPrefix: INBOUND_PREFIX, topicArn: sesInbound.arn, position: 1 }],",
        to: `snsActions: [{ topicArn: sesInbound.arn, position: 1, encoding: "UTF-8" }],`,
      },
    ],
    reports: /SNS action: mail over 150 KB bounces/,
  },
  {
    fact: "SES not allowed to write the inbound bucket",
    check: "inbound",
    env: REPLIES,
    mutations: [{ file: "infra/events.ts", from: `actions: ["s3:PutObject"],`, to: `actions: ["s3:GetObject"],` }],
    reports: /SES may not write to the InboundMail bucket/,
  },
  {
    fact: "received replies kept forever",
    check: "inbound",
    env: REPLIES,
    mutations: [
      {
        file: "infra/events.ts",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: source text to replace
        from: 'lifecycle: [{ id: "expire-inbound", expiresIn: `${settings.inboundRetentionDays} days` }],',
        to: "",
      },
    ],
    reports: /never expire/,
  },
  {
    fact: "the webhooks unable to read received replies",
    check: "inbound",
    env: REPLIES,
    mutations: [{ file: "infra/events.ts", from: `actions: ["s3:GetObject"]`, to: `actions: ["s3:ListBucket"]` }],
    reports: /the API may not s3:GetObject/,
  },
  {
    fact: "the inbound rule set never activated",
    check: "inbound",
    env: REPLIES,
    mutations: [
      {
        file: "infra/inbound.ts",
        from: "? new aws.ses.ActiveReceiptRuleSet(",
        to: "? new aws.ses.ReceiptRuleSet(",
      },
    ],
    reports: /no enabled rule of an active receipt rule set receives mail for reply\.example\.com/,
  },
  // #15.3: one active rule set and one identity per domain per account and region, shared by stages.
  {
    fact: "removing a stage deactivates the account's receiving",
    check: "inbound",
    env: REPLIES,
    mutations: [{ file: "infra/inbound.ts", from: "{ dependsOn: [rule], retainOnDelete: true }", to: "{ dependsOn: [rule] }" }],
    reports: /InboundActive is not retained on removal/,
  },
  {
    fact: "a second stage taking receiving away from the account's active rule set",
    check: "inbound",
    env: { ...REPLIES, INBOUND_RULE_SET: "fluenzr-production-inbound" },
    mutations: [{ file: "infra/inbound.ts", from: "const ruleSet = settings.inboundRuleSet\n", to: "const ruleSet = false\n" }],
    reports: /yet this stage creates or activates a rule set/,
  },
  {
    fact: "removing a stage deletes the identity other stages send with",
    check: "sesIdentities",
    env: { EMAIL_DOMAIN: "example.com" },
    mutations: [
      {
        file: "infra/email.ts",
        from: "{ emailIdentity: domain, ...args }, { retainOnDelete: true }",
        to: "{ emailIdentity: domain, ...args }",
      },
    ],
    reports: /EmailIdentity \(example\.com\) is deleted on sst remove/,
  },
  {
    fact: "an existing identity created again (CreateEmailIdentity fails: it exists)",
    check: "sesIdentities",
    env: { EMAIL_DOMAIN: "example.com", SES_IDENTITIES: "adopt" },
    account: VERIFIED,
    mutations: [{ file: "infra/email.ts", from: `if (settings.sesIdentities === "adopt") {`, to: "if (false) {" }],
    reports: /SES_IDENTITIES=adopt, yet example\.com is created/,
  },
  {
    fact: "SES events subscribed over HTTPS as well as to their queue (every event applied twice)",
    check: "webhooks",
    mutations: [
      {
        file: "infra/webhooks.ts",
        from: "export const sesInboundWebhook",
        to: 'export const sesEventsWebhook = subscribe("SesEventsWebhook", sesEvents, "/webhooks/ses");\nexport const sesInboundWebhook',
      },
      { file: "infra/webhooks.ts", from: "import { type sesEvents, sesInbound }", to: "import { sesEvents, sesInbound }" },
    ],
    reports: /SesEvents is subscribed over HTTPS too \(SesEventsWebhook\)/,
  },
  // SES events through their queue.
  {
    fact: "the SES events subscription not raw",
    check: "sesEventsQueue",
    mutations: [{ file: "infra/ses-events.ts", from: "rawMessageDelivery: true", to: "rawMessageDelivery: false" }],
    reports: /SesEventsToQueue is not raw/,
  },
  {
    fact: "the SES events queue open to any topic",
    check: "sesEventsQueue",
    mutations: [{ file: "infra/ses-events.ts", from: `ArnEquals: { "aws:SourceArn": sesEvents.arn }, `, to: "" }],
    reports: /SesEventsQueue admits SNS messages from any topic/,
  },
  {
    fact: "the SES events queue without its subscription",
    check: "sesEventsQueue",
    mutations: [
      {
        file: "infra/ses-events.ts",
        from: `protocol: "sqs", endpoint: sesEventsQueue.arn`,
        to: `protocol: "sqs", endpoint: sesEventsDlq.arn`,
      },
    ],
    reports: /SesEvents is not subscribed to SesEventsQueue/,
  },
  {
    fact: "the SES events consumer reporting whole batches",
    check: "sesEventsQueue",
    mutations: [{ file: "infra/ses-events.ts", from: `window: "1 second", partialResponses: true`, to: `window: "1 second"` }],
    reports: /SesEventsQueue.subscribe: batch.partialResponses is not true/,
  },
  {
    fact: "the SES events queue's visibility timeout too short for the consumer",
    check: "sesEventsQueue",
    mutations: [{ file: "infra/ses-events.ts", from: `visibilityTimeout: "4 minutes"`, to: `visibilityTimeout: "2 minutes"` }],
    reports: /SesEventsQueue visibility timeout 120s < 6 x SES events consumer timeout 30s \+ batching window 1s/,
  },
  {
    fact: "no alarm on the SES events dead-letter queue",
    check: "sesEventsQueue",
    mutations: [
      {
        file: "infra/alarms.ts",
        from: "dimensions: { QueueName: sesEventsDlq.nodes.queue.name }",
        to: "dimensions: { QueueName: sendDlq.nodes.queue.name }",
      },
    ],
    reports: /no alarm on the SES events dead-letter queue/,
  },
  // #15.2: the webhooks subscribe once the API answers.
  {
    fact: "a webhook subscribed to the custom domain (its alias comes later)",
    check: "webhooks",
    env: { API_DOMAIN: "api.example.com", ...REPLIES },
    mutations: [
      {
        file: "infra/webhooks.ts",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: source text to replace
        from: "endpoint: $interpolate`${apiEndpoint}${path}`",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: source text to replace
        to: "endpoint: $interpolate`${api.url}${path}`",
      },
    ],
    reports: /SesInbound has no HTTPS subscription to https:\/\/api0abc\.execute-api/,
  },
  {
    fact: "a webhook subscribed before the whole API exists",
    check: "webhooks",
    env: REPLIES,
    mutations: [{ file: "infra/webhooks.ts", from: "{ dependsOn: apiReady ? [api, apiReady] : [api] }", to: "{}" }],
    reports: /SesInboundWebhook does not wait for the whole API/,
  },
  {
    fact: "a webhook subscribed before the API answers",
    check: "webhooks",
    env: REPLIES,
    mutations: [{ file: "infra/webhooks.ts", from: "{ dependsOn: apiReady ? [api, apiReady] : [api] }", to: "{ dependsOn: [api] }" }],
    reports: /does not wait for the API to answer/,
  },
  // #15.4: new code only after the migration run.
  {
    fact: "functions going live before the migrations ran",
    check: "migrations",
    mutations: [{ file: "infra/database.ts", from: "    opts.dependsOn = existing", to: "    opts.retainOnDelete = existing" }],
    reports: /TickFunction does not wait for the migration run/,
  },
  {
    fact: "the migrator waiting for its own run",
    check: "migrations",
    mutations: [{ file: "infra/database.ts", from: "    if (name === MIGRATOR_FUNCTION) return;\n", to: "" }],
    reports: /MigratorFunction \(the migrator\) depends on its own invocation/,
  },
  // #15.8: what operators need.
  {
    fact: "the dead-letter queues not in the stack outputs",
    check: "operations",
    mutations: [{ file: "sst.config.ts", from: "tick: { arn: tickDlq.arn, url: tickDlq.url },", to: "" }],
    reports: /lack deadLetters\.tick/,
  },
  {
    fact: "the hand-written sst-env.d.ts left to SST's generator",
    check: "operations",
    mutations: [{ file: "sst.config.ts", from: `types: { ignore: ["packages/functions"] },`, to: "" }],
    reports: /would overwrite packages\/functions\/sst-env\.d\.ts/,
  },
  // #15.5: failed ticks not retried, and seen.
  {
    fact: "failed ticks retried by Lambda's defaults",
    check: "tickFailures",
    mutations: [{ file: "infra/scheduler.ts", from: "  retries: 0,\n", to: "" }],
    reports: /no event invoke config: Lambda retries a failed tick twice/,
  },
  {
    fact: "failed ticks not sent to the tick DLQ",
    check: "tickFailures",
    mutations: [
      { file: "infra/scheduler.ts", from: "destinationConfig: { onFailure: { destination: tickDlq.arn } }", to: "destinationConfig: {}" },
    ],
    reports: /failed ticks go to undefined/,
  },
  {
    fact: "the tick unable to reach its on-failure destination",
    check: "tickFailures",
    mutations: [{ file: "infra/scheduler.ts", from: `permissions: [{ actions: ["sqs:SendMessage"], resources: [tickDlq.arn] }],`, to: "" }],
    reports: /may not send to its on-failure destination/,
  },
  {
    fact: "no alarm on the tick's errors",
    check: "tickFailures",
    mutations: [{ file: "infra/alarms.ts", from: "dimensions: { FunctionName: tick.name },", to: `dimensions: { FunctionName: "tick" },` }],
    reports: /no alarm on the tick function's Errors/,
  },
  {
    fact: "no alarm on the send DLQ",
    check: "alarms",
    mutations: [
      {
        file: "infra/alarms.ts",
        from: "dimensions: { QueueName: sendDlq.nodes.queue.name },",
        to: "dimensions: { QueueName: tickDlq.nodes.queue.name },",
      },
    ],
    reports: /no alarm on the send DLQ/,
  },
  {
    fact: "no alarm on the sender's errors",
    check: "alarms",
    mutations: [
      { file: "infra/alarms.ts", from: "dimensions: { FunctionName: sender.name },", to: `dimensions: { FunctionName: "sender" },` },
    ],
    reports: /no alarm on the sender function's Errors/,
  },
  {
    fact: "the sweeper not every 5 minutes",
    check: "apiAndSweeper",
    mutations: [{ file: "infra/sweeper.ts", from: `schedule: "rate(5 minutes)"`, to: `schedule: "rate(1 hour)"` }],
    reports: /the sweeper runs on rate\(1 hour\)/,
  },
  {
    fact: "the Swagger UI assets left out of the API",
    check: "apiAndSweeper",
    mutations: [
      { file: "infra/api.ts", from: `{ from: "node_modules/swagger-ui-dist/swagger-ui.css", to: "swagger-ui/swagger-ui.css" },`, to: "" },
    ],
    reports: /does not carry swagger-ui\/swagger-ui\.css/,
  },
  {
    fact: "the webhook queue without a dead-letter queue",
    check: "outboundWebhooks",
    mutations: [{ file: "infra/outbound-webhooks.ts", from: "  dlq: { queue: webhookDlq.arn, retry: DELIVERY_RETRIES },\n", to: "" }],
    reports: /WebhookQueue has no dead-letter queue/,
  },
  {
    fact: "the sender not linked to the webhook queue",
    check: "outboundWebhooks",
    mutations: [
      {
        file: "infra/sender.ts",
        from: "link: [databaseUrl, scheduling, sending, webhookQueue],",
        to: "link: [databaseUrl, scheduling, sending],",
      },
    ],
    reports: /sender\.handler\) emits webhook events but is not linked to WebhookQueue/,
  },
  {
    fact: "the webhook queue's visibility timeout shorter than 6 deliverer timeouts",
    check: "outboundWebhooks",
    mutations: [{ file: "infra/outbound-webhooks.ts", from: `visibilityTimeout: "13 minutes"`, to: `visibilityTimeout: "12 minutes"` }],
    reports: /WebhookQueue visibility timeout 720s < 6 x deliverer timeout 120s \+ batching window 1s/,
  },
];

describe("each wiring fact fails on a deliberately broken copy", () => {
  test.each(BREAKAGES.map((b) => [b.fact, b] as const))("%s", async (_, breakage) => {
    const ev = await evaluate({
      stage: breakage.stage ?? "test",
      dev: breakage.dev,
      env: breakage.env,
      account: breakage.account,
      mutations: breakage.mutations,
    });
    const problems = await CHECKS[breakage.check]!(ev);
    expect(problems.join("\n")).toMatch(breakage.reports);
  });

  test("every check has at least one breakage", () => {
    const shown = new Set(BREAKAGES.map((b) => b.check));
    expect(Object.keys(CHECKS).filter((name) => !shown.has(name))).toEqual([]);
  });
});
