import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Mailer } from "@fluenzr/core/sending";
import { sesAccountReader, sesMailer } from "@fluenzr/core/sending/ses-mailer";
import { readConfig } from "@fluenzr/local/database";
import { startLocalSystem } from "@fluenzr/local/system";
import { ALWAYS_OPEN, linear } from "@fluenzr/testing";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The local SES's account status (#13): `GetAccount` answers from the local SES, the switch
 * `PUT /v1/local/ses-account` pauses it (sends then fail with SendingPausedException, as in SES),
 * and the engine stops dispatching until it is switched back.
 */
describe("local SES account", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluenzr-ses-account-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("pauses and resumes the local SES account: nothing is sent meanwhile, then everything is", async () => {
    const system = await startLocalSystem({ ...readConfig({}), dataDir, port: 0, sesPort: 0, tickIntervalMs: 200 });
    try {
      const key = system.bootstrap.key!;
      const call = async (method: string, path: string, body?: unknown, auth = key) => {
        const res = await fetch(system.url + path, {
          method,
          headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      const read = sesAccountReader({ endpoint: system.sesUrl });
      expect(await read()).toEqual({ sendingEnabled: true, enforcementStatus: "HEALTHY" });

      // The switch: validated, behind the key.
      expect((await call("PUT", "/v1/local/ses-account", { sendingEnabled: "no" })).body.error.details).toEqual([
        { path: "sendingEnabled", message: "must be true or false" },
      ]);
      expect((await call("PUT", "/v1/local/ses-account", { sendingEnabled: false }, "flz_sk_wrong")).status).toBe(401);
      const off = await call("PUT", "/v1/local/ses-account", { sendingEnabled: false });
      expect(off.status).toBe(200);
      expect(off.body.data).toEqual({ sendingEnabled: false, enforcementStatus: "SHUTDOWN", dispatchPaused: true });
      expect(await read()).toEqual({ sendingEnabled: false, enforcementStatus: "SHUTDOWN" });
      const refused = await sesMailer({ endpoint: system.sesUrl })
        .send({ from: { email: "me@example.com", name: "Me" }, to: "x@example.org", subject: "s", text: "t", headers: [], tags: {} })
        .catch((error) => error);
      expect(refused).toBeInstanceOf(Mailer.MailerError);
      expect(refused).toMatchObject({ kind: "account", code: "SendingPausedException" });

      // A campaign started while SES is paused sends nothing and is not paused.
      const account = (await call("POST", "/v1/email-accounts", { email: "me@example.com", name: "Me" })).body.data;
      const contacts = ["a@example.org", "b@example.org", "c@example.org"];
      await call("POST", "/v1/contacts/bulk", { contacts: contacts.map((email) => ({ email })) });
      const ids = (await call("GET", "/v1/contacts")).body.data.map((c: { id: string }) => c.id);
      const campaign = (
        await call("POST", "/v1/campaigns", {
          name: "Paused SES",
          emailAccountId: account.id,
          settings: { ...ALWAYS_OPEN, maxEmailsPerHour: 600 },
          workflow: linear([{ id: "e1", email: { subject: "Hi", body: "Hello {{unsubscribeUrl}}" } }], { start: "s", end: "end" }),
        })
      ).body.data;
      await call("POST", `/v1/campaigns/${campaign.id}/contacts`, { contactIds: ids });
      expect((await call("POST", `/v1/campaigns/${campaign.id}/start`)).body.data.status).toBe("active");
      const stored = async () =>
        ((await (await fetch(`${system.sesUrl}/store`)).json()) as { emails: Array<{ destination: { to: string[] } }> }).emails.filter(
          (e) => contacts.includes(e.destination.to[0]!),
        ).length;
      await new Promise((resolve) => setTimeout(resolve, 1500)); // several ticks
      expect(await stored()).toBe(0);
      expect((await call("GET", `/v1/campaigns/${campaign.id}`)).body.data.status).toBe("active");

      // SES sends again: dispatch resumes by itself.
      expect((await call("PUT", "/v1/local/ses-account", { sendingEnabled: true })).body.data).toEqual({
        sendingEnabled: true,
        enforcementStatus: "HEALTHY",
        dispatchPaused: false,
      });
      const started = Date.now();
      while (Date.now() - started < 15_000 && (await stored()) < 3) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await stored()).toBe(3);
    } finally {
      await system.stop();
    }
  }, 180_000); // starting the local system (a fresh PGlite, its migrations) took 39 s of it on a busy machine
});
