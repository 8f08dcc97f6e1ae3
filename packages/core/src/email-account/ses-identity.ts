import type { SESv2Client } from "@aws-sdk/client-sesv2";
import type { IdentityVerifier } from "./identity";

/**
 * SES decides: an address may send when it, or its domain, is a verified identity. The SES
 * client is loaded on first use so the API's cold start does not pay for it.
 */
export function sesIdentityVerifier(client?: SESv2Client): IdentityVerifier {
  let ses: Promise<{ client: SESv2Client; Command: typeof import("@aws-sdk/client-sesv2").GetEmailIdentityCommand }> | undefined;
  const load = () => {
    ses ??= import("@aws-sdk/client-sesv2").then((sdk) => ({
      client: client ?? new sdk.SESv2Client({}),
      Command: sdk.GetEmailIdentityCommand,
    }));
    return ses;
  };
  return async (email) => {
    const { client: c, Command } = await load();
    const domain = email.slice(email.lastIndexOf("@") + 1);
    let sawFailure = false;
    for (const identity of [email, domain]) {
      try {
        const result = await c.send(new Command({ EmailIdentity: identity }));
        if (result.VerifiedForSendingStatus) return "verified";
        if (result.VerificationStatus === "FAILED") sawFailure = true;
      } catch (error) {
        if ((error as { name?: string }).name !== "NotFoundException") throw error;
      }
    }
    return sawFailure ? "failed" : "pending";
  };
}
