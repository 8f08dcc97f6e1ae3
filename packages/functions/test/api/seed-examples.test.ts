import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { readConfig } from "@fluenzr/local/database";
import { type LocalSystem, startLocalSystem } from "@fluenzr/local/system";
import { ISO_UTC, onServer, openTestDatabase, type TestDatabase } from "@fluenzr/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * "Every request example in the seed, run verbatim against the local server (with a real key and
 * real ids substituted), answers with the documented status and shape."
 *
 * The real local system (`npm start`: PGlite in a temporary DATA_DIR, or a fresh PostgreSQL
 * database when DATABASE_URL is set) listens on a free port; each example is executed by the
 * machine's `curl` through `sh -c`, after substituting the host, the key and the example ids
 * (`cmp_abc123`, `acc_xyz789`, `grp_xyz789`, `con_abc`, ...) with real ones. The examples run in an
 * order where each is valid at its point: PUT while draft, start once contacts are in, archive
 * after a pause.
 *
 * Left out: the statistics (`/stats`, `/stats/emails`, `/stats/timeline`) and activity
 * (`/activity`) endpoints, for which the seed gives responses but no request example; stats.test.ts
 * reproduces those responses.
 */

// ---- the seed's text, copied verbatim (seed/campaigns-api.md) -------------------------------

/** "Campaign object": the fields every campaign answer holds, and their types. */
const SEED_CAMPAIGN_OBJECT = `{
  "id": "cmp_abc123",
  "name": "Q1 2025 Prospecting",
  "description": "3 email sequence for LinkedIn leads",
  "status": "active",
  "emailAccountId": "acc_xyz789",
  "settings": {
    "sendDays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "sendHoursStart": 9,
    "sendHoursEnd": 18,
    "timezone": "Europe/Paris",
    "maxEmailsPerHour": 30
  },
  "stats": {
    "totalContacts": 500,
    "sent": 450,
    "delivered": 445,
    "opened": 178,
    "clicked": 45,
    "replied": 23,
    "bounced": 5,
    "unsubscribed": 3
  },
  "createdAt": "2025-01-15T10:30:00Z",
  "startedAt": "2025-01-16T09:00:00Z",
  "updatedAt": "2025-01-20T14:45:00Z"
}`;

/** "Workflow structure": substituted for the `[...]` of the complete example. */
const SEED_WORKFLOW = String.raw`{
  "nodes": [
    {
      "id": "node_1",
      "type": "start"
    },
    {
      "id": "node_2",
      "type": "email",
      "data": {
        "subject": "{{firstName}}, quick question",
        "body": "Hello {{firstName}},\n\nI'm reaching out...",
        "trackOpens": true,
        "trackClicks": true
      }
    },
    {
      "id": "node_3",
      "type": "delay",
      "data": {
        "days": 3,
        "businessDays": true
      }
    },
    {
      "id": "node_4",
      "type": "email",
      "data": {
        "subject": "Following up on my message",
        "body": "{{firstName}},\n\nI'm following up..."
      }
    },
    {
      "id": "node_5",
      "type": "end"
    }
  ],
  "edges": [
    {"from": "node_1", "to": "node_2"},
    {"from": "node_2", "to": "node_3"},
    {"from": "node_3", "to": "node_4"},
    {"from": "node_4", "to": "node_5"}
  ]
}`;

const SEED_LIST = String.raw`curl -X GET "https://api.fluenzr.co/v1/campaigns?status=active" \
  -H "Authorization: Bearer flz_sk_xxx"`;

const SEED_GET = String.raw`curl -X GET "https://api.fluenzr.co/v1/campaigns/cmp_abc123" \
  -H "Authorization: Bearer flz_sk_xxx"`;

