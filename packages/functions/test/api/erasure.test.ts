import * as Database from "@fluenzr/core/database";
import { applySesEvent } from "@fluenzr/core/tracking";
import * as Webhook from "@fluenzr/core/webhook";
import {
  apiSuite,
  expectAuthFailures,
  expectError,
  expectOk,
  expectValidation,
  factory,
  SEED_WORKFLOW,
  type TestEngine,
  testEngine,
} from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * GDPR: a contact's data shown (GET /contacts/:id/export) and erased (DELETE ?erase=true). After
 * an erasure a search of every text column of every table for the address, the names, the reply
 * text, the IP and user agent finds nothing, and the statistics have not moved.
 */

const s = apiSuite();
let engine: TestEngine;

const ADDRESS = "Zelda.Quartermain@Erase-Me.example";
const NEEDLES = ["zelda.quartermain@erase-me.example", "zelda", "quartermain", "unique-reply-text-8812", "203.0.113.77", "zeldabrowser/9"];

beforeAll(async () => {
  engine = testEngine({ start: "2026-01-12T09:00:00Z" });
});
afterAll(() => engine.restore());

/** Every text, JSON and array column of every table holding one of the needles: `table.column: needle`. */
async function traces(needles: readonly string[]): Promise<string[]> {
  const columns = await Database.rows<{ table_name: string; column_name: string }>(sql`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
    ORDER BY table_name, column_name`);
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    for (const needle of needles) {
      const [row] = await Database.rows<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE lower(${sql.identifier(column)}::text) LIKE ${`%${needle}%`}`,
      );
      if (row!.n) found.push(`${table}.${column}: ${needle}`);
    }
  }
  return found;
}

const sesEvent = (type: string, messageId: string, sesMessageId: string, detail: Record<string, unknown>) => ({
  eventType: type,
  mail: { messageId: sesMessageId, timestamp: "2026-01-12T09:00:01.000Z", tags: { message: [messageId] }, destination: [ADDRESS] },
  ...detail,
});

/** A contact that got an email, opened and clicked it, replied, and complained; its traces everywhere. */
async function history() {
  // A webhook wanting everything: its outbox holds the person's events too (erased below).
  await s.ws.as(() => Webhook.Subscriptions.create({ url: "https://93.184.216.34/hook", events: ["*"] }));
  const account = await factory.emailAccount(s.ws);
  const created = await s.api.post(
    "/v1/contacts",
    { email: ADDRESS, firstName: "Zelda", lastName: "Quartermain" },
    { headers: { "idempotency-key": "erase-me-create" } },
  );
  const contact = expectOk(created, 201);
  const campaign = expectOk(await s.api.post("/v1/campaigns", { name: "GDPR", emailAccountId: account.id, workflow: SEED_WORKFLOW }), 201);
  expectOk(await s.api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [contact.id] }));
  expectOk(await s.api.post(`/v1/campaigns/${campaign.id}/start`));
  await engine.runMinute();
  const sent = engine.mailer.sent.find((e) => e.to === ADDRESS)!;
  const messageId = sent.tags.message!;
  const at = (s: number) => new Date(Date.parse("2026-01-12T09:00:00Z") + s * 1000).toISOString();
  for (const record of [
    sesEvent("Delivery", messageId, sent.messageId, {
      delivery: { timestamp: at(5), smtpResponse: `250 ok ${ADDRESS}`, recipients: [ADDRESS] },
    }),
    sesEvent("Open", messageId, sent.messageId, { open: { timestamp: at(60), ipAddress: "203.0.113.77", userAgent: "ZeldaBrowser/9" } }),
    sesEvent("Click", messageId, sent.messageId, {
      click: {
        timestamp: at(70),
        ipAddress: "203.0.113.77",
        userAgent: "ZeldaBrowser/9",
        link: `https://x.example/?who=${ADDRESS}`,
        linkTags: {},
      },
    }),
    sesEvent("Complaint", messageId, sent.messageId, {
      complaint: {
        timestamp: at(200),
        complainedRecipients: [{ emailAddress: ADDRESS }],
        complaintFeedbackType: "abuse",
        userAgent: "ZeldaBrowser/9",
      },
    }),
    // A notification about an email we never sent, naming the address: kept as unmatched.
    sesEvent("Delivery", "msg_unknown0000000000000000", "0100-unknown", { delivery: { timestamp: at(9), recipients: [ADDRESS] } }),
  ]) {
    await applySesEvent(record);
  }
  expectOk(
    await s.api.post(`/v1/campaigns/${campaign.id}/replies`, {
      contactId: contact.id,
      subject: "Re: Zelda, quick question",
      text: "Quartermain here: unique-reply-text-8812, please stop.",
    }),
  );
  return { contact, campaign, messageId };
}

