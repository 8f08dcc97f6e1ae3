import { GetAccountSettingsCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import pg from "pg";

/**
 * `npm run deploy:check -- --stage <stage>`: asks AWS (and Neon) what a deploy with the current
 * settings needs, before deploying, and says what is missing in plain words. Read-only: it
 * creates nothing. The settings are the deploy's (docs/operations.md, "Deploy-time settings"):
 * load the stage's settings file into the shell first, as for `sst deploy`.
 */

export type Level = "ok" | "warn" | "fail" | "skip";

export interface Finding {
  check: string;
  level: Level;
  message: string;
}

export interface PreflightSettings {
  stage: string;
  region: string;
  emailDomain?: string;
  replyDomain?: string;
  trackingDomain?: string;
  sesIdentities: "create" | "adopt";
  senderConcurrency: number;
  /** The Neon URL to check (the pooled one the DatabaseUrl secret holds). */
  databaseUrl?: string;
}

export interface PreflightClients {
  sts: STSClient;
  ses: SESv2Client;
  lambda: LambdaClient;
}

/** Regions where SES receives mail (SES developer guide, "Email receiving endpoints"). */
export const SES_RECEIVING_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ca-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-north-1",
  "eu-south-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "il-central-1",
  "sa-east-1",
];

/** Concurrency the other functions need next to the senders (API, tick bursts, sweeper, migrator, the SES events and webhook consumers). */
export const CONCURRENCY_HEADROOM = 10;

const name = (error: unknown) => (error as { name?: string })?.name ?? "Error";
const text = (error: unknown) => (error as Error)?.message ?? String(error);

export function settingsFromEnv(stage: string, env: NodeJS.ProcessEnv, databaseUrl?: string): PreflightSettings {
  const value = (key: string) => env[key]?.trim() || undefined;
  return {
    stage,
    region: value("AWS_REGION") ?? "us-east-1",
    emailDomain: value("EMAIL_DOMAIN")?.toLowerCase(),
    replyDomain: value("REPLY_DOMAIN")?.toLowerCase(),
    trackingDomain: value("TRACKING_DOMAIN")?.toLowerCase(),
    sesIdentities: value("SES_IDENTITIES")?.toLowerCase() === "adopt" ? "adopt" : "create",
    senderConcurrency: Number(value("SENDER_MAX_CONCURRENCY") ?? 5),
    databaseUrl: databaseUrl ?? value("DATABASE_URL"),
  };
}

export function clientsFor(region: string): PreflightClients {
  return { sts: new STSClient({ region }), ses: new SESv2Client({ region }), lambda: new LambdaClient({ region }) };
}

interface Identity {
  exists: boolean;
  verified: boolean;
  dkim?: string;
}

async function identity(ses: SESv2Client, domain: string): Promise<Identity> {
  try {
    const found = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    return { exists: true, verified: found.VerifiedForSendingStatus === true, dkim: found.DkimAttributes?.Status };
  } catch (error) {
    if (name(error) === "NotFoundException") return { exists: false, verified: false };
    throw error;
  }
}