const SEED_CREATE = String.raw`curl -X POST "https://api.fluenzr.co/v1/campaigns" \
  -H "Authorization: Bearer flz_sk_xxx" \
  -H "Content-Type: application/json" \
  -d '{
    "name": "Q1 2025 Prospecting",
    "emailAccountId": "acc_xyz789",
    "settings": {
      "sendDays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
      "sendHoursStart": 9,
      "sendHoursEnd": 18,
      "timezone": "Europe/Paris"
    },
    "workflow": {
      "nodes": [...],
      "edges": [...]
    }
  }'`;

const SEED_UPDATE = String.raw`curl -X PUT "https://api.fluenzr.co/v1/campaigns/cmp_abc123" \
  -H "Authorization: Bearer flz_sk_xxx" \
  -H "Content-Type: application/json" \
  -d '{
    "name": "Q1 2025 Prospecting - v2",
    "settings": {
      "maxEmailsPerHour": 50
    }
  }'`;

const SEED_START = String.raw`curl -X POST "https://api.fluenzr.co/v1/campaigns/cmp_abc123/start" \
  -H "Authorization: Bearer flz_sk_xxx"`;

const SEED_ADD_CONTACTS = String.raw`curl -X POST "https://api.fluenzr.co/v1/campaigns/cmp_abc123/contacts" \
  -H "Authorization: Bearer flz_sk_xxx" \
  -H "Content-Type: application/json" \
  -d '{
    "groupIds": ["grp_xyz789"]
  }'`;

/** "Add contacts" request body: three alternatives in one block (`// OR`), each run on its own below. */
const SEED_ADD_CONTACTS_BODY = `{
  "contactIds": ["con_abc", "con_def"],
  // OR
  "groupIds": ["grp_xyz"],
  // OR
  "filters": {
    "status": "active",
    "customFields": {
      "sector": "Fintech"
    }
  }
}`;

/** "Remove contacts" request body. */
const SEED_REMOVE_CONTACTS_BODY = `{
  "contactIds": ["con_abc", "con_def"]
}`;

/** "Add contacts" response. */
const SEED_ADD_RESPONSE = `{
  "success": true,
  "data": {
    "added": 150,
    "skipped": 5,
    "errors": []
  }
}`;

// ---- the equivalent curl of the endpoints the seed documents without one -----------------------

const curlPost = (path: string) => `curl -X POST "https://api.fluenzr.co/v1/campaigns/cmp_abc123/${path}" \\
  -H "Authorization: Bearer flz_sk_xxx"`;
const WRITTEN_PAUSE = curlPost("pause");
const WRITTEN_RESUME = curlPost("resume");
const WRITTEN_ARCHIVE = curlPost("archive");

const withBody = (method: string, body: string) => `curl -X ${method} "https://api.fluenzr.co/v1/campaigns/cmp_abc123/contacts" \\
  -H "Authorization: Bearer flz_sk_xxx" \\
  -H "Content-Type: application/json" \\
  -d '${body}'`;

/** The `// OR` alternatives of the add-contacts body, one request each. */
function addContactsAlternatives(): Record<"contactIds" | "groupIds" | "filters", string> {
  const [contactIds, groupIds, filters] = SEED_ADD_CONTACTS_BODY.slice(1, -1)
    .split("// OR")
    .map((part) => `{${part.trim().replace(/,$/, "")}}`);
  return { contactIds: contactIds!, groupIds: groupIds!, filters: filters! };
}
const WRITTEN_ADD_BY_IDS = withBody("POST", addContactsAlternatives().contactIds);
const WRITTEN_ADD_BY_GROUP = withBody("POST", addContactsAlternatives().groupIds);
const WRITTEN_ADD_BY_FILTERS = withBody("POST", addContactsAlternatives().filters);
const WRITTEN_REMOVE = withBody("DELETE", SEED_REMOVE_CONTACTS_BODY);
const WRITTEN_LIST_CONTACTS = String.raw`curl -X GET "https://api.fluenzr.co/v1/campaigns/cmp_abc123/contacts?status=pending&page=1&perPage=20" \
  -H "Authorization: Bearer flz_sk_xxx"`;

// ---- shapes ------------------------------------------------------------------------------------

