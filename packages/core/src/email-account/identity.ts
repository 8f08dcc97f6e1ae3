import type { EmailAccountStatus } from "./email-account.sql";

/**
 * The sending-identity port: whether SES may send from an address. Production asks SES
 * (email-account/ses-identity.ts); local mode and tests install one that verifies everything.
 */
export type IdentityVerifier = (email: string) => Promise<EmailAccountStatus>;

let verifier: IdentityVerifier = async () => "pending";

export function install(next: IdentityVerifier): void {
  verifier = next;
}

export function status(email: string): Promise<EmailAccountStatus> {
  return verifier(email);
}

export const alwaysVerified: IdentityVerifier = async () => "verified";
