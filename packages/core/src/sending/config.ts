/** What the engine needs to know about its deployment, supplied by Lambda links or the local runner. */
export interface SendingConfig {
  /** Base URL of the public API: unsubscribe links point at `${publicUrl}/v1/unsubscribe/<token>`. */
  publicUrl: string;
  /** SES configuration sets by tracking combination (open tracking × click tracking). */
  configurationSets?: Partial<Record<TrackingMode, string>>;
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
