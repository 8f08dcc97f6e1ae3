import { applySesEvent } from "@fluenzr/core/tracking";
import { createApp } from "@fluenzr/functions/api/app";
import { apiClient, expectOk, factory, SEED_WORKFLOW, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { afterEach, describe, expect, it } from "vitest";

/**
 * The scenario, as a user meets it: a contact gets a campaign email, then complains,
 * unsubscribes or hard-bounces (or the user suppresses its domain); the contact is deleted; the
 * same address comes back by hand, by a bulk import and through enrolment by filter. Each time it
 * arrives with the suppressed status, is not enrolled, and gets no email.
 */

useTestDatabase();

const app = createApp();
let engine: TestEngine;
afterEach(() => engine?.restore());

type Cause = "complaint" | "unsubscribe" | "hard bounce" | "manual domain entry";

const EXPECTED: Record<Cause, string> = {
  complaint: "complained",
  unsubscribe: "unsubscribed",
  "hard bounce": "bounced",
  "manual domain entry": "unsubscribed",
};

function record(type: "Complaint" | "Bounce", email: { messageId: string; tags: Record<string, string>; to: string }) {
  const mail = { messageId: email.messageId, timestamp: "2026-01-12T09:00:01.000Z", tags: { message: [email.tags.message!] } };
  return type === "Complaint"
    ? {
        eventType: "Complaint",
        mail,
        complaint: { timestamp: "2026-01-12T10:00:00.000Z", complainedRecipients: [{ emailAddress: email.to }] },
      }
    : {
        eventType: "Bounce",
        mail,
        bounce: {
          timestamp: "2026-01-12T09:00:05.000Z",
          bounceType: "Permanent",
          bounceSubType: "General",
          bouncedRecipients: [{ emailAddress: email.to }],
        },
      };
}

describe("nobody who opted out is emailed again, whichever way the address comes back", () => {
  it.each<Cause>(["complaint", "unsubscribe", "hard bounce", "manual domain entry"])("after a %s", async (cause) => {
    engine = testEngine({ start: "2026-01-12T09:00:00Z" });
    const ws = await factory.workspace();
    const api = apiClient(app, ws.key);
    const account = await factory.emailAccount(ws);
    const address = `Pat.${cause.replaceAll(" ", "-")}@Opted-Out.example`;
    const first = expectOk(await api.post("/v1/contacts", { email: address, firstName: "Pat" }), 201);
    const other = expectOk(await api.post("/v1/contacts", { email: "still.active@fine.example", firstName: "Sam", tags: ["again"] }), 201);
    const campaign = expectOk(await api.post("/v1/campaigns", { name: "first", emailAccountId: account.id, workflow: SEED_WORKFLOW }), 201);
    expectOk(await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [first.id] }));
    expectOk(await api.post(`/v1/campaigns/${campaign.id}/start`));
    await engine.runMinute();
    const email = engine.mailer.sent.find((e) => e.to === address)!;
    expect(email).toBeDefined();

    if (cause === "complaint") await applySesEvent(record("Complaint", email));
    if (cause === "hard bounce") await applySesEvent(record("Bounce", email));
    if (cause === "unsubscribe") {
      const link = email.headers.find((h) => h.name === "List-Unsubscribe")!.value.slice(1, -1);
      const res = await api.request("POST", new URL(link).pathname, {
        rawBody: "List-Unsubscribe=One-Click",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        key: null,
      });
      expect(res.status).toBe(200);
    }
    if (cause === "manual domain entry") expectOk(await api.post("/v1/suppressions", { domain: "opted-out.example" }), 201);
    const status = EXPECTED[cause];
    expect(expectOk(await api.get(`/v1/contacts/${first.id}`)).status).toBe(status);
    expectOk(await api.delete(`/v1/contacts/${first.id}`));

    // By hand, with another spelling of the address.
    const byHand = expectOk(await api.post("/v1/contacts", { email: address.toLowerCase(), tags: ["again"] }), 201);
    expect(byHand.status).toBe(status);
    expectOk(await api.delete(`/v1/contacts/${byHand.id}`));
    // By a bulk import (a CRM sync).
    expect(expectOk(await api.post("/v1/contacts/bulk", { contacts: [{ email: address.toUpperCase(), tags: ["again"] }] })).created).toBe(
      1,
    );
    const [imported] = expectOk(await api.get(`/v1/contacts?tags=again&status=${status}`));
    expect(imported).toMatchObject({ email: address.toUpperCase(), status });

    // Enrolment by filter takes the active contact only, and sending reaches only it.
    const second = expectOk(await api.post("/v1/campaigns", { name: "second", emailAccountId: account.id, workflow: SEED_WORKFLOW }), 201);
    expect(expectOk(await api.post(`/v1/campaigns/${second.id}/contacts`, { filters: { tags: ["again"] } }))).toEqual({
      added: 1,
      skipped: 1,
      errors: [],
    });
    expectOk(await api.post(`/v1/campaigns/${second.id}/start`));
    await engine.run(10);
    const to = (a: string) => engine.mailer.sent.filter((e) => e.to.toLowerCase() === a.toLowerCase()).length;
    expect(to(address)).toBe(1);
    expect(to(other.email)).toBe(1);
  });
});