const campaignObject = JSON.parse(SEED_CAMPAIGN_OBJECT) as Record<string, unknown>;
// The seed's fields, and the list of sending accounts (#12: `emailAccountId` is its first).
const CAMPAIGN_FIELDS = [...Object.keys(campaignObject), "emailAccountIds"].sort();
// The seed's settings, whose timezone the window is read in (#14: `timezoneMode`, default "campaign"),
// and the bounce and complaint limits of the deliverability guard (#13).
const SETTINGS_FIELDS = [
  ...Object.keys(campaignObject.settings as object),
  "timezoneMode",
  "maxBounceRate",
  "maxComplaintRate",
  "stopOnCompanyReply",
].sort();
const SETTINGS_SAMPLE: Record<string, unknown> = {
  ...(campaignObject.settings as Record<string, unknown>),
  timezoneMode: "campaign",
  maxBounceRate: 5,
  stopOnCompanyReply: false,
  maxComplaintRate: 0.3,
};
const STATS_FIELDS = Object.keys(campaignObject.stats as object).sort();
const workflow = JSON.parse(SEED_WORKFLOW) as { nodes: unknown[]; edges: unknown[] };

/**
 * A campaign exactly as the seed's object lists it: those fields and no others (SPEC §2 adds
 * `workflow` on single-campaign answers and `completedAt`/`archivedAt` once set), each of the
 * seed's type, timestamps ISO 8601 UTC.
 */
function expectCampaign(campaign: Record<string, any>, options: { workflow: boolean; archived?: boolean }) {
  const extra = [...(options.workflow ? ["workflow"] : []), ...(options.archived ? ["archivedAt"] : [])];
  expect(Object.keys(campaign).sort()).toEqual([...CAMPAIGN_FIELDS, ...extra].sort());
  expect(campaign.id).toMatch(/^cmp_[0-9a-z]+$/);
  expect(campaign.emailAccountId).toMatch(/^acc_[0-9a-z]+$/);
  expect(typeof campaign.name).toBe("string");
  expect(campaign.description === null || typeof campaign.description === "string").toBe(true);
  expect(["draft", "active", "paused", "completed", "archived"]).toContain(campaign.status);
  expect(Object.keys(campaign.settings).sort()).toEqual(SETTINGS_FIELDS);
  for (const field of SETTINGS_FIELDS) {
    const sample = SETTINGS_SAMPLE[field];
    if (Array.isArray(sample)) expect(Array.isArray(campaign.settings[field]), field).toBe(true);
    else expect(typeof campaign.settings[field], field).toBe(typeof sample);
  }
  expect(Object.keys(campaign.stats).sort()).toEqual(STATS_FIELDS);
  for (const field of STATS_FIELDS) expect(Number.isInteger(campaign.stats[field]) && campaign.stats[field] >= 0, field).toBe(true);
  expect(campaign.createdAt).toMatch(ISO_UTC);
  expect(campaign.updatedAt).toMatch(ISO_UTC);
  if (campaign.startedAt !== null) expect(campaign.startedAt).toMatch(ISO_UTC);
  if (options.archived) expect(campaign.archivedAt).toMatch(ISO_UTC);
}

/** The success envelope: `{success: true, data}` plus `meta` on lists, nothing else. */
function expectEnvelope(result: Run, status: number, meta: boolean) {
  expect({ status: result.status, success: result.body?.success }, `${result.command}\n${JSON.stringify(result.body)}`).toEqual({
    status,
    success: true,
  });
  expect(Object.keys(result.body).sort()).toEqual(meta ? ["data", "meta", "success"] : ["data", "success"]);
  return result.body.data;
}

// ---- running curl ------------------------------------------------------------------------------

const exec = promisify(execFile);

interface Run {
  command: string;
  status: number;
  body: any;
}

interface Ids {
  url: string;
  key: string;
  campaign?: string;
  account: string;
  group: string;
  contacts: [string, string];
}

