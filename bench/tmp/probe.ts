import * as Database from "@fluenzr/core/database";
import { applyMilestone } from "@fluenzr/core/message";
import { freshDatabase, timeIt } from "../lib";

const db = await freshDatabase("fluenzr_probe");
Database.install(db);
const emails = 4000;
await db.pool.query(`INSERT INTO workspace (id, name) VALUES ('ws_bench', 'Bench')`);
await db.pool.query(
  `INSERT INTO email_account (id, workspace_id, email, name, daily_limit, status) VALUES ('acc_bench', 'ws_bench', 'bench@example.com', 'Bench', 1000, 'verified')`,
);
await db.pool.query(
  `INSERT INTO campaign (id, workspace_id, name, status, email_account_id, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour) VALUES ('cmp_bench', 'ws_bench', 'Bench', 'active', 'acc_bench', '{monday}', 9, 18, 'UTC', 30)`,
);
await db.pool.query(
  `INSERT INTO contact (id, workspace_id, email) SELECT 'con_b' || g, 'ws_bench', 'c' || g || '@example.org' FROM generate_series(1, $1) g`,
  [emails],
);
await db.pool.query(
  `INSERT INTO campaign_contact (campaign_id, contact_id, workspace_id, status, current_node_id) SELECT 'cmp_bench', 'con_b' || g, 'ws_bench', 'in_progress', 'e2' FROM generate_series(1, $1) g`,
  [emails],
);
await db.pool.query(
  `INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject, status, ses_message_id, unsubscribe_token_hash, created_at, sent_at) SELECT 'msg_b' || g, 'ws_bench', 'cmp_bench', 'con_b' || g, 'e1', 'acc_bench', 'c' || g || '@example.org', 'Hi', 'sent', 'ses-b' || g, md5(g::text), now(), now() FROM generate_series(1, $1) g`,
  [emails],
);
await db.pool.query("CREATE TABLE probe (id bigserial primary key, v text)");
await db.pool.query("ANALYZE");
const workers = Number(process.env.W ?? 16);
async function par(n: number, fn: (i: number) => Promise<unknown>) {
  let next = 0;
  const { ms } = await timeIt(() =>
    Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < n) await fn(next++);
      }),
    ),
  );
  return Math.round((n / ms) * 1000);
}
const base = Date.now() - 60000;
let k = 0;
for (let r = 0; r < 3; r++) {
  const ins = await par(4000, (i) => db.pool.query("INSERT INTO probe (v) VALUES ($1)", [String(i)]));
  const off = r * 1000;
  const ms = ["delivered", "opened", "clicked"] as const;
  const m = ms[r]!;
  const app = await par(emails, (i) =>
    applyMilestone({
      messageId: `msg_b${i + 1}`,
      sesMessageId: `ses-b${i + 1}`,
      milestone: m,
      at: new Date(base + i + off),
      metadata: { ip: "1.2.3.4" },
      providerKey: `${m}:${i}:${k++}`,
    }),
  );
  console.log(`round ${r}: insert ${ins}/s, applyMilestone(${m}) ${app}/s, ratio ${(app / ins).toFixed(2)}`);
}
await db.close();
process.exit(0);
