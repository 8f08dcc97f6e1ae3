import * as Auth from "@fluenzr/core/auth";
import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import { apiClient, factory, linear, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { afterEach, describe, expect, it } from "vitest";

useTestDatabase();

const WORKFLOW = linear(
  [
    { id: "e1", email: { subject: "Hi", body: "Hello" } },
    { id: "w", delay: { days: 1 } },
    { id: "e2", email: { subject: "Again", body: "Hello again" } },
  ],
  { start: "s", end: "end" },
);

let engine: TestEngine;
afterEach(() => engine?.restore());

async function sent(count = 1) {
  engine = testEngine({ start: "2026-01-12T09:00:00Z" });
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const people: Contact.Contact[] = [];
  for (let i = 0; i < count; i++) people.push(await factory.contact(ws));
  const campaign = await ws.as(() =>
    Campaign.create({ name: "u", emailAccountId: account.id, workflow: WORKFLOW, settings: { maxEmailsPerHour: 600 } }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: people.map((p) => p.id) }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  await engine.runMinute();
  const links = engine.mailer.sent.map((e) => {
    const header = e.headers.find((h) => h.name === "List-Unsubscribe")!.value;
    return { path: new URL(header.slice(1, -1)).pathname, contactId: e.tags.contact!, messageId: e.tags.message! };
  });
  return { ws, campaign, people, links };
}

const api = apiClient();

describe("one-click unsubscribe", () => {
  it("GET shows a confirmation page whose button posts, and changes nothing", async () => {
    const { ws, links } = await sent();
    const page = await api.get(links[0]!.path);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.text).toMatch(/<form method="post">/);
    expect(page.text).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await ws.as(() => Contact.fromID(links[0]!.contactId)))!.status).toBe("active");
  });

  it("POST (RFC 8058 body, no auth) unsubscribes at once, everywhere, counted once for that email", async () => {
    const { ws, campaign, links } = await sent(2);
    const res = await api.request("POST", links[0]!.path, {
      rawBody: "List-Unsubscribe=One-Click",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain("You are unsubscribed");
    expect((await ws.as(() => Contact.fromID(links[0]!.contactId)))!.status).toBe("unsubscribed");
    // Again: nothing more.
    expect((await api.request("POST", links[0]!.path, { rawBody: "List-Unsubscribe=One-Click" })).status).toBe(200);
    const after = (await ws.as(() => Campaign.fromID(campaign.id)))!;
    expect(after.stats.unsubscribed).toBe(1);
    const rows = await ws.as(() => Campaign.Enrolment.list(campaign.id, { page: 1, perPage: 20 }));
    expect(rows.data.find((r) => r.contactId === links[0]!.contactId)).toMatchObject({ status: "unsubscribed", nextSendAt: null });
    expect(rows.data.find((r) => r.contactId === links[1]!.contactId)).toMatchObject({ status: "in_progress" });
    // The next email never goes to the unsubscribed contact.
    engine.clock.advance(2 * 86_400_000);
    await engine.run(3);
    expect(engine.mailer.sent.filter((e) => e.tags.contact === links[0]!.contactId)).toHaveLength(1);
  });

  it.each(["/v1/unsubscribe/not-a-token-at-all-xx", "/v1/unsubscribe/bad", "/v1/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])(
    "%s: a 404 page",
    async (path) => {
      for (const method of ["GET", "POST"]) {
        const res = await api.request(method, path);
        expect(res.status).toBe(404);
        expect(res.text).toContain("This link is not valid");
      }
    },
  );
});

describe("POST /v1/campaigns/:id/replies", () => {
  it("records a reply reported by an integration and stops the contact's sequence", async () => {
    const { ws, campaign, links } = await sent(1);
    const client = apiClient(undefined, ws.key);
    const res = await client.post(`/v1/campaigns/${campaign.id}/replies`, {
      contactId: links[0]!.contactId,
      subject: "Re: Hi",
      text: "Yes, call me",
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ recorded: true, messageId: links[0]!.messageId });
    const after = (await ws.as(() => Campaign.fromID(campaign.id)))!;
    expect(after).toMatchObject({ status: "completed", stats: { replied: 1 } });
  });

  it("validates, answers 404 for contacts without a sent email or another workspace's campaign, and 401 without a key", async () => {
    const { ws, campaign, links } = await sent(1);
    const client = apiClient(undefined, ws.key);
    const invalid = await client.post(`/v1/campaigns/${campaign.id}/replies`, { contactId: "nope", receivedAt: "yesterday" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["contactId", "receivedAt"]);
    const stranger = await factory.contact(ws);
    expect((await client.post(`/v1/campaigns/${campaign.id}/replies`, { contactId: stranger.id })).status).toBe(404);
    const other = await factory.workspace();
    expect(
      (await apiClient(undefined, other.key).post(`/v1/campaigns/${campaign.id}/replies`, { contactId: links[0]!.contactId })).status,
    ).toBe(404);
    expect((await apiClient().post(`/v1/campaigns/${campaign.id}/replies`, { contactId: links[0]!.contactId })).status).toBe(401);
    await Auth.revokeKey(ws.keyId);
    expect((await client.post(`/v1/campaigns/${campaign.id}/replies`, { contactId: links[0]!.contactId })).status).toBe(401);
  });
});
