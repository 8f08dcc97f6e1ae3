import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { linear } from "@fluenzr/testing/workflows";
import newman from "newman";

/**
 * `npm run test:contract`: a standard contract tester over a real local server.
 *
 * 1. Starts `npm start`'s server as a child process on a fresh PGlite (or DATABASE_URL) with a
 *    bootstrap key, a free port and a 1 s engine tick.
 * 2. Seeds real records through the API (email account, groups, contacts, campaigns in each state
 *    the operations need, a sent email with a simulated open) and keeps their ids.
 * 3. Portman turns packages/client/openapi.json into a Postman collection with contract tests
 *    (2xx status, content type, JSON body, the response schema with every object closed, the
 *    documented headers), path ids and body ids overwritten by the seeded ones
 *    (packages/local/contract/portman.json), destructive operations last.
 * 4. Newman runs it with the seeded ids as environment values; any failure exits 1.
 */

const root = resolve(import.meta.dirname, "../../../..");
const contractDir = join(root, "packages/local/contract");
const started = performance.now();
const dataDir = mkdtempSync(join(tmpdir(), "fluenzr-contract-"));
const key = `flz_sk_${randomBytes(24).toString("hex").slice(0, 32)}`;

let server: ChildProcess | undefined;

async function startServer(): Promise<{ url: string; sesUrl: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "packages/local/src/main.ts")], {
    cwd: root,
    env: {
      ...process.env,
      PORT: "0",
      LOCAL_SES_PORT: "0",
      DATA_DIR: dataDir,
      BOOTSTRAP_API_KEY: key,
      LOCAL_TICK_SECONDS: "1",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  let output = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s\n${errors}`)), 60_000);
    child.once("exit", (code) => reject(new Error(`server exited (${code})\n${errors}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const api = /API\s+(http:\/\/\S+)\/v1/.exec(output);
      const ses = /Sent emails\s+(http:\/\/\S+)/.exec(output);
      if (api && ses) {
        clearTimeout(timer);
        resolvePromise({ url: api[1]!, sesUrl: ses[1]! });
      }
    });
  });
}

function client(url: string) {
  return async <T = { id: string }>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as { data: T };
    if (!response.ok) throw new Error(`seed: ${method} ${path} → ${response.status} ${JSON.stringify(json)}`);
    return json.data;
  };
}

const everyDay = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const oneEmail = linear([{ id: "e1", email: { subject: "Hi {{firstName}}", body: "Hello {{firstName}}.\n{{unsubscribeUrl}}" } }], {
  start: "s",
  end: "end",
});

