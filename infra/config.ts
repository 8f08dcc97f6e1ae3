/**
 * Deploy-time settings: read once from the environment of `sst deploy` (docs/operations.md lists
 * them). Nothing here is read by the functions at run time; what they need reaches them through
 * links (`Resource.*`).
 */

function optional(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value ? value : undefined;
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = optional(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function domain(name: string): string | undefined {
  const value = optional(name)?.toLowerCase();
  if (value !== undefined && !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(value)) {
    throw new Error(`${name} must be a domain name such as example.com, got "${value}"`);
  }
  return value;
}

const HTTPS_POLICIES = ["OPTIONAL", "REQUIRE", "REQUIRE_OPEN_ONLY"] as const;

function httpsPolicy(name: string): (typeof HTTPS_POLICIES)[number] {
  const value = (optional(name) ?? "OPTIONAL").toUpperCase();
  const policy = HTTPS_POLICIES.find((p) => p === value);
  if (!policy) throw new Error(`${name} must be one of ${HTTPS_POLICIES.join(", ")}, got "${value}"`);
  return policy;
}

export const settings = {
  /** The region of every resource (sst.config.ts sets the provider's region the same way). */
  region: optional("AWS_REGION") ?? "us-east-1",
  /** Serve the API on this domain (its hosted zone in Route 53); unset: the execute-api URL. */
  apiDomain: domain("API_DOMAIN"),
  /** The sending domain: an SES identity is created for it (DKIM records in the stack outputs). */
  emailDomain: domain("EMAIL_DOMAIN"),
  /** Custom open/click tracking (redirect) domain, a subdomain you CNAME to SES's tracking host. */
  trackingDomain: domain("TRACKING_DOMAIN"),
  /** HTTPS policy of the tracking links: OPTIONAL (default), REQUIRE, REQUIRE_OPEN_ONLY. */
  trackingHttps: httpsPolicy("TRACKING_HTTPS"),
  /** Receive replies for this domain (its MX pointing at SES inbound); unset: no inbound. */
  replyDomain: domain("REPLY_DOMAIN"),
  /** Where the alarms are mailed (an SNS email subscription to confirm once). */
  alarmEmail: optional("ALARM_EMAIL"),
  /** Senders running at once (SQS event source maximumConcurrency, 2..1000). */
  senderConcurrency: integer("SENDER_MAX_CONCURRENCY", 5, 2, 1000),
};

/** Prefix of the names AWS requires us to choose (configuration sets, rule sets, alarms, ...). */
export const prefix = `${$app.name}-${$app.stage}`;

/** What every function shares. SST bundles each handler with esbuild (ESM, minified). */
export const lambda = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  nodejs: { format: "esm", minify: true },
  logging: { retention: "1 month" },
} as const;

/** `LOG_LEVEL` of every function. */
export const logLevel = optional("LOG_LEVEL") ?? "info";
