import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import { Identity } from "@fluenzr/core/email-account";
import { sesIdentityVerifier } from "@fluenzr/core/email-account/ses-identity";
import { Resource } from "sst";

/**
 * Lambda start-up, once per instance and on first use (so importing a handler has no side
 * effects): the ports get their AWS implementations, configured from SST links.
 */
let ready: Promise<void> | undefined;

export function setup(): Promise<void> {
  ready ??= (async () => {
    const webSocketConstructor = globalThis.WebSocket ? undefined : (await import("ws")).default;
    Database.install(createNeonDatabase(Resource.DatabaseUrl.value, { max: 5, webSocketConstructor }));
    Identity.install(sesIdentityVerifier());
  })().catch((error) => {
    ready = undefined;
    throw error;
  });
  return ready;
}
