import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Scheduler from "@fluenzr/core/scheduler";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import * as Workspace from "@fluenzr/core/workspace";
import { createApp } from "@fluenzr/functions/api/app";
import { type BenchResult, freshDatabase, median, round, timeIt } from "../lib";

const WORKFLOW = {
  nodes: [
    { id: "s", type: "start" },
    { id: "e", type: "email", data: { subject: "Hi {{firstName}}", body: "Hello" } },
    { id: "end", type: "end" },
  ],
  edges: [
    { from: "s", to: "e" },
    { from: "e", to: "end" },
  ],
} as const;

async function workspaceWithAccount() {
  Scheduler.install(new MemoryScheduler());
  EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
  const ws = await Workspace.create("Bench");
  const account = await Actor.asWorkspace(ws.id, () => EmailAccount.create({ email: "bench@example.com", name: "Bench" }));
  return { ws, account };
}

/**
 * Adding 100,000 contacts of a group to a campaign: one request, one enrolment statement. The
 * baseline inserts the same 100,000 rows into a copy of campaign_contact without its indexes.
 */
export async function addContactsByGroup(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_enrol");
  Database.install(db);
  const { ws, account } = await workspaceWithAccount();
  keyFor.set(ws.id, (await Auth.createKey({ workspaceId: ws.id, name: "bench", rateLimit: 100_000_000 })).key);
  const n = 100_000;
  await db.pool.query(
    `INSERT INTO contact (id, workspace_id, email, first_name) SELECT 'con_bench' || g, $1, 'c' || g || '@example.org', 'F' || g FROM generate_series(1, $2) g`,
    [ws.id, n],
  );
  await db.pool.query(`INSERT INTO contact_group (id, workspace_id, name) VALUES ('grp_bench', $1, 'Everyone')`, [ws.id]);
  await db.pool.query(
    `INSERT INTO group_member (group_id, contact_id, workspace_id) SELECT 'grp_bench', 'con_bench' || g, $1 FROM generate_series(1, $2) g`,
    [ws.id, n],
  );
  await db.pool.query("ANALYZE");
  const enrol = async (label: string) => {
    const runs: number[] = [];
    let result = { added: -1, skipped: -1 };
    for (let i = 0; i < 3; i++) {
      const campaign = await Actor.asWorkspace(ws.id, () =>
        Campaign.create({ name: `${label} ${i}`, emailAccountId: account.id, workflow: WORKFLOW as never }),
      );
      const { ms, value } = await timeIt(async () =>
        createApp().request(`/v1/campaigns/${campaign.id}/contacts`, {
          method: "POST",
          headers: { authorization: `Bearer ${keyFor.get(ws.id)}`, "content-type": "application/json" },
          body: JSON.stringify({ groupIds: ["grp_bench"] }),
        }),
      );
      const body = (await value.json()) as { data?: { added: number; skipped: number } };
      result = body.data ?? result;
      runs.push(ms);
    }
    return { ms: median(runs), ...result };
  };
  const plain = await enrol("enrol");
  const added = plain.added;
  const runs = [plain.ms];
  // 10,000 of the addresses on the suppression list, their contacts with the status it gave them
  // (what adding the entries does): enrolment skips them.
  const suppressed = 10_000;
  await db.pool.query(
    `INSERT INTO suppression (id, workspace_id, email, email_hash, reason, created_at)
     SELECT 'sup_bench' || g, $1, 'c' || g || '@example.org', encode(sha256(convert_to('c' || g || '@example.org', 'UTF8')), 'hex'), 'complained', now()
     FROM generate_series(1, $2) g`,
    [ws.id, suppressed],
  );
  await db.pool.query(
    `UPDATE contact SET status = 'complained' WHERE workspace_id = $1 AND id IN (SELECT 'con_bench' || g FROM generate_series(1, $2) g)`,
    [ws.id, suppressed],
  );
  await db.pool.query("ANALYZE");
  const withSuppressed = await enrol("enrol suppressed");
  const baselines: number[] = [];
  await db.pool.query(`CREATE TABLE enrol_baseline (LIKE campaign_contact INCLUDING DEFAULTS)`);
  for (let i = 0; i < 3; i++) {
    await db.pool.query(`TRUNCATE enrol_baseline`);
    const { ms } = await timeIt(() =>
      db.pool.query(
        `INSERT INTO enrol_baseline (campaign_id, contact_id, workspace_id, status) SELECT 'cmp_x', contact_id, workspace_id, 'pending' FROM group_member WHERE group_id = 'grp_bench'`,
      ),
    );
    baselines.push(ms);
  }
  await db.close();
  const value = median(runs);
  const baseline = median(baselines);
  return [
    {
      name: "campaigns.add-100k-by-group",
      value: round(value, 0),
      unit: "ms",
      baseline: round(baseline, 0),
      ratio: round(value / baseline, 2),
      target: "one request adds 100,000 contacts in < 2000 ms",
      pass: value < 2000 && added === n,
      added,
    },
    {
      name: "campaigns.add-100k-10k-suppressed",
      value: round(withSuppressed.ms, 0),
      unit: "ms",
      baseline: round(baseline, 0),
      ratio: round(withSuppressed.ms / baseline, 2),
      target: "100,000 contacts of which 10,000 suppressed: 90,000 added, 10,000 skipped, in < 2000 ms",
      pass: withSuppressed.ms < 2000 && withSuppressed.added === n - suppressed && withSuppressed.skipped === suppressed,
      added: withSuppressed.added,
      skipped: withSuppressed.skipped,
    },
  ];
}

