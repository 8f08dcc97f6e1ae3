import http from "node:http";
import type { AddressInfo } from "node:net";
import * as Actor from "@fluenzr/core/actor";
import * as Database from "@fluenzr/core/database";
import { MemoryQueue } from "@fluenzr/core/queue/memory";
import { applySesEvent } from "@fluenzr/core/tracking";
import { Address, Deliverer, DeliveryQueue, Outbox, Subscriptions } from "@fluenzr/core/webhook";
import { PER_ENDPOINT_CONCURRENCY } from "@fluenzr/core/webhook/events";
import { memoryDeliveryQueue } from "@fluenzr/core/webhook/memory";
import * as Records from "@fluenzr/local/records";
import { type BenchResult, freshDatabase, round, timeIt } from "../lib";

/**
 * Outbound webhooks. (1) Deliveries per second to a local receiver (node:http, answering 200):
 * pending deliveries taken from the in-process queue by the deliverer (lease, sign, POST, record),
 * against bare HTTP POSTs of the same bodies to the same receiver with the same keep-alive
 * concurrency (the per-endpoint cap). Goal: ratio >= 0.5. (2) What a subscription adds to SES
 * ingestion: the same SES events applied with no subscription and with one wanting every event
 * (the outbox rows written in the event's statement; their delivery runs elsewhere). Goal: at
 * most 15% slower.
 */
async function withReceiver(run: (db: Awaited<ReturnType<typeof freshDatabase>>, url: string) => Promise<BenchResult>) {
  const db = await freshDatabase("fluenzr_bench_outbound");
  Database.install(db);
  Address.install("local");
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  try {
    await db.pool.query(`INSERT INTO workspace (id, name) VALUES ('ws_bench', 'Bench'), ('ws_quiet', 'Quiet')`);
    return [await run(db, url)];
  } finally {
    DeliveryQueue.install(undefined);
    await new Promise<void>((resolve) => {
      receiver.closeAllConnections();
      receiver.close(() => resolve());
    });
    await db.close();
  }
}

export const outboundDeliveries = () => withReceiver(deliveries);
export const outboundIngestionCost = () => withReceiver((db) => ingestionCost(db));

