import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import { Resource } from "sst";

/** Neon through its WebSocket Pool; one per Lambda instance, reused across invocations. */
export async function installDatabase(): Promise<void> {
  if (Database.isInstalled()) return;
  const webSocketConstructor = globalThis.WebSocket ? undefined : (await import("ws")).default;
  Database.install(createNeonDatabase(Resource.DatabaseUrl.value, { max: 5, webSocketConstructor }));
}
