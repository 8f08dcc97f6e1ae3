/** What the engine needs to know about its deployment, supplied by Lambda links or the local runner. */
export interface SendingConfig {
  /** Base URL of the public API: unsubscribe links point at `${publicUrl}/v1/unsubscribe/<token>`. */
  publicUrl: string;
  /** SES configuration sets by tracking combination (open tracking × click tracking). */
  configurationSets?: Partial<Record<TrackingMode, string>>;
  /**
   * The domain of the `Message-ID` SES gives each email (`<ses-id@domain>`): SES replaces any
   * `Message-ID` we set, so threaded follow-ups name the previous email by SES's id. Default
   * `email.amazonses.com` (us-east-1); see `sesMessageIdDomain`.
   */
  messageIdDomain?: string;
}

/** SES's `Message-ID` domain in a region: `email.amazonses.com` in us-east-1, `<region>.amazonses.com` elsewhere. */
export function sesMessageIdDomain(region: string | undefined): string {
  return !region || region === "us-east-1" ? "email.amazonses.com" : `${region}.amazonses.com`;
}

/** The `Message-ID` recipients saw on an email SES took under this id. */
export function rfcMessageId(sesMessageId: string): string {
  return `<${sesMessageId}@${current.messageIdDomain ?? sesMessageIdDomain(undefined)}>`;
}

export type TrackingMode = "none" | "opens" | "clicks" | "full";

export function trackingMode(trackOpens: boolean, trackClicks: boolean): TrackingMode {
  if (trackOpens && trackClicks) return "full";
  if (trackOpens) return "opens";
  if (trackClicks) return "clicks";
  return "none";
}

let current: SendingConfig = { publicUrl: "http://localhost:3000" };

export function install(config: SendingConfig): void {
  current = config;
}

export function use(): SendingConfig {
  return current;
}
