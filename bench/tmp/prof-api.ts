import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Workspace from "@fluenzr/core/workspace";
import { createApp } from "@fluenzr/functions/api/app";
import { sequence } from "@fluenzr/testing/workflows";
import { freshDatabase } from "../lib";

const db = await freshDatabase("fluenzr_prof");
Database.install(db);
EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
const ws = await Workspace.create("Bench");
const { key } = await Auth.createKey({ workspaceId: ws.id, name: "bench", rateLimit: 100_000_000 });
const campaign = await Actor.asWorkspace(ws.id, async () => {
  const account = await EmailAccount.create({ email: "bench@example.com", name: "Bench" });
  return Campaign.create({ name: "C", emailAccountId: account.id, workflow: sequence(2) });
});
const app = createApp();
const headers = { authorization: `Bearer ${key}` };
const path = process.env.P ?? `/v1/campaigns/${campaign.id}`;
for (let i = 0; i < 500; i++) await (await app.request(path, { headers })).arrayBuffer();
const t = performance.now();
const N = 5000;
let next = 0;
await Promise.all(
  Array.from({ length: 20 }, async () => {
    while (next++ < N) await (await app.request(path, { headers })).arrayBuffer();
  }),
);
console.log("req/s", Math.round(N / ((performance.now() - t) / 1000)));
await db.close();
process.exit(0);