/** The example with the real host, key and ids. */
function substitute(command: string, ids: Ids): string {
  let out = command
    .replaceAll("https://api.fluenzr.co", ids.url)
    .replaceAll("flz_sk_xxx", ids.key)
    .replaceAll("acc_xyz789", ids.account)
    .replaceAll("grp_xyz789", ids.group)
    .replace(/\bgrp_xyz\b/g, ids.group)
    .replace(/\bcon_abc\b/g, ids.contacts[0])
    .replace(/\bcon_def\b/g, ids.contacts[1]);
  if (command.includes("cmp_abc123")) {
    if (!ids.campaign) throw new Error("the campaign does not exist yet");
    out = out.replaceAll("cmp_abc123", ids.campaign);
  }
  return out;
}

/**
 * Execute with the machine's curl (asynchronously: the server answers from this same process).
 * `-sS` keeps the output to the body, `-w` appends the status on a line of its own.
 */
async function curl(command: string, ids: Ids): Promise<Run> {
  const line = `${substitute(command, ids)} -sS -w '\\n%{http_code}'`;
  const { stdout } = await exec("sh", ["-c", line], { maxBuffer: 16 * 1024 * 1024 });
  const cut = stdout.lastIndexOf("\n");
  const status = Number(stdout.slice(cut + 1));
  const text = stdout.slice(0, cut);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // left as text: the envelope assertions then fail with the text in the message
  }
  return { command: line, status, body };
}

// ---- the run -----------------------------------------------------------------------------------