/** Real records for every operation that takes an id, each destructive one on its own record. */
async function seed(url: string): Promise<Record<string, string>> {
  const api = client(url);
  const until = async (what: string, check: () => Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`seed: timed out waiting for ${what}`);
  };
  const account = await api("POST", "/v1/email-accounts", { email: "seed@contract.example", name: "Seed", dailyLimit: 500 });
  const group = await api("POST", "/v1/groups", { name: "Contract group" });
  const deleteGroup = await api("POST", "/v1/groups", { name: "Contract group to delete" });
  const contact = await api("POST", "/v1/contacts", { email: "ada@contract.example", firstName: "Ada" });
  const other = await api("POST", "/v1/contacts", { email: "grace@contract.example", firstName: "Grace" });
  const sentContact = await api("POST", "/v1/contacts", { email: "alan@contract.example", firstName: "Alan" });
  const lifecycleContact = await api("POST", "/v1/contacts", { email: "barbara@contract.example", firstName: "Barbara" });
  const deleteContact = await api("POST", "/v1/contacts", { email: "leave@contract.example", firstName: "Leave" });
  // Campaigns that must stay active through the run send only in the hour twelve hours from now.
  const later = (new Date().getUTCHours() + 12) % 24;
  const campaign = (name: string, window: "now" | "later" = "now") =>
    api("POST", "/v1/campaigns", {
      name,
      emailAccountId: account.id,
      settings: {
        sendDays: everyDay,
        sendHoursStart: window === "now" ? 0 : later,
        sendHoursEnd: window === "now" ? 24 : later + 1,
        timezone: "UTC",
        maxEmailsPerHour: 600,
      },
      workflow: oneEmail,
    });
  const enrol = (id: string, contactIds: string[]) => api("POST", `/v1/campaigns/${id}/contacts`, { contactIds });

  const draft = await campaign("Draft");
  await enrol(draft.id, [other.id]);
  const deleteCampaign = await campaign("To delete");
  // Started by the run, but sending later, so pause, resume and archive act on an active campaign
  // that is not finishing under them.
  const lifecycle = await campaign("Lifecycle", "later");
  await enrol(lifecycle.id, [lifecycleContact.id]);
  const archive = await campaign("To archive");

  const sent = await campaign("Sent");
  await enrol(sent.id, [sentContact.id]);
  await api("POST", `/v1/campaigns/${sent.id}/start`);
  let messageId = "";
  await until("the first email", async () => {
    const feed = await api<Array<{ messageId?: string | null }>>("GET", `/v1/campaigns/${sent.id}/activity?type=sent`);
    messageId = feed[0]?.messageId ?? "";
    return messageId !== "";
  });
  await api("POST", "/v1/local/simulate", { messageId, event: "open" });
  await api("POST", "/v1/local/simulate", { messageId, event: "click", link: "https://contract.example/pricing" });

  const suppression = await api("POST", "/v1/suppressions", { email: "no@contract.example", note: "seed" });
  const deleteSuppression = await api("POST", "/v1/suppressions", { domain: "gone.contract.example", note: "seed" });

  // Outbound webhooks to the server itself (local mode allows http://localhost): a test event gives a delivery.
  const webhook = await api("POST", "/v1/webhooks", { url: `${url}/contract-hook`, events: ["contact.created"] });
  const deleteWebhook = await api("POST", "/v1/webhooks", { url: `${url}/contract-hook-gone`, events: ["*"] });
  const tested = await api<{ deliveryId: string }>("POST", `/v1/webhooks/${webhook.id}/test`);

  return {
    accountId: account.id,
    groupId: group.id,
    deleteGroupId: deleteGroup.id,
    contactId: contact.id,
    sentContactId: sentContact.id,
    deleteContactId: deleteContact.id,
    draftCampaignId: draft.id,
    deleteCampaignId: deleteCampaign.id,
    lifecycleCampaignId: lifecycle.id,
    archiveCampaignId: archive.id,
    sentCampaignId: sent.id,
    suppressionId: suppression.id,
    deleteSuppressionId: deleteSuppression.id,
    webhookId: webhook.id,
    deleteWebhookId: deleteWebhook.id,
    deliveryId: tested.deliveryId,
  };
}

function collection(): string {
  const output = join(dataDir, "collection.json");
  execFileSync(
    join(root, "node_modules/.bin/portman"),
    [
      "--local",
      join(root, "packages/client/openapi.json"),
      "--baseUrl",
      "{{baseUrl}}",
      "--portmanConfigFile",
      join(contractDir, "portman.json"),
      "--filterFile",
      join(contractDir, "filter.json"),
      "--output",
      output,
    ],
    { cwd: dataDir, stdio: ["ignore", "pipe", "inherit"] },
  );
  return output;
}

async function main() {
  const { url } = await startServer();
  const ids = await seed(url);
  const seeded = performance.now();
  const path = collection();
  const names = requestNames(JSON.parse(readFileSync(path, "utf8")));
  const operations = names.filter((name) => !name.includes("[")).length;
  const summary = await new Promise<newman.NewmanRunSummary>((done, fail) => {
    newman.run(
      {
        collection: path,
        reporters: ["cli"],
        reporter: { cli: { noBanner: true, noFailures: true } },
        envVar: [
          { key: "baseUrl", value: url },
          { key: "bearerToken", value: key },
          ...Object.entries(ids).map(([k, value]) => ({ key: k, value })),
        ],
      },
      (error, result) => (error ? fail(error) : done(result)),
    );
  });
  for (const failure of summary.run.failures) {
    const where = (failure.source as { name?: string } | undefined)?.name ?? "";
    console.error(`FAIL ${where}: ${failure.error.message.replace(/\s+/g, " ").trim()}`);
  }
  const { requests, assertions } = summary.run.stats;
  const failures = summary.run.failures.length;
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    `\ncontract: ${operations} operations, ${names.length - operations} variations (401, invalid bodies), ${requests.total} requests, ${assertions.total} assertions, ` +
      `${assertions.failed} failed assertions, ${failures} failures; seeded in ${seconds(seeded - started)} s, ` +
      `total ${seconds(performance.now() - started)} s`,
  );
  return failures === 0 && requests.failed === 0 && assertions.failed === 0 ? 0 : 1;
}

interface CollectionNode {
  name?: string;
  item?: CollectionNode[];
  request?: unknown;
}

function requestNames(node: CollectionNode): string[] {
  if (node.request) return [node.name ?? ""];
  return (node.item ?? []).flatMap(requestNames);
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
} finally {
  server?.kill("SIGTERM");
  await new Promise((r) => (server && server.exitCode === null ? server.once("exit", r) : r(undefined)));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(code);
