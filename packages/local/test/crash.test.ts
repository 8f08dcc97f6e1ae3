import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ALWAYS_OPEN, FULL, onServer, openTestDatabase, prng, type TestDatabase } from "@fluenzr/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `npm start` as a process, killed with SIGKILL (its whole group) at random moments of a sending
 * burst and started again, as an operator's machine or a deploy would do it. Afterwards every
 * recipient got its email exactly once, everything the local SES holds is counted sent and
 * delivered, nothing stays unresolved, and sending resumed at the first tick after each restart.
 * On PGlite by default; on the PostgreSQL server when DATABASE_URL is set (CI runs both).
 */

const ROOT = resolve(import.meta.dirname, "../../..");
const KEY = "flz_sk_CrashTestKey0123456789abcdefghijk".slice(0, 39);
const SEED = Number(process.env.CRASH_SEED ?? 7);
const CAMPAIGNS = 2;
const CONTACTS = 150;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

interface Running {
  child: ChildProcess;
  url: string;
  sesUrl: string;
  output: () => string;
}

// 46 s alone: CI and `npm run test:full` run it (see packages/testing/src/scale.ts).
describe.skipIf(!FULL)("local server across kill -9", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluenzr-crash-"));
  let database: TestDatabase | undefined;
  let ports: { api: number; ses: number };
  const random = prng(SEED);

  beforeAll(async () => {
    if (onServer) database = await openTestDatabase();
    ports = { api: await freePort(), ses: await freePort() };
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(tickSeconds: number): Promise<Running> {
    const child = spawn(join(ROOT, "node_modules/.bin/tsx"), ["packages/local/src/main.ts"], {
      cwd: ROOT,
      detached: true, // its own process group, killed whole
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(ports.api),
        LOCAL_SES_PORT: String(ports.ses),
        DATA_DIR: dataDir,
        BOOTSTRAP_API_KEY: KEY,
        LOCAL_TICK_SECONDS: String(tickSeconds),
        LOCAL_SWEEP_SECONDS: "1",
        UNKNOWN_SEND_MARGIN_SECONDS: "3",
        LOG_LEVEL: "warn",
        ...(database?.url ? { DATABASE_URL: database.url } : {}),
      },
    });
    let output = "";
    child.stdout!.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr!.on("data", (chunk) => {
      output += chunk;
    });
    for (let i = 0; i < 600 && !output.includes("FluenzR is running"); i++) {
      if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
      await new Promise((done) => setTimeout(done, 100));
    }
    if (process.env.CRASH_DEBUG) console.log(new Date().toISOString(), "started", tickSeconds);
    if (!output.includes("FluenzR is running")) throw new Error(`server did not start: ${output}`);
    return { child, url: `http://127.0.0.1:${ports.api}`, sesUrl: `http://127.0.0.1:${ports.ses}`, output: () => output };
  }

  async function kill(running: Running) {
    const exited = new Promise((done) => running.child.once("exit", done));
    process.kill(-running.child.pid!, "SIGKILL");
    await exited;
  }

  async function stop(running: Running) {
    const exited = new Promise((done) => running.child.once("exit", done));
    process.kill(-running.child.pid!, "SIGTERM");
    await exited;
  }

  const api = async (url: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as { data: any };
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json.data;
  };

  type Stored = { destination: { to: string[] }; subject: string };
  const store = async (running: Running): Promise<Stored[]> =>
    ((await (await fetch(`${running.sesUrl}/store`)).json()) as { emails: Stored[] }).emails;

  it("sends every email exactly once, counts what SES holds, and resumes at once after each restart", async () => {
    let running = await start(1);
    const campaignIds: string[] = [];
    try {
      const account = await api(running.url, "/v1/email-accounts", { email: "me@example.com", name: "Me", dailyLimit: 10_000 });
      for (let c = 0; c < CAMPAIGNS; c++) {
        const contacts = Array.from({ length: CONTACTS }, (_, n) => ({ email: `k${c}-${n}@example.org`, firstName: `K${n}` }));
        const group = await api(running.url, "/v1/groups", { name: `crash ${c}` });
        await api(running.url, "/v1/contacts/bulk", { contacts, groupIds: [group.id] });
        const campaign = await api(running.url, "/v1/campaigns", {
          name: `crash ${c}`,
          emailAccountId: account.id,
          settings: {
            ...ALWAYS_OPEN,
            timezone: "UTC",
            maxEmailsPerHour: 10_000,
          },
          workflow: {
            nodes: [
              { id: "s", type: "start" },
              { id: "e1", type: "email", data: { subject: `C${c} {{firstName}}`, body: "Hello {{firstName}}" } },
              { id: "end", type: "end" },
            ],
            edges: [
              { from: "s", to: "e1" },
              { from: "e1", to: "end" },
            ],
          },
        });
        await api(running.url, `/v1/campaigns/${campaign.id}/contacts`, { groupIds: [group.id] });
        campaignIds.push(campaign.id);
      }
      for (const id of campaignIds) await api(running.url, `/v1/campaigns/${id}/start`, {});

      // Kills in the middle of sending: wait for the first emails, then a random moment more.
      for (let round = 0; round < 3; round++) {
        const before = (await store(running)).length;
        for (let i = 0; i < 200 && (await store(running)).length === before; i++) await new Promise((done) => setTimeout(done, 25));
        await new Promise((done) => setTimeout(done, Math.floor(random() * 400)));
        await kill(running);
        const held = readFileSync(join(dataDir, "ses-store.jsonl"), "utf8").trim().split("\n").length;
        // Restart with ticks an hour apart: any email sent now came from the tick at start-up.
        running = await start(3600);
        // The store came back whole (the journal), and the tick at start-up sends more.
        let after = (await store(running)).length;
        expect(after).toBeGreaterThanOrEqual(held);
        if (held < CAMPAIGNS * CONTACTS) {
          for (let i = 0; i < 200 && after === held; i++) {
            await new Promise((done) => setTimeout(done, 25));
            after = (await store(running)).length;
          }
          expect(after, `round ${round}: nothing sent by the tick at start-up`).toBeGreaterThan(held);
        }
        await kill(running);
        running = await start(1);
      }

      // Let it finish: every campaign completes once every unknown send is settled.
      if (process.env.CRASH_DEBUG) console.log(new Date().toISOString(), "rounds done");
      const done = async () => {
        for (const id of campaignIds) if ((await api(running.url, `/v1/campaigns/${id}`)).status !== "completed") return false;
        return true;
      };
      for (let i = 0; i < 600 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
      if (!(await done())) {
        const open = [];
        for (const id of campaignIds) {
          for (let page = 1; page <= Math.ceil(CONTACTS / 100); page++) {
            const rows = await api(running.url, `/v1/campaigns/${id}/contacts?perPage=100&page=${page}`);
            open.push(...rows.filter((r: { status: string }) => r.status !== "completed"));
          }
        }
        const campaigns = [];
        for (const id of campaignIds) campaigns.push(await api(running.url, `/v1/campaigns/${id}`));
        expect.fail(
          `not finished: ${JSON.stringify(campaigns.map((c) => ({ status: c.status, pause: c.pauseReason, stats: c.stats })))} ${JSON.stringify(open.slice(0, 5))} (${open.length} open)\n${running.output()}`,
        );
      }

      // Probes to SES's mailbox simulator (evidence for a silent account) are not campaign emails.
      const emails = (await store(running)).filter((e) => e.destination.to[0] !== "success@simulator.amazonses.com");
      const perRecipient = new Map<string, number>();
      for (const e of emails) perRecipient.set(e.destination.to[0]!, (perRecipient.get(e.destination.to[0]!) ?? 0) + 1);
      expect([...perRecipient.values()].filter((n) => n !== 1)).toEqual([]);
      expect(perRecipient.size).toBe(CAMPAIGNS * CONTACTS);

      // Every email SES holds is counted sent and delivered (the pump settles what the kill left).
      const counted = async () => {
        let sent = 0;
        let delivered = 0;
        for (const id of campaignIds) {
          const stats = (await api(running.url, `/v1/campaigns/${id}`)).stats;
          sent += stats.sent;
          delivered += stats.delivered;
        }
        return { sent, delivered };
      };
      for (let i = 0; i < 100 && (await counted()).delivered < emails.length; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await counted()).toEqual({ sent: emails.length, delivered: emails.length });
      for (const id of campaignIds) {
        for (let page = 1; page <= Math.ceil(CONTACTS / 100); page++) {
          const rows = await api(running.url, `/v1/campaigns/${id}/contacts?perPage=100&page=${page}`);
          expect(rows.filter((r: { status: string; sending: unknown }) => r.status !== "completed" || r.sending !== null)).toEqual([]);
        }
      }
    } finally {
      await stop(running).catch(() => undefined);
    }
  }, 240_000);
});