const keyFor = new Map<string, string>();

/** GET /v1/campaigns (first page and a deep page) with 10,000 campaigns in the workspace. */
export async function listCampaigns(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_list");
  Database.install(db);
  const { ws, account } = await workspaceWithAccount();
  const { key } = await Auth.createKey({ workspaceId: ws.id, name: "bench", rateLimit: 100_000_000 });
  await db.pool.query(
    `INSERT INTO campaign (id, workspace_id, name, email_account_id, email_account_ids, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour, workflow, created_at, updated_at)
     SELECT 'cmp_bench' || lpad(g::text, 6, '0'), $1, 'Campaign ' || g, $2, ARRAY[$2::text], '{monday}', 9, 18, 'UTC', 30, $3::jsonb,
            now() - g * interval '1 minute', now() - g * interval '1 minute'
     FROM generate_series(1, 10000) g`,
    [ws.id, account.id, JSON.stringify(WORKFLOW)],
  );
  await db.pool.query(
    `INSERT INTO campaign_stat (campaign_id, node_id, shard, sent, delivered, opened) SELECT id, 'e', s, 10, 9, 3 FROM campaign, generate_series(0, 3) s`,
  );
  await db.pool.query("ANALYZE");
  const app = createApp();
  const headers = { authorization: `Bearer ${key}` };
  const measure = async (path: string) => {
    for (let i = 0; i < 20; i++) await app.request(path, { headers });
    const times: number[] = [];
    for (let i = 0; i < 200; i++) times.push((await timeIt(async () => (await app.request(path, { headers })).text())).ms);
    return median(times);
  };
  const first = await measure("/v1/campaigns?perPage=20");
  const byName = await measure("/v1/campaigns?perPage=20&sort=name&order=asc");
  const deep = await measure("/v1/campaigns?perPage=20&page=400");
  const baselineTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    baselineTimes.push(
      (
        await timeIt(() =>
          db.pool.query(`SELECT * FROM campaign WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC LIMIT 20`, [ws.id]),
        )
      ).ms,
    );
  }
  await db.close();
  const baseline = median(baselineTimes);
  const result = (name: string, value: number): BenchResult => ({
    name,
    value: round(value, 2),
    unit: "ms",
    baseline: round(baseline, 2),
    ratio: round(value / baseline, 1),
    target: "< 20 ms per request (median) with 10,000 campaigns",
    pass: value < 20,
  });
  return [result("campaigns.list-10k", first), result("campaigns.list-10k.sort-name", byName), result("campaigns.list-10k.page-400", deep)];
}
