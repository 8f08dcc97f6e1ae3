import * as Activity from "@fluenzr/core/activity";
import * as Actor from "@fluenzr/core/actor";
import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Scheduler from "@fluenzr/core/scheduler";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import * as Stats from "@fluenzr/core/stats";
import * as Workspace from "@fluenzr/core/workspace";
import { createApp } from "@fluenzr/functions/api/app";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { DateTime } from "luxon";
import { type BenchResult, freshDatabase, median, planOf, round, timeIt } from "../lib";

const EVENTS = 5_000_000;
const CONTACTS = 100_000;
const DAYS = 120;
const ZONE = "Europe/Paris";
const OTHER_CAMPAIGNS = 100;

const WORKFLOW = {
  nodes: [
    { id: "s", type: "start" },
    { id: "e1", type: "email", data: { subject: "{{firstName}}, quick question", body: "Hello" } },
    { id: "d1", type: "delay", data: { days: 3 } },
    { id: "e2", type: "email", data: { subject: "Following up", body: "Again" } },
    { id: "d2", type: "delay", data: { days: 3 } },
    { id: "e3", type: "email", data: { subject: "Last one", body: "Bye" } },
    { id: "end", type: "end" },
  ],
  edges: [
    { from: "s", to: "e1" },
    { from: "e1", to: "d1" },
    { from: "d1", to: "e2" },
    { from: "e2", to: "d2" },
    { from: "d2", to: "e3" },
    { from: "e3", to: "end" },
  ],
} as const;

const log = (message: string) => process.stderr.write(`[stats] ${message}\n`);

/**
 * Statistics on a campaign with 5,000,000 events over 120 days (100,000 contacts, three emails,
 * every open and click a row), its counters and 15-minute buckets filled from those same events.
 * Each endpoint is timed through the app (auth and rate limit included), median of 200 requests,
 * next to a primary-key select on the same pool; its main statement's plan is printed.
 */
