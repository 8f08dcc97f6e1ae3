import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { CHECKS, HANDLERS, senderOf, sendMapping } from "./harness/checks";
import { DEPLOY_ENV, type Evaluation, evaluate, ROOT } from "./harness/evaluate";
import { analyzeHandlers } from "./harness/handlers";
import { OUTPUT_TO_STRING, resolve } from "./harness/standins";

/**
 * sst.config.ts + infra/ evaluated offline against recording stand-ins of SST's globals, in the
 * configurations an operator can deploy; every wiring fact (harness/checks.ts) must hold in each.
 * broken.test.ts shows each check failing on a deliberately broken copy.
 */

const EVERYTHING = {
  API_DOMAIN: "api.example.com",
  EMAIL_DOMAIN: "example.com",
  TRACKING_DOMAIN: "track.example.com",
  TRACKING_HTTPS: "REQUIRE",
  REPLY_DOMAIN: "reply.example.com",
  ALARM_EMAIL: "ops@example.com",
  SENDER_MAX_CONCURRENCY: "8",
};

/** The account once the domains' DKIM records are in DNS. */
const VERIFIED = { identities: { "example.com": { verified: true }, "reply.example.com": { verified: true } } };

const CONFIGURATIONS: Array<[string, Parameters<typeof evaluate>[0]]> = [
  ["a stage with no options", { stage: "staging" }],
  ["production's first deploy with every option (nothing in SES yet)", { stage: "production", env: EVERYTHING }],
  ["production with every option, its domains verified", { stage: "production", env: EVERYTHING, account: VERIFIED }],
  [
    "a second stage in the same account, adopting the identities and sharing the active rule set",
    {
      stage: "staging",
      env: { ...EVERYTHING, SES_IDENTITIES: "adopt", INBOUND_RULE_SET: "fluenzr-production-inbound" },
      account: VERIFIED,
    },
  ],
  ["sst dev", { stage: "alice", dev: true }],
];

describe.each(CONFIGURATIONS)("%s", (_, options) => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await evaluate(options);
  });

  test.each(Object.keys(CHECKS))("%s", async (name) => {
    expect(await CHECKS[name]!(ev)).toEqual([]);
  });
});

describe("what the deploy builds", () => {
  test("the options reach the resources and the stack outputs", async () => {
    const ev = await evaluate({ stage: "production", env: EVERYTHING, account: VERIFIED });
    const { recording, outputs } = ev;
    expect(resolve(sendMapping(recording)!.args.scalingConfig)).toEqual({ maximumConcurrency: 8 });
    expect(outputs.api).toBe("https://api.example.com");
    expect(outputs.configurationSets).toEqual({
      none: "fluenzr-production-none",
      opens: "fluenzr-production-opens",
      clicks: "fluenzr-production-clicks",
      full: "fluenzr-production-full",
    });
    expect(outputs.dkimRecords).toHaveLength(3);
    expect(outputs.dkimRecords[0]).toMatch(/^\S+\._domainkey\.example\.com CNAME \S+\.dkim\.amazonses\.com$/);
    expect(outputs.replyMx).toBe("reply.example.com MX 10 inbound-smtp.us-east-1.amazonaws.com");
    const full = recording.get("aws.sesv2.ConfigurationSet", "ConfigurationSetFull");
    expect(resolve(full.args.trackingOptions)).toEqual({ customRedirectDomain: "track.example.com", httpsPolicy: "REQUIRE" });
    // Every configuration set the sender uses has SES's account-level suppression on, for bounces and complaints.
    const sets = recording.all("aws.sesv2.ConfigurationSet");
    expect(sets).toHaveLength(4);
    for (const set of sets) expect(resolve(set.args.suppressionOptions)).toEqual({ suppressedReasons: ["BOUNCE", "COMPLAINT"] });
    // The sending domain and the reply domain are SES identities.
    expect(recording.all("aws.sesv2.EmailIdentity").map((i) => resolve(i.args.emailIdentity))).toEqual([
      "example.com",
      "reply.example.com",
    ]);
  });

  test("without options: no identity, no inbound, the sender's default concurrency", async () => {
    const { recording, outputs } = await evaluate({ stage: "staging" });
    expect(recording.all("aws.sesv2.EmailIdentity")).toEqual([]);
    expect(recording.find("sst.aws.SnsTopic", "SesInbound")).toBeUndefined();
    expect(resolve(sendMapping(recording)!.args.scalingConfig)).toEqual({ maximumConcurrency: 5 });
    expect(outputs.dkimRecords).toBeUndefined();
    expect(outputs.api).toMatch(/^https:\/\/.*execute-api/);
  });

  test("the sender: batches of 10, a timeout the queue's visibility covers, its links", async () => {
    const { recording } = await evaluate({ stage: "staging" });
    const sender = senderOf(recording)!;
    expect(resolve(sender.args.handler)).toBe(HANDLERS.sender);
    expect(resolve(sendMapping(recording)!.args.batchSize)).toBe(10);
    const links = (resolve(sender.args.link) as unknown[]).map((l) => recording.recordOf(l)?.name);
    expect(links.sort()).toEqual(["DatabaseUrl", "Scheduling", "Sending", "WebhookQueue"]);
  });

  test("invalid deploy-time settings stop the deploy with a clear message", async () => {
    await expect(evaluate({ env: { SENDER_MAX_CONCURRENCY: "1" } })).rejects.toThrow(
      /SENDER_MAX_CONCURRENCY must be an integer from 2 to 1000/,
    );
    await expect(evaluate({ env: { TRACKING_HTTPS: "sometimes" } })).rejects.toThrow(/TRACKING_HTTPS must be one of/);
    await expect(evaluate({ env: { EMAIL_DOMAIN: "not a domain" } })).rejects.toThrow(/EMAIL_DOMAIN must be a domain name/);
  });

  test("every deploy-time variable infra reads is isolated by the tests and documented for operators", () => {
    const sources = [
      "sst.config.ts",
      ...readdirSync(join(ROOT, "infra"))
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `infra/${f}`),
    ]
      .map((f) => readFileSync(join(ROOT, f), "utf8"))
      .join("\n");
    const read = new Set<string>();
    for (const m of sources.matchAll(
      /process\.env\.([A-Z_][A-Z0-9_]*)|(?:optional|integer|domain|httpsPolicy|choice)\("([A-Z_][A-Z0-9_]*)"/g,
    ))
      read.add((m[1] ?? m[2])!);
    expect([...read].filter((name) => !DEPLOY_ENV.includes(name))).toEqual([]);
    const guide = readFileSync(join(ROOT, "docs/operations.md"), "utf8");
    expect([...read].filter((name) => !guide.includes(`\`${name}\``))).toEqual([]);
  });
});