export async function preflight(settings: PreflightSettings, clients: PreflightClients): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (check: string, level: Level, message: string) => findings.push({ check, level, message });

  // 1. Credentials: nothing else can be asked without them.
  try {
    const me = await clients.sts.send(new GetCallerIdentityCommand({}));
    add("credentials", "ok", `AWS account ${me.Account} as ${me.Arn}`);
  } catch (error) {
    add(
      "credentials",
      "fail",
      `No usable AWS credentials (${name(error)}: ${text(error)}). Configure them in this shell (aws configure, AWS_PROFILE or SSO login) and check with: aws sts get-caller-identity`,
    );
    return findings;
  }

  // 2. Region.
  if (settings.replyDomain && !SES_RECEIVING_REGIONS.includes(settings.region)) {
    add(
      "region",
      "fail",
      `REPLY_DOMAIN is set but SES does not receive mail in ${settings.region}. Use a receiving region (for example us-east-1, us-west-2, eu-west-1) in AWS_REGION.`,
    );
  } else add("region", "ok", `deploying to ${settings.region}`);

  // 3. SES production access.
  try {
    const account = await clients.ses.send(new GetAccountCommand({}));
    const quota = account.SendQuota;
    if (!account.ProductionAccessEnabled) {
      add(
        "ses production access",
        "fail",
        `SES in ${settings.region} is in the sandbox: ${quota?.Max24HourSend ?? 200} emails a day, only to verified addresses. Request production access (SES console → Account dashboard → Request production access) and wait for the approval mail.`,
      );
    } else if (account.SendingEnabled === false) {
      add("ses production access", "fail", `Sending is paused for this account in ${settings.region} (SES console → Account dashboard).`);
    } else {
      add(
        "ses production access",
        "ok",
        `production access; up to ${quota?.MaxSendRate ?? "?"} emails/s, ${quota?.Max24HourSend ?? "?"} a day`,
      );
      const perSecond = quota?.MaxSendRate ?? 0;
      if (perSecond > 0 && settings.senderConcurrency * 10 > perSecond * 4) {
        add(
          "sending rate",
          "warn",
          `SENDER_MAX_CONCURRENCY=${settings.senderConcurrency} (up to ${settings.senderConcurrency * 10} emails in flight) is far above the account's ${perSecond}/s: expect throttling (retried, not lost). See docs/operations.md, "Sending rate".`,
        );
      }
    }
  } catch (error) {
    add(
      "ses production access",
      "fail",
      `Could not read the SES account (${name(error)}: ${text(error)}): the credentials need ses:GetAccount.`,
    );
  }

  // 4. Identities and DKIM.
  const identities = new Map<string, Identity>();
  for (const [variable, domain] of [
    ["EMAIL_DOMAIN", settings.emailDomain],
    ["REPLY_DOMAIN", settings.replyDomain],
  ] as const) {
    if (!domain || identities.has(domain)) continue;
    let state: Identity;
    try {
      state = await identity(clients.ses, domain);
    } catch (error) {
      add(`identity ${domain}`, "fail", `Could not read the SES identity ${domain} (${name(error)}: ${text(error)}).`);
      continue;
    }
    identities.set(domain, state);
    const check = `identity ${domain}`;
    if (settings.sesIdentities === "adopt") {
      if (!state.exists)
        add(
          check,
          "fail",
          `SES_IDENTITIES=adopt but ${domain} (${variable}) is not an SES identity in ${settings.region}: create it first, or deploy without SES_IDENTITIES=adopt.`,
        );
      else if (!state.verified)
        add(
          check,
          "warn",
          `${domain} exists but is not verified yet (DKIM ${state.dkim ?? "unknown"}): add its DKIM CNAME records; sending waits for it.`,
        );
      else add(check, "ok", `${domain} exists and is verified (DKIM ${state.dkim}); it will be adopted`);
    } else if (state.exists) {
      add(
        check,
        "warn",
        `${domain} already exists in ${settings.region} (${state.verified ? "verified" : `not verified, DKIM ${state.dkim ?? "unknown"}`}). If stage ${settings.stage} created it, this is fine. If another stage or a person created it, the deploy fails creating it again: set SES_IDENTITIES=adopt.`,
      );
    } else {
      add(
        check,
        "ok",
        `${domain} will be created; then add the three DKIM CNAME records of the dkimRecords output and wait for verification (minutes to 72 hours).`,
      );
    }
  }
  if (settings.trackingDomain) {
    const labels = settings.trackingDomain.split(".");
    const covering = labels.slice(0, -1).map((_, i) => labels.slice(i).join("."));
    let verified: string | undefined;
    for (const candidate of covering) {
      const state = identities.get(candidate) ?? (await identity(clients.ses, candidate).catch(() => ({ exists: false, verified: false })));
      if (state.verified) {
        verified = candidate;
        break;
      }
    }
    if (verified)
      add("tracking domain", "ok", `${settings.trackingDomain} is covered by the verified identity ${verified}: it will be applied`);
    else
      add(
        "tracking domain",
        "warn",
        `${settings.trackingDomain} is not covered by a verified SES identity yet: this deploy keeps SES's own tracking links, and a deploy after the domain is verified applies it (SES refuses it before).`,
      );
  }

  // 5. Lambda concurrency.
  try {
    const account = await clients.lambda.send(new GetAccountSettingsCommand({}));
    const limit = account.AccountLimit?.ConcurrentExecutions ?? 0;
    const needed = settings.senderConcurrency + CONCURRENCY_HEADROOM;
    if (limit < needed) {
      add(
        "lambda concurrency",
        "fail",
        `The account runs at most ${limit} Lambda functions at once in ${settings.region}; this stage needs ${needed} (SENDER_MAX_CONCURRENCY=${settings.senderConcurrency} senders + ${CONCURRENCY_HEADROOM} for the API, ticks, sweeper and the queues' consumers of SES events and webhooks, which Lambda throttles and SQS holds back when the account is full). New accounts often have 10: request "Concurrent executions" (L-B99A9384) of 1000 in Service Quotas, or lower SENDER_MAX_CONCURRENCY.`,
      );
    } else add("lambda concurrency", "ok", `${limit} concurrent executions (this stage needs ${needed})`);
  } catch (error) {
    add("lambda concurrency", "fail", `Could not read the Lambda account settings (${name(error)}: ${text(error)}).`);
  }

  // 6. Neon.
  if (!settings.databaseUrl) {
    add("database", "skip", "not checked: pass --database-url '<the pooled Neon URL of the DatabaseUrl secret>' (or DATABASE_URL)");
  } else findings.push(await checkDatabase(settings.databaseUrl));
  return findings;
}

/** Connects and runs `SELECT 1` within 10 s; says whether the URL is Neon's pooled one. */
export async function checkDatabase(url: string, timeoutMs = 10_000): Promise<Finding> {
  let host = "?";
  try {
    host = new URL(url).hostname;
  } catch {
    return {
      check: "database",
      level: "fail",
      message: "The database URL is not a URL (expected postgresql://user:pass@host/db?sslmode=require).",
    };
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    const pooled = host.includes("-pooler");
    return pooled || !host.endsWith("neon.tech")
      ? { check: "database", level: "ok", message: `${host} answers` }
      : {
          check: "database",
          level: "warn",
          message: `${host} answers, but it is Neon's direct endpoint: the DatabaseUrl secret should hold the pooled one (host with -pooler).`,
        };
  } catch (error) {
    return {
      check: "database",
      level: "fail",
      message: `${host} does not answer (${text(error)}): check the URL, the password and that the Neon project is active.`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

const MARK: Record<Level, string> = { ok: "✓", warn: "!", fail: "✗", skip: "-" };

export function report(findings: Finding[]): string {
  const lines = findings.map((f) => `  ${MARK[f.level]} ${f.check}: ${f.message}`);
  const failed = findings.filter((f) => f.level === "fail").length;
  lines.push("", failed ? `  ${failed} problem(s) to fix before deploying.` : "  Nothing blocks the deploy.");
  return lines.join("\n");
}
