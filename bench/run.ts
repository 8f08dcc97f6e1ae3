import { apiReads } from "./entries/api";
import { bundleSizes } from "./entries/bundles";
import { addContactsByGroup, listCampaigns } from "./entries/campaigns";
import { engineThroughput, tickMillion } from "./entries/engine";
import { outboundDeliveries, outboundIngestionCost } from "./entries/outbound-webhooks";
import { statsBench } from "./entries/stats";
import { webhookIngestion } from "./entries/webhooks";
import { writeRoundTrips } from "./entries/writes";
import { type BenchResult, print } from "./lib";

/**
 * `npm run bench` runs every entry; `npm run bench -- <name>` the entries whose name starts with
 * it. Each prints JSON lines with its value, the baseline measured in the same run, the ratio,
 * the target and whether it passed. Exits 0 either way: benchmarks inform, tests decide.
 * Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres), except
 * `bundles` (the Lambda bundles' size and import time).
 */
const ENTRIES: Record<string, () => Promise<BenchResult[]>> = {
  api: apiReads,
  bundles: bundleSizes,
  "campaigns.add-100k-by-group": addContactsByGroup,
  "campaigns.list-10k": listCampaigns,
  "engine.emails-per-second": engineThroughput,
  "engine.tick-1m-contacts": tickMillion,
  "webhooks.ses-events-per-second": webhookIngestion,
  "webhooks.outbound-deliveries-per-second": outboundDeliveries,
  "webhooks.outbound-ses-ingestion-cost": outboundIngestionCost,
  stats: statsBench,
  writes: writeRoundTrips,
};

process.env.LOG_LEVEL ??= "silent";
const filter = process.argv[2];
const selected = Object.entries(ENTRIES).filter(([name]) => !filter || name.startsWith(filter) || filter.startsWith(name));
if (!selected.length) {
  console.error(`No bench entry matches "${filter}". Entries: ${Object.keys(ENTRIES).join(", ")}`);
  process.exit(0);
}
for (const [name, run] of selected) {
  try {
    for (const result of await run()) print(result);
  } catch (error) {
    print({ name, value: Number.NaN, unit: "", target: "", pass: false, error: (error as Error).message });
  }
}
process.exit(0);