async function statistics(campaignId: string) {
  return {
    global: expectOk(await s.api.get(`/v1/campaigns/${campaignId}/stats`)),
    emails: expectOk(await s.api.get(`/v1/campaigns/${campaignId}/stats/emails`)),
    timeline: expectOk(
      await s.api.get(`/v1/campaigns/${campaignId}/stats/timeline?interval=hour&from=2026-01-12T00:00:00Z&to=2026-01-13T00:00:00Z`),
    ),
  };
}

describe("a contact's data, shown and erased", () => {
  let story: Awaited<ReturnType<typeof history>>;
  beforeAll(async () => {
    story = await history();
  });

  it("exports everything held about the contact", async () => {
    const data = expectOk(await s.api.get(`/v1/contacts/${story.contact.id}/export`));
    expect(data.contact).toMatchObject({ id: story.contact.id, email: ADDRESS, firstName: "Zelda", status: "complained" });
    expect(data.campaigns).toEqual([expect.objectContaining({ campaignId: story.campaign.id, name: "GDPR", status: "unsubscribed" })]);
    expect(data.emails).toEqual([
      expect.objectContaining({ messageId: story.messageId, to: ADDRESS, subject: "Zelda, quick question", status: "sent" }),
    ]);
    expect(data.emails[0].openedAt).not.toBeNull();
    expect(data.events.map((e: { type: string }) => e.type).sort()).toEqual([
      "clicked",
      "complained",
      "delivered",
      "opened",
      "replied",
      "sent",
    ]);
    expect(data.suppressions).toEqual([
      expect.objectContaining({ email: ADDRESS.toLowerCase() === ADDRESS ? ADDRESS : expect.any(String), reason: "complained" }),
    ]);
  });

  it("erases: nothing of the person is left in any table, the statistics keep their numbers, the address stays suppressed", async () => {
    // Every needle is somewhere before (the search can fail).
    const before = await traces(NEEDLES);
    for (const needle of NEEDLES)
      expect(
        before.some((t) => t.endsWith(`: ${needle}`)),
        needle,
      ).toBe(true);
    const stats = await statistics(story.campaign.id);

    const res = await s.api.delete(`/v1/contacts/${story.contact.id}?erase=true`);
    expect(expectOk(res)).toEqual({ id: story.contact.id, deleted: true, erased: true });

    expect(await traces(NEEDLES)).toEqual([]);
    // Counters and rates unchanged; only the enrolment count goes down, as for any deleted contact.
    expect(await statistics(story.campaign.id)).toEqual({
      ...stats,
      global: { ...stats.global, totalContacts: stats.global.totalContacts - 1 },
    });
    expect(stats.global).toMatchObject({ sent: 1, delivered: 1, opened: 1, clicked: 1, replied: 1 });
    expectError(await s.api.get(`/v1/contacts/${story.contact.id}`), 404, "NOT_FOUND");
    // The suppression entry still matches the address by its hash.
    const again = expectOk(await s.api.post("/v1/contacts", { email: ADDRESS.toUpperCase() }), 201);
    expect(again.status).toBe("complained");
    const [entry] = expectOk(await s.api.get(`/v1/suppressions?email=${encodeURIComponent(ADDRESS)}`));
    expect(entry).toMatchObject({ email: null, reason: "complained" });
  });
});

describe("DELETE /v1/contacts/:id?erase and GET /v1/contacts/:id/export: validation, keys, workspaces", () => {
  it("a plain delete is not an erasure; erase must be true or false", async () => {
    const contact = await factory.contact(s.ws);
    expectValidation(await s.api.delete(`/v1/contacts/${contact.id}?erase=yes`), ["erase"]);
    expect(expectOk(await s.api.delete(`/v1/contacts/${contact.id}?erase=false`))).toEqual({ id: contact.id, deleted: true });
  });

  it("401 without a valid key", async () => {
    const contact = await factory.contact(s.ws);
    await expectAuthFailures(s.api, "GET", `/v1/contacts/${contact.id}/export`, { ws: s.ws });
    await expectAuthFailures(s.api, "DELETE", `/v1/contacts/${contact.id}?erase=true`, { ws: s.ws });
  });

  it("another workspace's contact is 404 and stays whole", async () => {
    const theirs = await factory.contact(s.other, { firstName: "Theirs" });
    const message = `Contact ${theirs.id} not found`;
    expectError(await s.api.get(`/v1/contacts/${theirs.id}/export`), 404, "NOT_FOUND", { message });
    expectError(await s.api.delete(`/v1/contacts/${theirs.id}?erase=true`), 404, "NOT_FOUND", { message });
    expect(await s.other.as(async () => (await import("@fluenzr/core/contact")).fromID(theirs.id))).toMatchObject({ firstName: "Theirs" });
  });
});