async function deliveries(db: Awaited<ReturnType<typeof freshDatabase>>, url: string): Promise<BenchResult> {
  const n = Number(process.env.OUTBOUND_DELIVERIES ?? 3000);
  const rounds = 3;
  const batchSize = Number(process.env.OUTBOUND_BATCH ?? 50);
  const workers = Number(process.env.OUTBOUND_WORKERS ?? 4);
  // The events, as the contact API writes them (in batches of 500); queued by hand below, round by round.
  DeliveryQueue.install({ send: async () => {} });
  await Actor.asWorkspace("ws_bench", () => Subscriptions.create({ url, events: ["contact.created"] }));
  for (let i = 0; i < n; i += 500) {
    await Actor.asWorkspace("ws_bench", () =>
      Database.transaction(() =>
        Outbox.emit(
          Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
            type: "contact.created" as const,
            key: `con_bench${i + k}`,
            at: new Date(),
            data: { contact: { id: `con_bench${i + k}`, email: `c${i + k}@example.org`, firstName: "Ada", customFields: { plan: "pro" } } },
          })),
        ),
      ),
    );
  }
  await db.pool.query("ANALYZE");
  const rows: Array<{ id: string; body: string }> = (
    await db.pool.query(`SELECT d.id, e.body FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id ORDER BY d.id`)
  ).rows;

  // Baseline: the same bodies POSTed bare to the same receiver, with as many in flight as the deliverer allows one endpoint.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      });
      req.on("error", reject);
      req.end(body);
    });
  const bare = async (bodies: string[]) => {
    let next = 0;
    return (
      await timeIt(() =>
        Promise.all(
          Array.from({ length: PER_ENDPOINT_CONCURRENCY }, async () => {
            while (next < bodies.length) await post(bodies[next++]!);
          }),
        ),
      )
    ).ms;
  };
  // Rounds alternate with the baseline, so the machine's drift falls on both.
  const queue = new MemoryQueue();
  DeliveryQueue.install(memoryDeliveryQueue(queue));
  let deliveredMs = 0;
  let bareMs = 0;
  const size = Math.ceil(rows.length / rounds);
  for (let r = 0; r < rounds; r++) {
    const slice = rows.slice(r * size, (r + 1) * size);
    bareMs += await bare(slice.map((row) => row.body));
    for (const row of slice) queue.enqueueRaw(DeliveryQueue.encode(row.id));
    deliveredMs += (await timeIt(() => queue.drain(Deliverer.handle, { concurrency: workers, batchSize }))).ms;
  }
  agent.destroy();
  const [counts] = (
    await db.pool.query(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded, count(*) FILTER (WHERE attempts <> 1)::int AS other FROM webhook_delivery`,
    )
  ).rows;
  const rate = (rows.length / deliveredMs) * 1000;
  const baseline = (rows.length / bareMs) * 1000;
  return {
    name: "webhooks.outbound-deliveries-per-second",
    value: round(rate, 0),
    unit: "deliveries/s",
    baseline: round(baseline, 0),
    ratio: round(rate / baseline, 3),
    target: ">= 0.5 of bare HTTP POSTs of the same payloads to the same receiver (same concurrency: the per-endpoint cap)",
    pass: rate / baseline >= 0.5 && counts.succeeded === n && counts.other === 0,
    deliveries: n,
    succeeded: counts.succeeded,
    batchSize,
    workers,
    perEndpointConcurrency: PER_ENDPOINT_CONCURRENCY,
  };
}

async function ingestionCost(db: Awaited<ReturnType<typeof freshDatabase>>): Promise<BenchResult> {
  DeliveryQueue.install({ send: async () => {} });
  const emails = Number(process.env.OUTBOUND_INGEST_EMAILS ?? 2000);
  const workspaces = ["ws_quiet", "ws_bench"];
  for (const ws of workspaces) {
    await db.pool.query(
      `INSERT INTO email_account (id, workspace_id, email, name, daily_limit, status) VALUES ('acc_${ws}', '${ws}', '${ws}@example.com', 'B', 1000, 'verified')`,
    );
    await db.pool.query(
      `INSERT INTO campaign (id, workspace_id, name, status, email_account_id, email_account_ids, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour)
       VALUES ('cmp_${ws}', '${ws}', 'Bench', 'active', 'acc_${ws}', '{acc_${ws}}', '{monday}', 9, 18, 'UTC', 30)`,
    );
    await db.pool.query(
      `INSERT INTO contact (id, workspace_id, email) SELECT 'con_${ws}_' || g, '${ws}', 'c' || g || '@${ws}.example' FROM generate_series(1, $1) g`,
      [emails],
    );
    await db.pool.query(
      `INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject, status, ses_message_id,
                            unsubscribe_token_hash, created_at, sent_at)
       SELECT 'msg_${ws}_' || g, '${ws}', 'cmp_${ws}', 'con_${ws}_' || g, 'e1', 'acc_${ws}', 'c' || g || '@${ws}.example', 'Hi', 'sent',
              'ses-${ws}-' || g, md5('${ws}' || g), now(), now()
       FROM generate_series(1, $1) g`,
      [emails],
    );
  }
  // ws_bench has a subscription wanting every event; ws_quiet none.
  await Actor.asWorkspace("ws_bench", () => Subscriptions.create({ url: "http://127.0.0.1:9/unused", events: ["*"] }));
  await db.pool.query("ANALYZE");
  const types: Records.Simulated[] = ["delivery", "open", "click", "open"];
  const recordsFor = (ws: string, round: number) =>
    Array.from({ length: emails }, (_, i) =>
      Records.sesRecord(
        types[round % types.length]!,
        {
          messageId: `msg_${ws}_${i + 1}`,
          sesMessageId: `ses-${ws}-${i + 1}`,
          workspaceId: ws,
          campaignId: `cmp_${ws}`,
          contactId: `con_${ws}_${i + 1}`,
          nodeId: "e1",
          to: `c${i + 1}@${ws}.example`,
          subject: "Hi",
          sentAt: new Date(),
        },
        new Date(Date.now() - 3600_000 + round * 60_000 + i),
      ),
    );
  const apply = async (records: unknown[]) => {
    let next = 0;
    const { ms } = await timeIt(() =>
      Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < records.length) await applySesEvent(records[next++]);
        }),
      ),
    );
    return (records.length / ms) * 1000;
  };
  // Alternate rounds so drift in the machine's load falls on both sides.
  const quiet: number[] = [];
  const subscribed: number[] = [];
  for (let r = 0; r < 4; r++) {
    quiet.push(await apply(recordsFor("ws_quiet", r)));
    subscribed.push(await apply(recordsFor("ws_bench", r)));
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const [written] = (await db.pool.query(`SELECT count(*)::int AS n FROM webhook_event WHERE type LIKE 'email.%'`)).rows;
  const without = sum(quiet) / quiet.length;
  const withSub = sum(subscribed) / subscribed.length;
  return {
    name: "webhooks.outbound-ses-ingestion-cost",
    value: round(withSub, 0),
    unit: "SES events/s with a subscription",
    baseline: round(without, 0),
    ratio: round(withSub / without, 3),
    target: "at most 15% slower than without subscriptions (ratio >= 0.85)",
    pass: withSub / without >= 0.85 && written.n === emails * 4,
    outboxEvents: written.n,
  };
}
