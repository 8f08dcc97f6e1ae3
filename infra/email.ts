import { account, prefix, settings, trackingDomainStatus } from "./config";
import { sesEvents, sesEventsPolicy } from "./events";

/**
 * SES: one configuration set per open × click tracking combination (a campaign's settings pick
 * one per email), each publishing its events to the `SesEvents` topic, and the identity of the
 * sending domain.
 *
 * SES tracks opens (pixel) and clicks (link rewriting) only when the configuration set has an
 * event destination for OPEN / CLICK: so those two event types appear only where tracking is on.
 */

/** Published by every configuration set. */
export const ALWAYS_PUBLISHED = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY", "RENDERING_FAILURE"];

/** The keys of `Resource.Sending.configurationSets` (core's `TrackingMode`). */
export const TRACKING_MODES = {
  none: { opens: false, clicks: false },
  opens: { opens: true, clicks: false },
  clicks: { opens: false, clicks: true },
  full: { opens: true, clicks: true },
} as const;

const trackingDomain = trackingDomainStatus().apply;

function configurationSet(mode: keyof typeof TRACKING_MODES) {
  const { opens, clicks } = TRACKING_MODES[mode];
  const logical = `ConfigurationSet${mode.charAt(0).toUpperCase()}${mode.slice(1)}`;
  const set = new aws.sesv2.ConfigurationSet(logical, {
    configurationSetName: `${prefix}-${mode}`,
    reputationOptions: { reputationMetricsEnabled: true },
    // SES's own suppression list as a second line behind ours (docs/operations.md): an address
    // that hard-bounced or complained anywhere in the account is not sent to, even if a bug let
    // it through. Our list (per workspace) is the first line and the one users manage.
    suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
    // Tracked links and the open pixel use the custom domain instead of SES's awstrack.me.
    // (Only once an identity covering it is verified: see trackingDomainStatus.)
    trackingOptions:
      (opens || clicks) && trackingDomain ? { customRedirectDomain: trackingDomain, httpsPolicy: settings.trackingHttps } : undefined,
  });
  const matchingEventTypes = [...ALWAYS_PUBLISHED];
  if (opens) matchingEventTypes.push("OPEN");
  if (clicks) matchingEventTypes.push("CLICK");
  new aws.sesv2.ConfigurationSetEventDestination(
    `${logical}Events`,
    {
      configurationSetName: set.configurationSetName,
      eventDestinationName: "sns",
      eventDestination: { enabled: true, matchingEventTypes, snsDestination: { topicArn: sesEvents.arn } },
    },
    { dependsOn: [sesEventsPolicy] },
  );
  return set;
}

export const configurationSets = {
  none: configurationSet("none"),
  opens: configurationSet("opens"),
  clicks: configurationSet("clicks"),
  full: configurationSet("full"),
};

/** Every SES identity of this account and region (sending addresses are verified at run time). */
export const sesIdentities = configurationSets.none.arn.apply((arn) => `${arn.split(":").slice(0, 5).join(":")}:identity/*`);

/**
 * An SES identity this stage uses. `create`: created here with Easy DKIM; SES verifies it once
 * the three DKIM CNAME records (stack output `dkimRecords`) are in its DNS, and the deploy does
 * not wait for that. It is kept on `sst remove` (other stages of the account may send with it;
 * SES has one identity per domain per account and region). `adopt` (SES_IDENTITIES): it already
 * exists; nothing is created or deleted.
 */
export function identity(
  logical: string,
  domain: string,
  args: { configurationSetName?: typeof configurationSets.none.configurationSetName } = {},
) {
  if (settings.sesIdentities === "adopt") {
    const existing = account.identities.get(domain);
    if (!existing) {
      throw new Error(
        `SES_IDENTITIES=adopt, but ${domain} is not an SES identity in this account and region: create it (or deploy once without SES_IDENTITIES=adopt)`,
      );
    }
    return { adopted: existing, created: undefined, dkimTokens: $output(existing.dkimTokens) };
  }
  const created = new aws.sesv2.EmailIdentity(logical, { emailIdentity: domain, ...args }, { retainOnDelete: true });
  return { adopted: undefined, created, dkimTokens: created.dkimSigningAttributes.apply((a) => a.tokens ?? []) };
}

/** The sending domain's identity. */
export const emailIdentity = settings.emailDomain
  ? identity("EmailIdentity", settings.emailDomain, {
      // Mail sent without a configuration set still reports its events.
      configurationSetName: configurationSets.none.configurationSetName,
    })
  : undefined;

export function dkimRecords(id: NonNullable<typeof emailIdentity>, domain: string) {
  return id.dkimTokens.apply((tokens) => tokens.map((token) => `${token}._domainkey.${domain} CNAME ${token}.dkim.amazonses.com`));
}
