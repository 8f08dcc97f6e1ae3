import { parseArgs } from "node:util";
import { clientsFor, preflight, report, settingsFromEnv } from "../deploy/preflight";

/** `npm run deploy:check -- --stage production [--database-url <pooled url>]` (docs/operations.md). */
const { values } = parseArgs({ options: { stage: { type: "string" }, "database-url": { type: "string" } } });
if (!values.stage) {
  console.error("usage: npm run deploy:check -- --stage <stage> [--database-url '<pooled Neon URL>']");
  process.exit(2);
}
const settings = settingsFromEnv(values.stage, process.env, values["database-url"]);
console.log(`\n  Preflight for stage ${settings.stage} in ${settings.region}\n`);
const findings = await preflight(settings, clientsFor(settings.region));
console.log(report(findings));
process.exit(findings.some((f) => f.level === "fail") ? 1 : 0);