describe("cold start: AWS SDK clients only in the functions that use them", () => {
  test("each bundle carries the clients its code calls, the API's SES, S3 and SQS clients loaded lazily", async () => {
    const { recording } = await evaluate({ stage: "staging" });
    const fns = Object.entries(HANDLERS).map(([key, handler]) => [key, recording.functionByHandler(handler)!] as const);
    const analyses = await analyzeHandlers(fns.map(([, fn]) => fn.args));
    const clients = Object.fromEntries(
      fns.map(([key], i) => [
        key,
        { bundled: [...analyses[i]!.sdkClients.bundled].sort(), atImport: [...analyses[i]!.sdkClients.atImport].sort() },
      ]),
    );
    expect(clients).toEqual({
      // SQS (outbound webhook deliveries) is loaded on first use, where it is not the function's own queue.
      api: { bundled: ["client-s3", "client-scheduler", "client-sesv2", "client-sqs"], atImport: ["client-scheduler"] },
      tick: { bundled: ["client-sqs"], atImport: ["client-sqs"] },
      sender: { bundled: ["client-scheduler", "client-sesv2", "client-sqs"], atImport: ["client-scheduler", "client-sesv2"] },
      sweeper: { bundled: ["client-scheduler", "client-sesv2", "client-sqs"], atImport: ["client-scheduler", "client-sesv2"] },
      migrate: { bundled: [], atImport: [] },
      apiReady: { bundled: [], atImport: [] },
      webhookDeliverer: { bundled: ["client-sqs"], atImport: [] },
      // SES events: no SES client (nothing is sent); SQS on first use, for outbound webhook deliveries.
      sesEvents: { bundled: ["client-scheduler", "client-sqs"], atImport: ["client-scheduler"] },
    });
  });
});

describe("the stand-ins behave like SST where the wiring depends on it", () => {
  test("an Output in a plain template literal is not its value (use $interpolate)", async () => {
    const ev = await evaluate({
      env: { REPLY_DOMAIN: "reply.example.com" },
      mutations: [
        {
          file: "infra/webhooks.ts",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: source text to replace
          from: "endpoint: $interpolate`${apiEndpoint}${path}`",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: source text to replace
          to: "endpoint: `${apiEndpoint}${path}`",
        },
      ],
    });
    const sub = ev.recording.get("aws.sns.TopicSubscription", "SesInboundWebhook");
    expect(resolve(sub.args.endpoint)).toContain(OUTPUT_TO_STRING);
    expect(await CHECKS.webhooks!(ev)).not.toEqual([]);
  });

  test("a queue takes one subscriber", async () => {
    await expect(
      evaluate({
        mutations: [
          {
            file: "infra/sender.ts",
            from: "export const sender = senderSubscriber.nodes.function;",
            to: 'export const sender = senderSubscriber.nodes.function;\nsendQueue.subscribe("packages/functions/src/sender.handler");',
          },
        ],
      }),
    ).rejects.toThrow(/only have one subscriber/);
  });
});
