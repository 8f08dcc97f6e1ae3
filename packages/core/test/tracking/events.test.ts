import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { applySesEvent, Replies } from "@fluenzr/core/tracking";
import type * as Records from "@fluenzr/local/records";
import { useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { about, ccStatus, fixture, sentCampaign, stats, TWO_EMAILS } from "./sent-campaign";

useTestDatabase();

const events = (messageId: string) =>
  Database.rows<{ type: string; metadata: Record<string, unknown> }>(
    sql`SELECT type, metadata FROM event WHERE message_id = ${messageId} ORDER BY occurred_at, id`,
  );

describe("SES events", () => {
  it("understands every fixture and maps it to its email", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    const email = sent[0]!;
    expect(await applySesEvent(about("delivery", email, "2026-01-12T09:00:05.000Z"))).toBe("applied");
    expect(await applySesEvent(about("open", email, "2026-01-12T10:00:00.000Z"))).toBe("applied");
    expect(await applySesEvent(about("click", email, "2026-01-12T10:01:00.000Z"))).toBe("applied");
    expect(await applySesEvent(about("delivery-delay", email, "2026-01-12T09:00:06.000Z"))).toBe("applied");
    expect(await applySesEvent(about("bounce-transient", email, "2026-01-12T09:00:07.000Z"))).toBe("applied");
    expect(await stats(ws, campaign.id)).toMatchObject({ sent: 1, delivered: 1, opened: 1, clicked: 1, bounced: 0 });
    const recorded = await events(email.messageId);
    expect(recorded.map((e) => e.type)).toEqual(["sent", "delivered", "delayed", "bounced", "opened", "clicked"]);
    expect(recorded.find((e) => e.type === "opened")!.metadata).toEqual({
      userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
      ip: "198.51.100.7",
    });
    expect(recorded.find((e) => e.type === "clicked")!.metadata).toMatchObject({
      link: expect.stringMatching(/^https:/),
      ip: expect.any(String),
    });
    expect(recorded.find((e) => e.type === "bounced")!.metadata).toMatchObject({ bounceType: "soft" });
    expect(await ccStatus(campaign.id, email.contactId)).toBe("in_progress");
  });

  it("counts ten opens of one email once, and records each", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    for (let i = 0; i < 10; i++) await applySesEvent(about("open", sent[0]!, `2026-01-12T10:0${i}:00.000Z`));
    expect((await stats(ws, campaign.id)).opened).toBe(1);
    expect((await events(sent[0]!.messageId)).filter((e) => e.type === "opened")).toHaveLength(10);
  });

  it("applies a redelivered event once", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    const record = about("delivery", sent[0]!, "2026-01-12T09:00:05.000Z");
    expect(await applySesEvent(record)).toBe("applied");
    for (let i = 0; i < 7; i++) expect(await applySesEvent(record)).toBe("duplicate");
    expect((await stats(ws, campaign.id)).delivered).toBe(1);
  });

  it("a hard bounce marks the contact bounced and stops every sequence it is in", async () => {
    const { ws, campaign, sent, people } = await sentCampaign(2);
    const email = sent.find((s) => s.contactId === people[0]!.id)!;
    const other = await ws.as(() =>
      Campaign.create({ name: "other", emailAccountId: (campaign as { emailAccountId: string }).emailAccountId, workflow: TWO_EMAILS }),
    );
    await ws.as(() => Campaign.Enrolment.add(other.id, { contactIds: [people[0]!.id] }));
    await ws.as(() => Campaign.transition(other.id, "start"));
    expect(await applySesEvent(about("bounce-permanent", email, "2026-01-12T09:00:03.000Z"))).toBe("applied");
    expect((await ws.as(() => Contact.fromID(people[0]!.id)))!.status).toBe("bounced");
    expect(await ccStatus(campaign.id, people[0]!.id)).toBe("bounced");
    expect(await ccStatus(other.id, people[0]!.id)).toBe("bounced");
    expect(await ccStatus(campaign.id, people[1]!.id)).toBe("in_progress");
    expect((await stats(ws, campaign.id)).bounced).toBe(1);
    expect((await events(email.messageId)).at(-1)).toMatchObject({
      type: "bounced",
      metadata: { bounceType: "hard", reason: "smtp; 550 5.1.1 user unknown" },
    });
    // A late Delivery does not undo the bounce.
    await applySesEvent(about("delivery", email, "2026-01-12T09:00:01.000Z"));
    expect((await ws.as(() => Contact.fromID(people[0]!.id)))!.status).toBe("bounced");
    expect(await ccStatus(campaign.id, people[0]!.id)).toBe("bounced");
  });

  it("a complaint unsubscribes the contact everywhere", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    await applySesEvent(about("complaint", sent[0]!, "2026-01-12T12:00:00.000Z"));
    expect((await ws.as(() => Contact.fromID(sent[0]!.contactId)))!.status).toBe("complained");
    expect(await ccStatus(campaign.id, sent[0]!.contactId)).toBe("unsubscribed");
    expect(await ws.as(() => Campaign.fromID(campaign.id))).toMatchObject({ status: "completed" });
  });

  it.each(["reject", "rendering-failure"])("%s fails the contact with the reason", async (name) => {
    const { campaign, sent } = await sentCampaign(1);
    await applySesEvent(about(name, sent[0]!, "2026-01-12T09:00:01.000Z"));
    const [row] = await Database.rows<{ status: string; error: string }>(
      sql`SELECT status, error FROM campaign_contact WHERE campaign_id = ${campaign.id} AND contact_id = ${sent[0]!.contactId}`,
    );
    expect(row).toMatchObject({ status: "failed", error: expect.stringMatching(/^SES (rejected|could not render)/) });
  });

  it("settles with its Send event an email whose fate the sender never learned", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    await Database.rows(sql`UPDATE message SET status = 'sending', sent_at = NULL WHERE id = ${sent[0]!.messageId}`);
    await Database.rows(sql`DELETE FROM campaign_stat WHERE campaign_id = ${campaign.id}`);
    await Database.rows(sql`UPDATE campaign_contact SET current_node_id = 'node_2', next_run_at = NULL WHERE campaign_id = ${campaign.id}`);
    expect(await applySesEvent(about("send", sent[0]!, "2026-01-12T09:00:00.000Z"))).toBe("applied");
    expect(await applySesEvent(about("send", sent[0]!, "2026-01-12T09:00:00.000Z"))).toBe("duplicate");
    expect((await stats(ws, campaign.id)).sent).toBe(1);
    const [cc] = await Database.rows<{ current_node_id: string }>(
      sql`SELECT current_node_id FROM campaign_contact WHERE campaign_id = ${campaign.id}`,
    );
    expect(cc!.current_node_id).toBe("node_4");
  });

  it("acknowledges an event for an unknown email, keeping it for diagnosis", async () => {
    const record = fixture("ses-events/open.json");
    expect(await applySesEvent(record)).toBe("unmatched");
    expect(await applySesEvent(record)).toBe("unmatched");
    const rows = await Database.rows<{ kind: string }>(
      sql`SELECT kind FROM unmatched_event WHERE provider_key LIKE 'ses:0100018d1a2b3c4d%'`,
    );
    expect(rows).toEqual([{ kind: "ses:Open" }]);
    expect(await applySesEvent({ eventType: "Mystery", mail: {} })).toBe("ignored");
  });
});

