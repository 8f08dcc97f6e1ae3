import { keyFile, savedKey } from "./bootstrap";
import { readConfig } from "./database";
import { startLocalSystem } from "./system";

/** `npm start`: the whole system locally, on embedded defaults. Ctrl-C stops it cleanly. */
const config = readConfig();
const started = performance.now();
const system = await startLocalSystem(config).catch((error: Error) => {
  console.error(`Could not start: ${error.message}`);
  process.exit(1);
});

const lines = [
  "",
  `  FluenzR is running (ready in ${Math.round(performance.now() - started)} ms)`,
  "",
  `  API          ${system.url}/v1`,
  `  Reference    ${system.url}/docs`,
  `  Sent emails  ${system.sesUrl}   (local SES: every email the engine sends)`,
  `  Database     ${system.database}`,
];
if (system.bootstrap.key) {
  lines.push("", `  API key      ${system.bootstrap.key}`, `               (shown once; also saved in ${keyFile(config)})`);
} else if (config.bootstrapKey) {
  lines.push("", "  API key      BOOTSTRAP_API_KEY");
} else if (savedKey(config)) {
  lines.push("", `  API key      in ${keyFile(config)}`);
} else {
  lines.push("", "  API key      create one with: npm run keys -- create");
}
lines.push(
  "",
  `  Try it       curl ${system.url}/v1/contacts -H "Authorization: Bearer $(cat ${keyFile(config)} 2>/dev/null || echo '<key>')"`,
  "",
);
console.log(lines.join("\n"));

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n  ${signal}: stopping...`);
  await system.stop();
  console.log("  stopped cleanly");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