describe("the seed's examples, run with curl against the local server", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluenzr-seed-"));
  let database: TestDatabase | undefined;
  let system: LocalSystem;
  let ids: Ids;
  /** Through the API too, with fetch: the data the examples refer to. */
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(ids.url + path, {
      method,
      headers: { authorization: `Bearer ${ids.key}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as any;
    expect(res.status, `${method} ${path} ${JSON.stringify(json)}`).toBeLessThan(300);
    return json.data;
  };

  beforeAll(async () => {
    // On PostgreSQL, the local system gets a database of its own (a copy of the migrated template).
    if (onServer) database = await openTestDatabase({ max: 1 });
    // The engine's local SES on a free port, and its tick out of the way: no email goes out while the examples run.
    const config = readConfig({ LOCAL_SES_PORT: "0", LOCAL_TICK_SECONDS: "3600" });
    system = await startLocalSystem({ ...config, dataDir, port: 0, databaseUrl: database?.url });
    expect(system.bootstrap.key).toMatch(/^flz_sk_[A-Za-z0-9]{32}$/);
    ids = { url: system.url, key: system.bootstrap.key!, account: "", group: "", contacts: ["", ""] };

    ids.account = (await call("POST", "/v1/email-accounts", { email: "sales@acme.example", name: "Acme Sales" })).id;
    // `con_abc` and `con_def`: two active contacts outside the group.
    const abc = await call("POST", "/v1/contacts", { email: "ada@prospect.example", firstName: "Ada" });
    const def = await call("POST", "/v1/contacts", { email: "bob@prospect.example", firstName: "Bob" });
    ids.contacts = [abc.id, def.id];
    // `grp_xyz789`: three active members (one of them in Fintech) and two that cannot be emailed.
    ids.group = (await call("POST", "/v1/groups", { name: "LinkedIn leads" })).id;
    const member = (email: string, extra: Record<string, unknown> = {}) =>
      call("POST", "/v1/contacts", { email, firstName: "Lead", groupIds: [ids.group], ...extra });
    await member("lead1@prospect.example", { customFields: { sector: "Fintech" } });
    await member("lead2@prospect.example");
    await member("lead3@prospect.example");
    await member("gone@prospect.example", { status: "unsubscribed" });
    await member("bounced@prospect.example", { status: "bounced" });
    // Fintech outside the group: one active (the filter adds it), one unsubscribed (filtered out by status).
    await call("POST", "/v1/contacts", { email: "fin@prospect.example", customFields: { sector: "Fintech" } });
    await call("POST", "/v1/contacts", { email: "finout@prospect.example", customFields: { sector: "Fintech" }, status: "unsubscribed" });
    await call("POST", "/v1/contacts", { email: "retail@prospect.example", customFields: { sector: "Retail" } });
    // Another campaign, left in draft, that `?status=active` must not list.
    await call("POST", "/v1/campaigns", { name: "Stays a draft", emailAccountId: ids.account });
  });

  afterAll(async () => {
    await system?.stop();
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let created: Record<string, any>;

  it("POST /campaigns (the complete example, with the seed's workflow for `[...]`) answers 201 with a draft", async () => {
    const nodes = JSON.stringify(workflow.nodes, null, 2);
    const edges = JSON.stringify(workflow.edges, null, 2);
    expect(SEED_CREATE.match(/\[\.\.\.\]/g)).toHaveLength(2);
    const filled = SEED_CREATE.replace('"nodes": [...]', `"nodes": ${nodes}`).replace('"edges": [...]', `"edges": ${edges}`);
    // The seed's emails say "I'm": inside the example's single-quoted -d, each quote is written '\'' for the shell.
    const command = filled.replace(/-d '([\s\S]*)'$/, (_, body: string) => `-d '${body.replaceAll("'", "'\\''")}'`);
    const result = await curl(command, ids);
    created = expectEnvelope(result, 201, false);
    expectCampaign(created, { workflow: true });
    expect(created).toMatchObject({
      name: "Q1 2025 Prospecting",
      description: null,
      status: "draft",
      emailAccountId: ids.account,
      settings: {
        sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"],
        sendHoursStart: 9,
        sendHoursEnd: 18,
        timezone: "Europe/Paris",
        maxEmailsPerHour: 30,
      },
      stats: { totalContacts: 0, sent: 0, delivered: 0, opened: 0, clicked: 0, replied: 0, bounced: 0, unsubscribed: 0 },
      startedAt: null,
      workflow,
    });
    // Defaults filled in: tracking on, calendar days.
    expect(created.workflow.nodes[3].data).toMatchObject({ trackOpens: true, trackClicks: true });
    ids.campaign = created.id;
  });

  it("GET /campaigns/cmp_abc123 answers 200 with the campaign", async () => {
    const campaign = expectEnvelope(await curl(SEED_GET, ids), 200, false);
    expectCampaign(campaign, { workflow: true });
    expect(campaign).toEqual(created);
  });

  it("PUT /campaigns/cmp_abc123 (draft) renames and merges settings key by key", async () => {
    const campaign = expectEnvelope(await curl(SEED_UPDATE, ids), 200, false);
    expectCampaign(campaign, { workflow: true });
    expect(campaign).toEqual({
      ...created,
      name: "Q1 2025 Prospecting - v2",
      settings: { ...created.settings, maxEmailsPerHour: 50 },
      updatedAt: expect.stringMatching(ISO_UTC),
    });
    expect(Date.parse(campaign.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
  });

  it("POST /campaigns/cmp_abc123/contacts (the seed's example, by group) answers {added, skipped, errors}", async () => {
    const data = expectEnvelope(await curl(SEED_ADD_CONTACTS, ids), 200, false);
    expect(Object.keys(data).sort()).toEqual(Object.keys(JSON.parse(SEED_ADD_RESPONSE).data).sort());
    // Three active members enrolled; the unsubscribed and the bounced one skipped.
    expect(data).toEqual({ added: 3, skipped: 2, errors: [] });
  });

  it("POST .../contacts by contactIds and by filters (the body's other alternatives) count what they did", async () => {
    expect(expectEnvelope(await curl(WRITTEN_ADD_BY_IDS, ids), 200, false)).toEqual({ added: 2, skipped: 0, errors: [] });
    // Active Fintech contacts: one new, one already enrolled through the group.
    expect(expectEnvelope(await curl(WRITTEN_ADD_BY_FILTERS, ids), 200, false)).toEqual({ added: 1, skipped: 1, errors: [] });
    // The group again (`grp_xyz` in the body's example): everyone is already in, or not active.
    expect(expectEnvelope(await curl(WRITTEN_ADD_BY_GROUP, ids), 200, false)).toEqual({ added: 0, skipped: 5, errors: [] });
    const campaign = expectEnvelope(await curl(SEED_GET, ids), 200, false);
    expect(campaign.stats.totalContacts).toBe(6);
  });

  it("GET /campaigns/cmp_abc123/contacts lists the enrolled contacts with paging meta", async () => {
    const result = await curl(WRITTEN_LIST_CONTACTS, ids);
    const data = expectEnvelope(result, 200, true);
    expect(result.body.meta).toEqual({ page: 1, perPage: 20, total: 6, totalPages: 1 });
    expect(data).toHaveLength(6);
    expect(data.map((row: { contactId: string }) => row.contactId)).toEqual(expect.arrayContaining(ids.contacts));
    for (const row of data) expect(row).toMatchObject({ contactId: expect.stringMatching(/^con_/), status: "pending" });
  });

  it("DELETE /campaigns/cmp_abc123/contacts removes con_abc and con_def", async () => {
    expect(expectEnvelope(await curl(WRITTEN_REMOVE, ids), 200, false)).toEqual({ removed: 2 });
    const campaign = expectEnvelope(await curl(SEED_GET, ids), 200, false);
    expect(campaign.stats.totalContacts).toBe(4);
  });

  let started: Record<string, any>;

  it("POST /campaigns/cmp_abc123/start launches the draft", async () => {
    started = expectEnvelope(await curl(SEED_START, ids), 200, false);
    expectCampaign(started, { workflow: true });
    expect(started).toMatchObject({ status: "active", startedAt: expect.stringMatching(ISO_UTC), stats: { totalContacts: 4 } });
  });

  it("GET /campaigns?status=active lists the active campaign, with meta {page, perPage, total, totalPages}", async () => {
    const result = await curl(SEED_LIST, ids);
    const data = expectEnvelope(result, 200, true);
    expect(result.body.meta).toEqual({ page: 1, perPage: 20, total: 1, totalPages: 1 });
    expect(data).toHaveLength(1);
    expectCampaign(data[0], { workflow: false });
    const { workflow: _, ...withoutWorkflow } = started;
    expect(data[0]).toEqual(withoutWorkflow);
  });

  it("pause, resume, pause again, then archive: each answers 200 with the campaign in its new status", async () => {
    const steps: Array<[string, string]> = [
      [WRITTEN_PAUSE, "paused"],
      [WRITTEN_RESUME, "active"],
      [WRITTEN_PAUSE, "paused"],
      [WRITTEN_ARCHIVE, "archived"],
    ];
    for (const [command, status] of steps) {
      const campaign = expectEnvelope(await curl(command, ids), 200, false);
      expectCampaign(campaign, { workflow: true, archived: status === "archived" });
      expect(campaign).toMatchObject({ status, startedAt: started.startedAt });
    }
    const archived = expectEnvelope(await curl(SEED_GET, ids), 200, false);
    expect(archived.status).toBe("archived");
  });

  /** Guards the copies above: where the seed is at hand (this workspace's layout), they must still be its text. */
  const seedPath = resolve(process.env.SEED_PATH ?? join(import.meta.dirname, "../../../../../shared/seed/campaigns-api.md"));
  it.skipIf(!existsSync(seedPath))("the examples above are the seed's text, verbatim", () => {
    const seed = readFileSync(seedPath, "utf8");
    for (const text of [
      SEED_CAMPAIGN_OBJECT,
      SEED_WORKFLOW,
      SEED_LIST,
      SEED_GET,
      SEED_CREATE,
      SEED_UPDATE,
      SEED_START,
      SEED_ADD_CONTACTS,
      SEED_ADD_CONTACTS_BODY,
      SEED_REMOVE_CONTACTS_BODY,
      SEED_ADD_RESPONSE,
    ]) {
      expect(seed).toContain(text);
    }
  });
});
