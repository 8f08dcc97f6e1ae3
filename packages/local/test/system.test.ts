import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalDatabase, readConfig } from "@fluenzr/local/database";
import { startLocalSystem } from "@fluenzr/local/system";
import { afterAll, describe, expect, it } from "vitest";

/** `npm start` as a new user meets it: embedded database in a data folder, a key on first start. */
describe("local system", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluenzr-local-"));
  const config = { ...readConfig({}), dataDir, port: 0, sesPort: 0 };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const call = async (url: string, key: string, path: string, init: RequestInit = {}) => {
    const res = await fetch(url + path, {
      ...init,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it("creates a workspace and a key on first start, keeps data across restarts, and locks the folder while running", async () => {
    const first = await startLocalSystem(config);
    let key: string;
    try {
      expect(first.bootstrap.created).toBe(true);
      key = first.bootstrap.key!;
      expect(key).toMatch(/^flz_sk_[A-Za-z0-9]{32}$/);
      expect(readFileSync(join(dataDir, "api-key"), "utf8").trim()).toBe(key);
      const created = await call(first.url, key, "/v1/contacts", { method: "POST", body: JSON.stringify({ email: "kept@example.org" }) });
      expect(created.status).toBe(201);
      await expect(openLocalDatabase(config)).rejects.toThrow(/Stop it first/);
    } finally {
      await first.stop();
    }
    expect(existsSync(join(dataDir, "server.pid"))).toBe(false);

    const second = await startLocalSystem(config);
    try {
      expect(second.bootstrap.created).toBe(false);
      expect(second.bootstrap.key).toBeUndefined();
      const list = await call(second.url, key, "/v1/contacts");
      expect(list.status).toBe(200);
      expect(list.body.data.map((c: { email: string }) => c.email)).toEqual(["kept@example.org"]);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it("ensures BOOTSTRAP_API_KEY, so scripts can talk to it", async () => {
    const bootstrapKey = "flz_sk_ScriptsCanUseThisKey0123456789AB".slice(0, 39);
    expect(bootstrapKey).toMatch(/^flz_sk_[A-Za-z0-9]{32}$/);
    const system = await startLocalSystem({ ...config, bootstrapKey });
    try {
      expect(system.bootstrap.key).toBeUndefined();
      expect((await call(system.url, bootstrapKey, "/v1/groups")).status).toBe(200);
      expect((await call(system.url, "flz_sk_ScriptsCanUseThisKey0123456789AC".slice(0, 39), "/v1/groups")).status).toBe(401);
    } finally {
      await system.stop();
    }
    await expect(startLocalSystem({ ...config, bootstrapKey: "flz_sk_tooshort" })).rejects.toThrow(/BOOTSTRAP_API_KEY/);
  }, 60_000);

  it("sends a started campaign within seconds through the local SES, variables filled and unsubscribe headers present", async () => {
    const system = await startLocalSystem({ ...config, dataDir: mkdtempSync(join(tmpdir(), "fluenzr-send-")), tickIntervalMs: 200 });
    try {
      const key = system.bootstrap.key!;
      const post = (path: string, body: unknown) => call(system.url, key, path, { method: "POST", body: JSON.stringify(body) });
      const account = (await post("/v1/email-accounts", { email: "me@example.com", name: "Me Sender" })).body.data;
      const contacts = (
        await post("/v1/contacts/bulk", {
          contacts: [
            { email: "ada@example.org", firstName: "Ada", company: "Analytical Engines" },
            { email: "grace@example.org", firstName: "Grace" },
          ],
        })
      ).body.data;
      expect(contacts.created).toBe(2);
      const ids = (await call(system.url, key, "/v1/contacts")).body.data.map((c: { id: string }) => c.id);
      const campaign = (
        await post("/v1/campaigns", {
          name: "Now",
          emailAccountId: account.id,
          settings: {
            sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
            sendHoursStart: 0,
            sendHoursEnd: 24,
            maxEmailsPerHour: 600,
          },
          workflow: {
            nodes: [
              { id: "s", type: "start" },
              {
                id: "e1",
                type: "email",
                data: { subject: "Hi {{firstName}}", body: "Hello {{firstName}} from {{company|your company}}.\nBye: {{unsubscribeUrl}}" },
              },
              { id: "end", type: "end" },
            ],
            edges: [
              { from: "s", to: "e1" },
              { from: "e1", to: "end" },
            ],
          },
        })
      ).body.data;
      await post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: ids });
      const started = Date.now();
      expect((await post(`/v1/campaigns/${campaign.id}/start`, {})).status).toBe(200);
      let emails: Array<{
        subject: string;
        destination: { to: string[] };
        body: { text: string };
        headers: Array<{ name: string; value: string }>;
      }> = [];
      // Bounded wait, not a timing assertion: the local engine sends on its next tick.
      while (Date.now() - started < 15_000) {
        emails = ((await (await fetch(`${system.sesUrl}/store`)).json()) as { emails: typeof emails }).emails.filter((e) =>
          ["ada@example.org", "grace@example.org"].includes(e.destination.to[0]!),
        );
        if (emails.length === 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(emails.map((e) => e.subject).sort()).toEqual(["Hi Ada", "Hi Grace"]);
      const ada = emails.find((e) => e.subject === "Hi Ada")!;
      expect(ada.body.text).toMatch(/^Hello Ada from Analytical Engines\.\nBye: http:\/\/localhost:\d+\/v1\/unsubscribe\/[\w-]+$/);
      expect(ada.headers).toEqual(
        expect.arrayContaining([
          { name: "List-Unsubscribe", value: expect.stringMatching(/^<http:\/\/localhost:\d+\/v1\/unsubscribe\/[\w-]+>$/) },
          { name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click" },
        ]),
      );
      const stats = (await call(system.url, key, `/v1/campaigns/${campaign.id}`)).body.data;
      expect(stats).toMatchObject({ status: "completed", stats: { totalContacts: 2, sent: 2 } });

      // Local SES events: each sent email gets its Send and Delivery through the event handling.
      const until = async (check: () => Promise<boolean>) => {
        for (let i = 0; i < 100 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      };
      const counters = async () => (await call(system.url, key, `/v1/campaigns/${campaign.id}`)).body.data.stats;
      await until(async () => (await counters()).delivered === 2);
      expect(await counters()).toMatchObject({ sent: 2, delivered: 2 });

      // Simulated opens, clicks, a bounce and a reply change states and counters. The message ids
      // come from the activity feed, as a user finds them.
      const sent = (await call(system.url, key, `/v1/campaigns/${campaign.id}/activity?type=sent`)).body.data as Array<{
        messageId: string;
        contactEmail: string;
        contactId: string;
      }>;
      expect(sent).toHaveLength(2);
      const messages = sent.map((e) => ({ id: e.messageId, to_email: e.contactEmail, contact_id: e.contactId }));
      expect(messages.every((m) => /^msg_\w+$/.test(m.id))).toBe(true);
      const of = (email: string) => messages.find((m) => m.to_email === email)!;
      const simulate = (messageId: string, event: string) => post("/v1/local/simulate", { messageId, event });
      expect((await simulate(of("ada@example.org").id, "open")).body.data).toMatchObject({ event: "open", result: "applied" });
      await simulate(of("ada@example.org").id, "open");
      await simulate(of("ada@example.org").id, "click");
      expect((await simulate(of("ada@example.org").id, "reply")).body.data.result).toBe("replied");
      expect((await simulate(of("grace@example.org").id, "bounce")).body.data.result).toBe("applied");
      expect((await simulate("msg_unknown0000", "open")).status).toBe(404);
      expect(await counters()).toMatchObject({ sent: 2, delivered: 2, opened: 1, clicked: 1, replied: 1, bounced: 1 });
      const grace = (await call(system.url, key, `/v1/contacts/${of("grace@example.org").contact_id}`)).body.data;
      expect(grace.status).toBe("bounced");
      const rows = (await call(system.url, key, `/v1/campaigns/${campaign.id}/contacts`)).body.data;
      expect(rows.map((r: { email: string; status: string }) => [r.email, r.status]).sort()).toEqual([
        ["ada@example.org", "replied"],
        ["grace@example.org", "bounced"],
      ]);
    } finally {
      await system.stop();
    }
  }, 60_000);
});
