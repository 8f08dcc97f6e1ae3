import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFluenzrClient } from "@fluenzr/client";
import { openLocalDatabase, readConfig } from "@fluenzr/local/database";
import { startLocalSystem } from "@fluenzr/local/system";
import { ALWAYS_OPEN, linear } from "@fluenzr/testing";
import { afterAll, describe, expect, it } from "vitest";

/** An openapi-fetch result's data, or the test fails with the error envelope it got. */
function must<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new Error(`${result.response.status}: ${JSON.stringify(result.error)}`);
  return result.data;
}

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
      // The typed client generated from the OpenAPI document (@fluenzr/client), as a user would call the API.
      const api = createFluenzrClient({ baseUrl: system.url, apiKey: key });
      const account = must(await api.POST("/v1/email-accounts", { body: { email: "me@example.com", name: "Me Sender" } })).data;
      const contacts = must(
        await api.POST("/v1/contacts/bulk", {
          body: {
            contacts: [
              { email: "ada@example.org", firstName: "Ada", company: "Analytical Engines" },
              { email: "grace@example.org", firstName: "Grace" },
            ],
          },
        }),
      ).data;
      expect(contacts.created).toBe(2);
      const ids = must(await api.GET("/v1/contacts")).data.map((c) => c.id);
      const campaign = must(
        await api.POST("/v1/campaigns", {
          body: {
            name: "Now",
            emailAccountId: account.id,
            settings: { ...ALWAYS_OPEN, maxEmailsPerHour: 600 },
            workflow: linear(
              [
                {
                  id: "e1",
                  email: {
                    subject: "Hi {{firstName}}",
                    body: "Hello {{firstName}} from {{company|your company}}.\nBye: {{unsubscribeUrl}}",
                  },
                },
              ],
              { start: "s", end: "end" },
            ),
          },
        }),
      ).data;
      const path = { params: { path: { id: campaign.id } } };
      expect(must(await api.POST("/v1/campaigns/{id}/contacts", { ...path, body: { contactIds: ids } })).data.added).toBe(2);
      const started = Date.now();
      expect(must(await api.POST("/v1/campaigns/{id}/start", path)).data.status).toBe("active");
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
      const stats = must(await api.GET("/v1/campaigns/{id}", path)).data;
      expect(stats).toMatchObject({ status: "completed", stats: { totalContacts: 2, sent: 2 } });

      // Local SES events: each sent email gets its Send and Delivery through the event handling.
      const until = async (check: () => Promise<boolean>) => {
        for (let i = 0; i < 100 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      };
      const counters = async () => must(await api.GET("/v1/campaigns/{id}/stats", path)).data;
      await until(async () => (await counters()).delivered === 2);
      expect(await counters()).toMatchObject({ sent: 2, delivered: 2 });

      // Simulated opens, clicks, a bounce and a reply change states and counters. The message ids
      // come from the activity feed, as a user finds them.
      const sent = must(
        await api.GET("/v1/campaigns/{id}/activity", { params: { path: { id: campaign.id }, query: { type: "sent" } } }),
      ).data;
      expect(sent).toHaveLength(2);
      const messages = sent.map((e) => ({ id: e.messageId ?? "", to_email: e.contactEmail, contact_id: e.contactId }));
      expect(messages.every((m) => /^msg_\w+$/.test(m.id))).toBe(true);
      const of = (email: string) => messages.find((m) => m.to_email === email)!;
      const simulate = (messageId: string, event: string) => post("/v1/local/simulate", { messageId, event });
      expect((await simulate(of("ada@example.org").id, "open")).body.data).toMatchObject({ event: "open", result: "applied" });
      await simulate(of("ada@example.org").id, "open");
      await simulate(of("ada@example.org").id, "click");
      expect((await simulate(of("ada@example.org").id, "reply")).body.data.result).toBe("replied");
      const bounce = (await simulate(of("grace@example.org").id, "bounce")).body.data;
      expect(bounce).toMatchObject({ result: "applied", campaign: { status: "completed" } }); // both contacts done; under 20 sent: no pause
      expect((await simulate("msg_unknown0000", "open")).status).toBe(404);
      expect(await counters()).toMatchObject({ sent: 2, delivered: 2, opened: 1, clicked: 1, replied: 1, bounced: 1 });
      // Machine opens and clicks (docs/machine-events.md): what SES would report makes each class.
      const adaId = of("ada@example.org").id;
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const mpp = { messageId: adaId, event: "open", userAgent: "Mozilla/5.0", ipAddress: "17.58.101.12", at: later };
      expect((await post("/v1/local/simulate", mpp)).body.data).toMatchObject({
        result: "applied",
        machine: true,
        machineReason: "apple-mpp",
      });
      const scanner = { messageId: adaId, event: "click", userAgent: "python-requests/2.31.0", link: "https://example.com/b", at: later };
      expect((await post("/v1/local/simulate", scanner)).body.data).toMatchObject({ machine: true, machineReason: "security-scanner" });
      const reader = {
        messageId: adaId,
        event: "click",
        link: "https://example.com/c",
        at: new Date(Date.now() + 7_200_000).toISOString(),
      };
      expect((await post("/v1/local/simulate", reader)).body.data).toMatchObject({ machine: false });
      expect(await counters()).toMatchObject({ opened: 1, machineOpened: 1, clicked: 1, humanClicked: 1, machineClicked: 1 });
      for (const [field, value] of [
        ["ipAddress", "not-an-address"],
        ["at", "yesterday"],
      ] as const) {
        const res = await post("/v1/local/simulate", { messageId: adaId, event: "open", [field]: value });
        expect(res.status).toBe(400);
        expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
      }
      const grace = must(await api.GET("/v1/contacts/{id}", { params: { path: { id: of("grace@example.org").contact_id } } })).data;
      expect(grace.status).toBe("bounced");
      const rows = must(await api.GET("/v1/campaigns/{id}/contacts", path)).data;
      expect(rows.map((r) => [r.email, r.status]).sort()).toEqual([
        ["ada@example.org", "replied"],
        ["grace@example.org", "bounced"],
      ]);
    } finally {
      await system.stop();
    }
  }, 60_000);
});