describe("replies", () => {
  const inbound = (name: string, email: Records.SentEmail) => {
    const record = fixture(name);
    record.content = record.content.replaceAll("0100018d1a2b3c4d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000", email.sesMessageId);
    record.mail.messageId = `${name}-${email.messageId}`;
    return record;
  };

  it("matches In-Reply-To to the email, marks the contact replied and stops its sequence", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    expect(await Replies.applyInbound(inbound("ses-inbound-reply.json", sent[0]!))).toBe("replied");
    expect(await ccStatus(campaign.id, sent[0]!.contactId)).toBe("replied");
    expect((await stats(ws, campaign.id)).replied).toBe(1);
    const reply = (await events(sent[0]!.messageId)).find((e) => e.type === "replied")!;
    expect(reply.metadata).toMatchObject({ subject: "Re: John, quick question", automatic: false, source: "ses-inbound" });
    expect(String(reply.metadata.preview).length).toBeGreaterThan(0);
    expect(String(reply.metadata.preview)).not.toMatch(/^>/);
    expect(await Replies.applyInbound(inbound("ses-inbound-reply.json", sent[0]!))).toBe("duplicate");
  });

  it("records an out-of-office as automatic, without stopping the sequence, holding it until after the return date", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    expect(await Replies.applyInbound(inbound("ses-inbound-out-of-office.json", sent[0]!))).toBe("automatic");
    expect(await ccStatus(campaign.id, sent[0]!.contactId)).toBe("in_progress");
    expect((await stats(ws, campaign.id)).replied).toBe(0);
    // "until Monday 26 January" (the quoted original below is not read): the first send day after
    // it in the campaign's timezone (UTC, 09:00–18:00) is Tuesday 27th at 09:00.
    expect((await events(sent[0]!.messageId)).find((e) => e.type === "replied")!.metadata).toMatchObject({
      automatic: true,
      returnDate: "2026-01-26",
      holdUntil: "2026-01-27T09:00:00.000Z",
    });
    const [cc] = await Database.rows<{ hold_until: Date | string; next_run_at: Date | string }>(
      sql`SELECT hold_until, next_run_at FROM campaign_contact WHERE campaign_id = ${campaign.id}`,
    );
    expect(Database.toDate(cc!.hold_until).toISOString()).toBe("2026-01-27T09:00:00.000Z");
    expect(Database.toDate(cc!.next_run_at).toISOString()).toBe("2026-01-27T09:00:00.000Z");
  });

  it.each([
    ["Auto-Submitted", "Auto-Submitted: auto-replied", "Re: hello"],
    ["X-Autoreply", "X-Autoreply: yes", "Re: hello"],
    ["an English out-of-office subject", "X-Other: 1", "Out of Office: hello"],
    ["a French out-of-office subject", "X-Other: 1", "Réponse automatique : absent jusqu'au 3"],
    ["an Automatic reply subject", "X-Other: 1", "Automatic reply: hello"],
  ])("detects %s as automatic", async (_, header, subject) => {
    const raw = `From: a@b.c\r\nSubject: ${subject}\r\n${header}\r\nIn-Reply-To: <x@email.amazonses.com>\r\n\r\nbody`;
    expect((await Replies.parseReply(raw)).automatic).toBe(true);
  });

  it("does not take an ordinary reply for an automatic one", async () => {
    const parsed = await Replies.parseReply(
      "From: a@b.c\r\nSubject: Re: quick question\r\nAuto-Submitted: no\r\n\r\nSounds good\r\n\r\nOn Mon, X wrote:\r\n> hi",
    );
    expect(parsed).toMatchObject({ automatic: false, preview: "Sounds good" });
  });

  it("keeps a reply to nothing of ours for diagnosis", async () => {
    const record = fixture("ses-inbound-reply.json");
    record.mail.messageId = "stray-reply";
    expect(await Replies.applyInbound(record)).toBe("unmatched");
  });
});