export async function statsBench(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_stats");
  Database.install(db);
  Scheduler.install(new MemoryScheduler());
  EmailAccount.Identity.install(EmailAccount.Identity.alwaysVerified);
  const ws = await Workspace.create("Bench");
  const account = await Actor.asWorkspace(ws.id, () => EmailAccount.create({ email: "bench@example.com", name: "Bench" }));
  const campaign = await Actor.asWorkspace(ws.id, () =>
    Campaign.create({ name: "5M events", emailAccountId: account.id, workflow: WORKFLOW as never, settings: { timezone: ZONE } }),
  );
  const { key } = await Auth.createKey({ workspaceId: ws.id, name: "bench", rateLimit: 100_000_000 });
  const end = new Date(Math.floor(Date.now() / 900_000) * 900_000);
  const start = new Date(end.getTime() - DAYS * 86_400_000);
  await seed(db.pool, { workspaceId: ws.id, campaignId: campaign.id, accountId: account.id, start, end });

  const app = createApp();
  const headers = { authorization: `Bearer ${key}` };
  const measure = async (path: string) => {
    let status = 0;
    for (let i = 0; i < 20; i++) status = (await app.request(path, { headers })).status;
    const times: number[] = [];
    for (let i = 0; i < 200; i++) times.push((await timeIt(async () => (await app.request(path, { headers })).text())).ms);
    return { ms: median(times), status };
  };
  const dialect = new PgDialect();
  const plan = (query: SQL) => {
    const { sql, params } = dialect.sqlToQuery(query);
    return planOf(db.pool, sql, params);
  };

  const base = `/v1/campaigns/${campaign.id}`;
  const to = DateTime.fromJSDate(end, { zone: ZONE }).toISODate()!;
  const from = DateTime.fromJSDate(end, { zone: ZONE }).minus({ days: 89 }).toISODate()!;
  const timelinePath = `${base}/stats/timeline?from=${from}&to=${to}&interval=day`;
  // The buckets the endpoint computes for these parameters (dates: whole local days).
  const range = Stats.Timeline.buckets(
    DateTime.fromISO(from, { zone: ZONE }).toJSDate(),
    DateTime.fromISO(to, { zone: ZONE }).plus({ days: 1 }).toJSDate(),
    "day",
    ZONE,
  )!;

  // The cursor a client holds after 999 pages of 20: the 19,980th event, newest first.
  const perPage = 20;
  const depth = 999 * perPage;
  const { rows: edge } = await db.pool.query(
    `SELECT id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM event
     WHERE campaign_id = $1 ORDER BY occurred_at DESC, id DESC OFFSET $2 LIMIT 1`,
    [campaign.id, depth - 1],
  );
  const after = { at: edge[0].at as string, id: edge[0].id as string };
  const cursor = Activity.Feed.encodeCursor({ offset: depth, ...after });

  const results: Array<{ name: string; target: number; path: string; query: SQL; check?: (body: any) => boolean }> = [
    { name: "stats.global", target: 10, path: `${base}/stats`, query: Stats.Read.globalQuery(ws.id, campaign.id) },
    { name: "stats.per-email", target: 10, path: `${base}/stats/emails`, query: Stats.Read.byEmailQuery(ws.id, campaign.id) },
    { name: "stats.timeline-90-days", target: 50, path: timelinePath, query: Stats.Timeline.bucketQuery(campaign.id, range) },
    {
      name: "stats.activity-page-1000-cursor",
      target: 20,
      path: `${base}/activity?perPage=${perPage}&cursor=${cursor}`,
      query: Activity.Feed.pageQueryOf(ws.id, campaign.id, {}, { limit: perPage + 1, offset: 0, after }),
    },
    {
      name: "stats.activity-page-1000-cursor-type-opened",
      target: 20,
      path: `${base}/activity?perPage=${perPage}&type=opened&cursor=${cursor}`,
      query: Activity.Feed.pageQueryOf(ws.id, campaign.id, { type: "opened" }, { limit: perPage + 1, offset: 0, after }),
    },
    {
      name: "stats.activity-page-1",
      target: 20,
      path: `${base}/activity?perPage=${perPage}`,
      query: Activity.Feed.pageQueryOf(ws.id, campaign.id, {}, { limit: perPage + 1, offset: 0 }),
    },
  ];
  const measured: Array<{ name: string; target: number; ms: number; status: number; plan: Awaited<ReturnType<typeof plan>> }> = [];
  for (const r of results) {
    const { ms, status } = await measure(r.path);
    measured.push({ name: r.name, target: r.target, ms, status, plan: await plan(r.query) });
  }
  // For comparison only: page 1,000 by OFFSET (no target: deep pages are what the cursor is for).
  const offsetPage = await measure(`${base}/activity?perPage=${perPage}&page=1000`);

  const baselineTimes: number[] = [];
  for (let i = 0; i < 200; i++)
    baselineTimes.push((await timeIt(() => db.pool.query(`SELECT * FROM campaign WHERE id = $1`, [campaign.id]))).ms);
  const baseline = median(baselineTimes);
  await db.close();

  const out: BenchResult[] = measured.map((m) => ({
    name: m.name,
    value: round(m.ms, 2),
    unit: "ms",
    baseline: round(baseline, 2),
    ratio: round(m.ms / baseline, 1),
    target: `< ${m.target} ms (median of 200 requests, auth included) on a campaign with 5,000,000 events; no sequential scan of event or campaign_stat_bucket`,
    pass: m.status === 200 && m.ms < m.target && !m.plan.nodes.some((n) => /^Seq Scan on (event|campaign_stat_bucket)$/.test(n)),
    plan: m.plan.top,
    planNodes: m.plan.nodes,
    status: m.status,
  }));
  out.push({
    name: "stats.activity-page-1000-offset",
    value: round(offsetPage.ms, 2),
    unit: "ms",
    baseline: round(baseline, 2),
    ratio: round(offsetPage.ms / baseline, 1),
    target: "informational: page 1,000 by OFFSET (index only); use the cursor for deep pages",
    pass: offsetPage.status === 200,
  });
  return out;
}

type Pool = { query: (text: string, values?: unknown[]) => Promise<{ rows: any[] }> };

