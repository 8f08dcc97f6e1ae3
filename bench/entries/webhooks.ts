import { randomUUID } from "node:crypto";
import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import { createApp } from "@fluenzr/functions/api/app";
import * as Records from "@fluenzr/local/records";
import { snsSigner } from "@fluenzr/testing/sns";
import { startWsProxy } from "@fluenzr/testing/ws-proxy";
import ws from "ws";
import { type BenchResult, freshDatabase, median, round, timeIt } from "../lib";

/**
 * SES events through POST /webhooks/ses, as SNS delivers them: each notification's signature is
 * verified (certificate cached), the event deduplicated by its provider identity, recorded, and
 * the counters updated, with 16 deliveries in flight. A fifth of the deliveries are redeliveries.
 * Baseline: single-row INSERT commits through the same driver, pool and concurrency (the
 * machine's limit for one-commit operations), warmed like the events and measured in rounds
 * interleaved with theirs. Also reported: verification alone (no database), and the events
 * through Neon's driver with 2 ms added each way.
 */
export async function webhookIngestion(): Promise<BenchResult[]> {
  const db = await freshDatabase("fluenzr_bench_webhooks");
  Database.install(db);
  /** `n` emails sent to contacts con_b1…: ids `msg_<prefix>1…`, SES ids `ses-<prefix>1…`, at workflow node `nodeId`. */
  const sentMessages = (prefix: string, nodeId: string, n: number) =>
    db.pool.query(
      `INSERT INTO message (id, workspace_id, campaign_id, contact_id, node_id, email_account_id, to_email, subject, status, ses_message_id,
                            unsubscribe_token_hash, created_at, sent_at)
       SELECT 'msg_' || $1 || g, 'ws_bench', 'cmp_bench', 'con_b' || g, $2, 'acc_bench', 'c' || g || '@example.org', 'Hi', 'sent',
              'ses-' || $1 || g, md5($1 || g), now(), now()
       FROM generate_series(1, $3) g`,
      [prefix, nodeId, n],
    );
  const signer = snsSigner();
  signer.install();
  const emails = 2000;
  await db.pool.query(`INSERT INTO workspace (id, name) VALUES ('ws_bench', 'Bench')`);
  await db.pool.query(
    `INSERT INTO email_account (id, workspace_id, email, name, daily_limit, status) VALUES ('acc_bench', 'ws_bench', 'bench@example.com', 'Bench', 1000, 'verified')`,
  );
  await db.pool.query(
    `INSERT INTO campaign (id, workspace_id, name, status, email_account_id, email_account_ids, send_days, send_hours_start, send_hours_end, timezone, max_emails_per_hour)
     VALUES ('cmp_bench', 'ws_bench', 'Bench', 'active', 'acc_bench', '{acc_bench}', '{monday}', 9, 18, 'UTC', 30)`,
  );
  await db.pool.query(
    `INSERT INTO contact (id, workspace_id, email) SELECT 'con_b' || g, 'ws_bench', 'c' || g || '@example.org' FROM generate_series(1, $1) g`,
    [emails],
  );
  await db.pool.query(
    `INSERT INTO campaign_contact (campaign_id, contact_id, workspace_id, status, current_node_id)
     SELECT 'cmp_bench', 'con_b' || g, 'ws_bench', 'in_progress', 'e2' FROM generate_series(1, $1) g`,
    [emails],
  );
  await sentMessages("b", "e1", emails);
  await db.pool.query("ANALYZE");

  const sent = (g: number): Records.SentEmail => ({
    messageId: `msg_b${g}`,
    sesMessageId: `ses-b${g}`,
    workspaceId: "ws_bench",
    campaignId: "cmp_bench",
    contactId: `con_b${g}`,
    nodeId: "e1",
    to: `c${g}@example.org`,
    subject: "Hi",
    sentAt: new Date(),
  });
  const types: Records.Simulated[] = ["delivery", "open", "open", "click", "open"];
  const bodies: string[] = [];
  const base = Date.now() - 60_000;
  for (let i = 0; i < 8000; i++) {
    const g = (i % emails) + 1;
    const type = types[Math.floor(i / emails) % types.length]!;
    bodies.push(signer.notification(Records.sesRecord(type, sent(g), new Date(base + i)), { messageId: randomUUID() }));
  }
  // A fifth are redeliveries of notifications already sent.
  for (let i = 0; i < 2000; i++) bodies.push(bodies[(i * 7919) % bodies.length]!);

  // Warm-up events for emails outside the measured ones (JIT, plans, caches), not counted.
  const warm = 1000;
  await sentMessages("w", "warm", warm);
  const warmBodies = Array.from({ length: warm }, (_, i) =>
    signer.notification(
      Records.sesRecord(
        i % 2 ? "open" : "delivery",
        { ...sent(i + 1), messageId: `msg_w${i + 1}`, sesMessageId: `ses-w${i + 1}`, nodeId: "warm" },
        new Date(base + i),
      ),
      { messageId: randomUUID() },
    ),
  );

  const app = createApp();
  const workers = Number(process.env.WEBHOOK_WORKERS ?? 16);
  await db.pool.query("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, v text NOT NULL)");
  let committed = 0;
  /**
   * The machine's limit: single-row INSERT commits through the same driver, pool and concurrency,
   * as a named prepared statement like the events' (one round trip and one commit each).
   */
  const commits = async (n: number) => {
    let next = 0;
    const { ms } = await timeIt(() =>
      Promise.all(
        Array.from({ length: workers }, async () => {
          while (next++ < n) {
            await Database.prepared("bench_commit_insert", "INSERT INTO bench_commit (v) VALUES ($1)", [String(committed++)]);
          }
        }),
      ),
    );
    return ms;
  };
  const run = async (requests: string[], latencies?: number[]) => {
    let next = 0;
    let failures = 0;
    const { ms } = await timeIt(() =>
      Promise.all(
        Array.from({ length: workers }, async () => {
          while (next < requests.length) {
            const body = requests[next++]!;
            const started = performance.now();
            const res = await app.request("/webhooks/ses", {
              method: "POST",
              // As SNS sends them: text/plain with a Content-Length.
              headers: {
                "content-type": "text/plain",
                "content-length": String(Buffer.byteLength(body)),
                "x-amz-sns-message-type": "Notification",
              },
              body,
            });
            if (res.status !== 200) failures++;
            await res.arrayBuffer();
            latencies?.push(performance.now() - started);
          }
        }),
      ),
    );
    return { ms, failures };
  };
  // Both warmed first; then rounds alternate a slice of events and as many commits (the order
  // flipping each round), so whatever the machine does meanwhile weighs on both alike.
  await commits(4000);
  if ((await run(warmBodies)).failures) throw new Error("warm-up events failed");
  const slices = 5;
  const size = Math.ceil(bodies.length / slices);
  let eventMs = 0;
  let commitMs = 0;
  let commitCount = 0;
  let failures = 0;
  let eventTrips = 0;
  for (let i = 0; i < slices; i++) {
    const slice = bodies.slice(i * size, (i + 1) * size);
    const events = async () => {
      const before = Database.roundTrips();
      const result = await run(slice);
      eventTrips += Database.roundTrips() - before;
      eventMs += result.ms;
      failures += result.failures;
    };
    const inserts = async () => {
      commitMs += await commits(slice.length);
      commitCount += slice.length;
    };
    if (i % 2) {
      await inserts();
      await events();
    } else {
      await events();
      await inserts();
    }
  }
  const measured = { rate: (bodies.length / eventMs) * 1000, failures };
  const commitRate = (commitCount / commitMs) * 1000;
  const roundTripsPerEvent = eventTrips / bodies.length;

  const [counts] = (
    await db.pool.query(
      `SELECT (SELECT count(*)::int FROM event WHERE node_id = 'e1') AS events,
              (SELECT sum(delivered)::int FROM campaign_stat WHERE node_id = 'e1') AS delivered,
              (SELECT sum(opened)::int FROM campaign_stat WHERE node_id = 'e1') AS opened`,
    )
  ).rows;

  // As a Lambda near Neon sees it: Neon's driver over a WebSocket proxy adding 2 ms each way,
  // deliveries of emails not yet delivered (the full path: event, milestone, counters).
  await sentMessages("n", "e2", emails);
  const proxy = await startWsProxy({ latencyMs: 2 });
  const neon = createNeonDatabase(db.url, { wsProxy: proxy.address, webSocketConstructor: ws, max: 20 });
  Database.install(neon);
  const remoteBodies = Array.from({ length: emails }, (_, i) =>
    signer.notification(
      Records.sesRecord(
        "delivery",
        { ...sent(i + 1), messageId: `msg_n${i + 1}`, sesMessageId: `ses-n${i + 1}`, nodeId: "e2" },
        new Date(base + i),
      ),
      { messageId: randomUUID() },
    ),
  );
  const latencies: number[] = [];
  const remote = await run(remoteBodies, latencies);
  const remoteTrips = neon.roundTrips() / remoteBodies.length;
  await neon.close();
  await proxy.close();
  Database.install(db);

  // Baseline: verification only, a topic we do not accept so nothing past it runs.
  signer.install(["arn:aws:sns:us-east-1:123456789012:nothing"]);
  const { Sns } = await import("@fluenzr/core/tracking");
  const verifyOnly = async () => {
    let next = 0;
    const { ms } = await timeIt(() =>
      Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            await Sns.verify(body, "Notification", {
              topicArns: new Set(["arn:aws:sns:us-east-1:123456789012:ses-events"]),
              fetchCertificate: async () => signer.certificate,
            });
          }
        }),
      ),
    );
    return (bodies.length / ms) * 1000;
  };
  const baseline = await verifyOnly();
  await db.close();
  const exact = counts.events === 8000 && counts.delivered === emails && counts.opened === emails && measured.failures === 0;
  const ratio = measured.rate / commitRate;
  return [
    {
      name: "webhooks.ses-events-per-second",
      value: round(measured.rate, 0),
      unit: "events/s",
      baseline: round(commitRate, 0),
      ratio: round(ratio, 3),
      target: `>= 0.4 of this machine's single-row commit rate, same driver and concurrency (${workers}), both warmed, rounds interleaved`,
      pass: ratio >= 0.4 && exact,
      roundTripsPerEvent: round(roundTripsPerEvent, 3),
      verifyOnlyPerSecond: round(baseline, 0),
      events: counts.events,
      delivered: counts.delivered,
      opened: counts.opened,
      failures: measured.failures,
    },
    {
      name: "webhooks.ses-events.neon-2ms",
      value: round((remoteBodies.length / remote.ms) * 1000, 0),
      unit: "events/s",
      target: `reported: Neon's driver with 2 ms added each way, ${workers} deliveries in flight (one round trip each)`,
      pass: remote.failures === 0 && remoteTrips <= 1.01,
      roundTripsPerEvent: round(remoteTrips, 3),
      p50Ms: round(median(latencies), 1),
      failures: remote.failures,
    },
  ];
}
