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

function choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const value = (optional(name) ?? fallback).toLowerCase();
  const found = choices.find((c) => c === value);
  if (!found) throw new Error(`${name} must be one of ${choices.join(", ")}, got "${value}"`);
  return found;
}

const RULE_SET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

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
  /**
   * `create` (default): this stage creates the SES identities of EMAIL_DOMAIN / REPLY_DOMAIN
   * (kept on `sst remove`). `adopt`: they already exist in the account and region (verified by
   * hand, or created by another stage): use them, never create or delete them.
   */
  sesIdentities: choice("SES_IDENTITIES", ["create", "adopt"] as const, "create"),
  /**
   * Unset: this stage creates its receipt rule set and makes it the active one (the account's
   * first stage receiving replies). Set to the name of the account's active rule set: this
   * stage only adds its rule to it (SES has one active rule set per account and region).
   */
  inboundRuleSet: (() => {
    const value = optional("INBOUND_RULE_SET");
    if (value !== undefined && !RULE_SET.test(value)) throw new Error(`INBOUND_RULE_SET must be a receipt rule set name, got "${value}"`);
    return value;
  })(),
  /** Days a received reply's raw message is kept in the inbound bucket (1..365). */
  inboundRetentionDays: integer("INBOUND_RETENTION_DAYS", 7, 1, 365),
};

export interface ExistingIdentity {
  name: string;
  verified: boolean;
  dkimTokens: string[];
}

/** What AWS says at deploy time, before anything is built (sst.config.ts awaits `lookUpAccount`). */
export const account: {
  /** The existing identity covering TRACKING_DOMAIN (itself or a parent domain), if any. */
  trackingIdentity?: ExistingIdentity;
  /** EMAIL_DOMAIN's and REPLY_DOMAIN's identities, when they exist. */
  identities: Map<string, ExistingIdentity>;
} = { identities: new Map() };

async function findIdentity(name: string): Promise<ExistingIdentity | undefined> {
  try {
    const found = await aws.sesv2.getEmailIdentity({ emailIdentity: name });
    return { name, verified: found.verifiedForSendingStatus, dkimTokens: found.dkimSigningAttributes[0]?.tokens ?? [] };
  } catch {
    return undefined; // NotFoundException: no such identity (yet)
  }
}

/** `track.mail.example.com` → itself, `mail.example.com`, `example.com`. */
function selfAndParents(domain: string): string[] {
  const labels = domain.split(".");
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join("."));
}

export async function lookUpAccount(): Promise<void> {
  for (const domain of [settings.emailDomain, settings.replyDomain]) {
    if (!domain) continue;
    const found = await findIdentity(domain);
    if (found) account.identities.set(domain, found);
  }
  if (settings.trackingDomain) {
    for (const name of selfAndParents(settings.trackingDomain)) {
      const found = account.identities.get(name) ?? (await findIdentity(name));
      if (found) {
        account.trackingIdentity = found;
        break;
      }
    }
  }
}

/**
 * The custom tracking domain, applied only once SES accepts it: SES refuses a redirect domain
 * that is not covered by a verified identity (`InvalidTrackingOptions`), and on a first deploy
 * the sending domain's identity is created unverified. Until then the links use SES's own
 * tracking host, and the stack output `trackingDomain` says why; the next deploy after DNS
 * verification applies it.
 */
export function trackingDomainStatus(): { apply: string | undefined; note?: string } {
  const domain = settings.trackingDomain;
  if (!domain) return { apply: undefined };
  const identity = account.trackingIdentity;
  if (identity?.verified) return { apply: domain };
  const why = identity
    ? `SES identity ${identity.name} is not verified yet`
    : `no SES identity covers ${domain} yet (it or a parent domain, e.g. EMAIL_DOMAIN)`;
  return { apply: undefined, note: `${domain} not applied: ${why}. Deploy again once it is verified (npm run deploy:check).` };
}

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