/** Contacts, their messages, 5,000,000 events (indexes built after the load), and the counters they make. */
async function seed(pool: Pool, ctx: { workspaceId: string; campaignId: string; accountId: string; start: Date; end: Date }) {
  const started = performance.now();
  await pool.query(`UPDATE campaign SET status = 'active', started_at = $2, total_contacts = $3 WHERE id = $1`, [
    ctx.campaignId,
    ctx.start,
    CONTACTS,
  ]);
  await pool.query(
    `INSERT INTO contact (id, workspace_id, email, first_name) SELECT 'con_b' || lpad(g::text, 7, '0'), $1, 'c' || g || '@example.org', 'F' || g
     FROM generate_series(1, $2) g`,
    [ctx.workspaceId, CONTACTS],
  );
  await pool.query(
    `INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject, status, unsubscribe_token_hash, created_at)
     SELECT 'msg_b' || n || lpad(g::text, 7, '0'), $1, $2, 'con_b' || lpad(g::text, 7, '0'), 'e' || n, $3, 'c' || g || '@example.org', 'Hi', 'sent',
            'h' || n || '-' || g, $4
     FROM generate_series(1, $5) g, generate_series(1, 3) n`,
    [ctx.workspaceId, ctx.campaignId, ctx.accountId, ctx.start, CONTACTS],
  );
  log(`contacts and messages in ${round((performance.now() - started) / 1000, 1)} s`);

  // Secondary indexes are dropped for the load and built again after (what a bulk import does).
  const { rows: indexes } = await pool.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'event' AND indexname <> 'event_pkey'`,
  );
  for (const index of indexes) await pool.query(`DROP INDEX ${index.indexname}`);
  const span = ctx.end.getTime() - ctx.start.getTime();
  // Event g happens at start + g/EVENTS of the span (ms precision); its email is (contact, node).
  await pool.query(
    `INSERT INTO event (id, workspace_id, campaign_id, contact_id, message_id, node_id, type, occurred_at, metadata)
     SELECT 'evt_b' || lpad(g::text, 8, '0'), $1, $2, 'con_b' || lpad((g % $3 + 1)::text, 7, '0'),
            'msg_b' || (g % 3 + 1) || lpad((g % $3 + 1)::text, 7, '0'), 'e' || (g % 3 + 1),
            t.type, $4::timestamptz + ((g::float8 / $5 * $6)::bigint) * interval '1 millisecond',
            CASE WHEN t.type IN ('opened', 'clicked') THEN '{"ip": "192.168.1.1", "userAgent": "Mozilla/5.0"}'::jsonb ELSE '{}'::jsonb END
     FROM generate_series(1, $5) g,
          LATERAL (SELECT CASE WHEN g % 100 < 20 THEN 'sent' WHEN g % 100 < 39 THEN 'delivered' WHEN g % 100 < 74 THEN 'opened'
                               WHEN g % 100 < 88 THEN 'clicked' WHEN g % 100 < 92 THEN 'replied' WHEN g % 100 < 94 THEN 'bounced'
                               WHEN g % 100 < 95 THEN 'unsubscribed' WHEN g % 100 < 96 THEN 'complained' ELSE 'opened' END AS type) t`,
    [ctx.workspaceId, ctx.campaignId, CONTACTS, ctx.start, EVENTS, span],
  );
  // Neighbours: 100 other campaigns of the workspace with 10,000 events each, so the tables are not this campaign's alone.
  await pool.query(
    `INSERT INTO campaign (id, workspace_id, name, email_account_id, email_account_ids, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour, status)
     SELECT 'cmp_other' || lpad(c::text, 3, '0'), $1, 'Other ' || c, $2, ARRAY[$2::text], '{monday}', 9, 18, 'UTC', 30, 'active' FROM generate_series(1, $3) c`,
    [ctx.workspaceId, ctx.accountId, OTHER_CAMPAIGNS],
  );
  await pool.query(
    `INSERT INTO event (id, workspace_id, campaign_id, contact_id, node_id, type, occurred_at)
     SELECT 'evt_o' || lpad(g::text, 8, '0'), $1, 'cmp_other' || lpad((g % $2 + 1)::text, 3, '0'), 'con_b' || lpad((g % $3 + 1)::text, 7, '0'), 'e1',
            (ARRAY['sent', 'delivered', 'opened', 'clicked'])[g % 4 + 1], $4::timestamptz + ((g::float8 / $5 * $6)::bigint) * interval '1 millisecond'
     FROM generate_series(1, $5) g`,
    [ctx.workspaceId, OTHER_CAMPAIGNS, CONTACTS, ctx.start, OTHER_CAMPAIGNS * 10_000, span],
  );
  log(`${EVENTS} + ${OTHER_CAMPAIGNS * 10_000} events in ${round((performance.now() - started) / 1000, 1)} s`);
  for (const index of indexes) await pool.query(index.indexdef);
  log(`event indexes in ${round((performance.now() - started) / 1000, 1)} s`);

  // The counters, from the same events: per node and shard, and per 15-minute bucket and shard.
  const sums = Stats.COUNTERS.map((c) => `count(*) FILTER (WHERE type = '${c}')::int`).join(", ");
  const columns = Stats.COUNTERS.join(", ");
  await pool.query(
    `INSERT INTO campaign_stat (campaign_id, node_id, shard, ${columns})
     SELECT campaign_id, node_id, (hashtext(id) & 3)::smallint, ${sums} FROM event GROUP BY 1, 2, 3`,
  );
  await pool.query(
    `INSERT INTO campaign_stat_bucket (campaign_id, bucket, shard, ${columns})
     SELECT campaign_id, to_timestamp(floor(extract(epoch FROM occurred_at) / 900) * 900), (hashtext(id) & 3)::smallint, ${sums}
     FROM event GROUP BY 1, 2, 3`,
  );
  await pool.query("VACUUM ANALYZE");
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM event)::int AS events, (SELECT count(*) FROM campaign_stat_bucket)::int AS buckets,
            (SELECT sum(sent + delivered + opened + clicked + replied + bounced + unsubscribed + complained + failed) FROM campaign_stat)::bigint AS counted`,
  );
  log(`counters and VACUUM ANALYZE in ${round((performance.now() - started) / 1000, 1)} s: ${JSON.stringify(rows[0])}`);
}
