import { randomUUID } from "node:crypto";
import * as Database from "@fluenzr/core/database";
import { createNeonDatabase } from "@fluenzr/core/database/neon";
import { SesQueue } from "@fluenzr/core/tracking";
import { createApp } from "@fluenzr/functions/api/app";
import * as Records from "@fluenzr/local/records";
import { snsSigner } from "@fluenzr/testing/sns";
import { startWsProxy } from "@fluenzr/testing/ws-proxy";
import ws from "ws";
import { type BenchResult, freshDatabase, median, round, timeIt } from "../lib";

/**
 * SES events as production takes them: from their SQS queue (tracking/ses-queue, the consumer of
 * infra/ses-events.ts) in batches of 50, the batch size deployed, 16 batches in flight; each
 * event deduplicated by its provider identity, recorded, and the counters updated. A fifth of the
 * events are redeliveries. Baseline: single-row INSERT commits through the same driver, pool and
 * concurrency (the machine's limit for one-commit operations), warmed like the events and
 * measured in rounds interleaved with theirs. Also reported: the same events one by one through
 * POST /webhooks/ses as SNS's HTTPS delivery sends them (signature verified, certificate cached),
 * verification alone, and the queue's batches through Neon's driver with 2 ms added each way.
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

  const sent = (g: number, prefix = "b", nodeId = "e1"): Records.SentEmail => ({
    messageId: `msg_${prefix}${g}`,
    sesMessageId: `ses-${prefix}${g}`,
    workspaceId: "ws_bench",
    campaignId: "cmp_bench",
    contactId: `con_b${g}`,
    nodeId,
    to: `c${g}@example.org`,
    subject: "Hi",
    sentAt: new Date(),
  });
  const types: Records.Simulated[] = ["delivery", "open", "open", "click", "open"];
  const base = Date.now() - 60_000;
  /** SES's records about `n` emails of a batch prefix: per email a delivery, opens and a click, in rounds of one type. */
  const recordsOf = (prefix: string, nodeId: string, n: number, kinds = types) =>
    Array.from({ length: n * kinds.length }, (_, i) =>
      Records.sesRecord(kinds[Math.floor(i / n)]!, sent((i % n) + 1, prefix, nodeId), new Date(base + i)),
    );
  /** As the queue holds them: 16-record slices of the records, a fifth of them again (redeliveries). */
  const queued = (records: unknown[]) => {
    const bodies = records.map((r) => JSON.stringify(r));
    for (let i = 0, n = bodies.length / 4; i < n; i++) bodies.push(bodies[(i * 7919) % bodies.length]!);
    return bodies;
  };
  const bodies = queued(recordsOf("b", "e1", emails));

  // Warm-up events for emails outside the measured ones (JIT, plans, caches), not counted.
  const warm = 1000;
  await sentMessages("w", "warm", warm);
  const warmBodies = queued(recordsOf("w", "warm", warm, ["delivery", "open", "click"]));

  const app = createApp();
  const workers = Number(process.env.WEBHOOK_WORKERS ?? 16);
  const batchSize = Number(process.env.SES_BATCH ?? 50);
  /** `work` run by `workers` loops at once, timed. */
  const inFlight = (work: () => Promise<void>) => timeIt(() => Promise.all(Array.from({ length: workers }, work)));
  await db.pool.query("CREATE TABLE bench_commit (id bigserial PRIMARY KEY, v text NOT NULL)");
  let committed = 0;
  /**
   * The machine's limit: single-row INSERT commits through the same driver, pool and concurrency,
   * as a named prepared statement (one round trip and one commit each).
   */
  const commits = async (n: number) => {
    let next = 0;
    const { ms } = await inFlight(async () => {
      while (next++ < n) {
        await Database.prepared("bench_commit_insert", "INSERT INTO bench_commit (v) VALUES ($1)", [String(committed++)]);
      }
    });
    return ms;
  };
  /** The queue's consumer: `workers` batches in flight, each of `batchSize` records. */
  const consume = async (records: string[], latencies?: number[]) => {
    let next = 0;
    let failures = 0;
    const { ms } = await inFlight(async () => {
      while (next < records.length) {
        const batch = records.slice(next, next + batchSize).map((body, i) => ({ messageId: String(next + i), body }));
        next += batchSize;
        const started = performance.now();
        failures += (await SesQueue.handle(batch)).batchItemFailures.length;
        latencies?.push(performance.now() - started);
      }
    });
    return { ms, failures };
  };
  /** SNS's HTTPS delivery: one signed notification per request, `workers` in flight. */
  const post = async (requests: string[]) => {
    let next = 0;
    let failures = 0;
    const { ms } = await inFlight(async () => {
      while (next < requests.length) {
        const body = requests[next++]!;
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
      }
    });
    return { ms, failures };
  };
  // Both warmed first; then rounds alternate a slice of events and as many commits (the order
  // flipping each round), so whatever the machine does meanwhile weighs on both alike.
  await commits(4000);
  if ((await consume(warmBodies)).failures) throw new Error("warm-up events failed");
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
      const result = await consume(slice);
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

  // SNS's HTTPS delivery of the same kinds of events, to other emails (one by one, signed).
  await sentMessages("h", "e3", emails);
  const signed = recordsOf("h", "e3", emails).map((record) => signer.notification(record, { messageId: randomUUID() }));
  const https = await post(signed);

  // As a Lambda near Neon sees it: Neon's driver over a WebSocket proxy adding 2 ms each way,
  // deliveries of emails not yet delivered (the full path: event, milestone, counters).
  await sentMessages("n", "e2", emails);
  const proxy = await startWsProxy({ latencyMs: 2 });
  const neon = createNeonDatabase(db.url, { wsProxy: proxy.address, webSocketConstructor: ws, max: 20 });
  Database.install(neon);
  const remoteBodies = recordsOf("n", "e2", emails, ["delivery"]).map((r) => JSON.stringify(r));
  const latencies: number[] = [];
  // The first batch on each connection prepares its statement there: warmed apart, not counted.
  await consume(remoteBodies.slice(0, workers * batchSize));
  const measuredRemote = remoteBodies.slice(workers * batchSize);
  const tripsBefore = neon.roundTrips();
  const remote = await consume(measuredRemote, latencies);
  const remoteTrips = (neon.roundTrips() - tripsBefore) / measuredRemote.length;
  await neon.close();
  await proxy.close();
  Database.install(db);

  // Baseline: verification only, a topic we do not accept so nothing past it runs.
  signer.install(["arn:aws:sns:us-east-1:123456789012:nothing"]);
  const { Sns } = await import("@fluenzr/core/tracking");
  const verifyOnly = async () => {
    let next = 0;
    const { ms } = await inFlight(async () => {
      while (next < signed.length) {
        const body = signed[next++]!;
        await Sns.verify(body, "Notification", {
          topicArns: new Set(["arn:aws:sns:us-east-1:123456789012:ses-events"]),
          fetchCertificate: async () => signer.certificate,
        });
      }
    });
    return (signed.length / ms) * 1000;
  };
  const baseline = await verifyOnly();
  await db.close();
  const exact = counts.events === 5 * emails && counts.delivered === emails && counts.opened === emails && measured.failures === 0;
  const ratio = measured.rate / commitRate;
  const httpsRate = (signed.length / https.ms) * 1000;
  return [
    {
      name: "webhooks.ses-events-per-second",
      value: round(measured.rate, 0),
      unit: "events/s",
      baseline: round(commitRate, 0),
      ratio: round(ratio, 3),
      target: `>= 0.4 of this machine's single-row commit rate, same driver and concurrency (${workers}), both warmed, rounds interleaved; events from the queue in batches of ${batchSize}`,
      pass: ratio >= 0.4 && exact,
      roundTripsPerEvent: round(roundTripsPerEvent, 3),
      events: counts.events,
      delivered: counts.delivered,
      opened: counts.opened,
      failures: measured.failures,
    },
    {
      name: "webhooks.ses-https-events-per-second",
      value: round(httpsRate, 0),
      unit: "events/s",
      ratio: round(httpsRate / commitRate, 3),
      target: `reported: SNS's HTTPS delivery, one signed notification per request, ${workers} in flight (one round trip each)`,
      pass: https.failures === 0,
      verifyOnlyPerSecond: round(baseline, 0),
      failures: https.failures,
    },
    {
      name: "webhooks.ses-events.neon-2ms",
      value: round((measuredRemote.length / remote.ms) * 1000, 0),
      unit: "events/s",
      target: `reported: Neon's driver with 2 ms added each way, ${workers} batches of ${batchSize} deliveries in flight (one round trip each batch)`,
      pass: remote.failures === 0 && remoteTrips <= 1.01 / batchSize,
      roundTripsPerEvent: round(remoteTrips, 3),
      p50BatchMs: round(median(latencies), 1),
      failures: remote.failures,
    },
  ];
}
