import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Log from "@fluenzr/core/log";
import { applySesEvent, SesQueue } from "@fluenzr/core/tracking";
import type * as Records from "@fluenzr/local/records";
import { useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it, onTestFinished } from "vitest";
import { about, ccStatus, fixture, sentCampaign, stats } from "./sent-campaign";

/**
 * SES events through their SQS queue (tracking/ses-queue): a batch ends exactly as the same
 * events applied one by one, its deliveries, opens and clicks cost one round trip, and one bad
 * record neither fails nor holds back the others.
 */

useTestDatabase();

type Made = (sent: Records.SentEmail[]) => unknown;

/** Every kind of record, about the emails of one campaign: each type, redeliveries, an earlier occurrence arriving late. */
const MIXED: Made[] = [
  (s) => about("send", s[0]!, "2026-01-12T09:00:01.000Z"),
  (s) => about("delivery", s[0]!, "2026-01-12T09:00:05.000Z"),
  (s) => about("delivery", s[1]!, "2026-01-12T09:00:06.000Z"),
  (s) => about("open", s[0]!, "2026-01-12T10:00:00.000Z"),
  (s) => about("open", s[0]!, "2026-01-12T09:30:00.000Z"),
  (s) => about("click", s[0]!, "2026-01-12T10:01:00.000Z"),
  (s) => about("delivery", s[0]!, "2026-01-12T09:00:05.000Z"),
  (s) => about("delivery-delay", s[2]!, "2026-01-12T09:00:07.000Z"),
  (s) => about("bounce-transient", s[2]!, "2026-01-12T09:00:08.000Z"),
  (s) => about("bounce-permanent", s[3]!, "2026-01-12T09:00:09.000Z"),
  (s) => about("delivery", s[3]!, "2026-01-12T09:00:02.000Z"),
  (s) => about("complaint", s[1]!, "2026-01-12T11:00:00.000Z"),
  (s) => about("open", s[1]!, "2026-01-12T10:30:00.000Z"),
  (s) => about("reject", s[4]!, "2026-01-12T09:00:03.000Z"),
  (s) => about("open", s[0]!, "2026-01-12T10:00:00.000Z"),
  (s) => ({
    ...about("delivery", s[0]!, "2026-01-12T09:00:05.000Z"),
    mail: { messageId: "ses-unknown", timestamp: "2026-01-12T09:00:00.000Z" },
  }),
  () => ({ eventType: "Subscription", mail: { messageId: "x", timestamp: "2026-01-12T09:00:00.000Z" } }),
  () => ({ eventType: "Open" }),
];

/** What a campaign's events left: its counters, each email's recorded events, each contact's state. */
async function outcome(run: Awaited<ReturnType<typeof sentCampaign>>) {
  const { ws, campaign, sent } = run;
  const counters = await stats(ws, campaign.id);
  const perEmail = [];
  for (const email of sent) {
    const events = await Database.rows<{ type: string; metadata: Record<string, unknown>; occurred_at: Date | string }>(
      sql`SELECT type, metadata, occurred_at FROM event WHERE message_id = ${email.messageId} ORDER BY occurred_at, type`,
    );
    const [message] = await Database.rows<Record<string, unknown>>(
      sql`SELECT status, delivered_at, opened_at, clicked_at, bounced_at, complained_at, failed_at, human_opened_at FROM message WHERE id = ${email.messageId}`,
    );
    perEmail.push({
      events: events.map((e) => ({ ...e, occurred_at: Database.toDate(e.occurred_at).toISOString() })),
      message,
      sequence: await ccStatus(campaign.id, email.contactId),
      contact: (await ws.as(() => Contact.fromID(email.contactId)))?.status,
    });
  }
  // The two campaigns' ids told apart by position only.
  let text = JSON.stringify({ counters, perEmail });
  sent.forEach((email, i) => {
    for (const [name, id] of Object.entries({ msg: email.messageId, ses: email.sesMessageId, con: email.contactId }))
      text = text.replaceAll(id, `${name}#${i}`);
  });
  return JSON.parse(text.replaceAll(campaign.id, "cmp")) as unknown;
}

const body = (record: unknown) => JSON.stringify(record);

/** The warnings logged during the test (a batch that failed as a whole says so). */
function warnings(): string[] {
  const lines: string[] = [];
  Log.setLevel("warn");
  const restore = Log.setSink((line) => lines.push(line));
  onTestFinished(() => {
    restore();
    Log.setLevel(undefined);
  });
  return lines;
}
const fellBack = (lines: string[]) => lines.filter((l) => l.includes("SES event batch failed")).length;

describe("SES events from the queue", () => {
  it("a batch ends as the same events one by one, and says which failed: none", async () => {
    const one = await sentCampaign(5);
    const batch = await sentCampaign(5);
    for (const make of MIXED) await applySesEvent(make(one.sent));
    const records = MIXED.map((make, i) => ({ messageId: `q${i}`, body: body(make(batch.sent)) }));
    // Not JSON at all: acknowledged (it would never parse on a retry either).
    records.push({ messageId: "q-garbage", body: "{not json" });
    expect(await SesQueue.handle(records)).toEqual({ batchItemFailures: [] });
    const [expected, got] = [await outcome(one), await outcome(batch)];
    expect(got).toEqual(expected);
    // The comparison can fail: the batch really counted.
    expect((got as { counters: unknown }).counters).toMatchObject({ delivered: 3, opened: 2, clicked: 1, bounced: 1 });
  });

  it("takes a whole SNS notification as well as a raw record", async () => {
    const { ws, campaign, sent } = await sentCampaign(2);
    const envelope = fixture("sns-notification-envelope.json");
    const records = [
      { messageId: "raw", body: body(about("delivery", sent[0]!, "2026-01-12T09:00:05.000Z")) },
      { messageId: "sns", body: body({ ...envelope, Message: body(about("delivery", sent[1]!, "2026-01-12T09:00:06.000Z")) }) },
    ];
    expect(await SesQueue.handle(records)).toEqual({ batchItemFailures: [] });
    expect((await stats(ws, campaign.id)).delivered).toBe(2);
  });

  it("applies a batch's deliveries, opens and clicks in one round trip", async () => {
    const { ws, campaign, sent } = await sentCampaign(4);
    const warm = sent.flatMap((email, i) =>
      (["delivery", "open", "click"] as const).map((type, t) => ({
        messageId: `w${i}${t}`,
        body: body(about(type, email, `2026-01-12T09:5${t}:00.000Z`)),
      })),
    );
    // Every statement prepared on every connection of the pool first (a pool hands out any of them).
    for (let i = 0; i < 12; i++) await Promise.all([SesQueue.handle(warm), SesQueue.handle(warm)]);
    const records = sent.flatMap((email, i) => [
      { messageId: `d${i}`, body: body(about("delivery", email, "2026-01-12T09:00:05.000Z")) },
      { messageId: `o${i}`, body: body(about("open", email, "2026-01-12T10:00:00.000Z")) },
      { messageId: `c${i}`, body: body(about("click", email, "2026-01-12T10:01:00.000Z")) },
    ]);
    const before = Database.roundTrips();
    expect(await SesQueue.handle(records)).toEqual({ batchItemFailures: [] });
    expect(Database.roundTrips() - before).toBe(1);
    expect(await stats(ws, campaign.id)).toMatchObject({ delivered: 4, opened: 4, clicked: 4 });
  });

  it("one event the database refuses: the others are applied, it alone comes back", async () => {
    const { ws, campaign, sent } = await sentCampaign(3);
    const logged = warnings();
    // A click on a link with a NUL escape: JSON allows it, PostgreSQL's jsonb does not.
    const poison = about("click", sent[1]!, "2026-01-12T10:01:00.000Z");
    poison.click.link = "https://example.com/\u0000";
    const records = [
      { messageId: "a", body: body(about("delivery", sent[0]!, "2026-01-12T09:00:05.000Z")) },
      { messageId: "poison", body: body(poison) },
      { messageId: "b", body: body(about("open", sent[2]!, "2026-01-12T10:00:00.000Z")) },
      { messageId: "c", body: body(about("bounce-permanent", sent[2]!, "2026-01-12T10:05:00.000Z")) },
    ];
    expect(await SesQueue.handle(records)).toEqual({ batchItemFailures: [{ itemIdentifier: "poison" }] });
    expect(fellBack(logged)).toBe(1);
    expect(await stats(ws, campaign.id)).toMatchObject({ delivered: 1, opened: 1, clicked: 0, bounced: 1 });
    // Delivered again (SQS), the others are duplicates now: nothing counts twice.
    expect(await SesQueue.handle(records.filter((r) => r.messageId !== "poison"))).toEqual({ batchItemFailures: [] });
    expect(await stats(ws, campaign.id)).toMatchObject({ delivered: 1, opened: 1, clicked: 0, bounced: 1 });
  });

  it("hostile values travel as data: quotes, backslashes and SQL in every field", async () => {
    const { ws, campaign, sent } = await sentCampaign(1);
    const hostile = `x'); DROP TABLE event; -- \\'\\\\ "quoted" $1 $$ E'\\n'`;
    const open = about("open", sent[0]!, "2026-01-12T10:00:00.000Z");
    open.open.userAgent = hostile;
    const click = about("click", sent[0]!, "2026-01-12T10:01:00.000Z");
    click.click.link = `https://example.com/?q=${hostile}`;
    const unknown = about("delivery", sent[0]!, "2026-01-12T09:00:05.000Z");
    unknown.mail.tags.message = [hostile];
    unknown.mail.messageId = hostile;
    const records = [open, click, unknown].map((r, i) => ({ messageId: `h${i}`, body: body(r) }));
    expect(await SesQueue.handle(records)).toEqual({ batchItemFailures: [] });
    const recorded = await Database.rows<{ type: string; metadata: Record<string, unknown> }>(
      sql`SELECT type, metadata FROM event WHERE message_id = ${sent[0]!.messageId} AND type IN ('opened', 'clicked') ORDER BY type DESC`,
    );
    expect(recorded.map((e) => (e.type === "clicked" ? e.metadata.link : e.metadata.userAgent))).toEqual([
      hostile,
      `https://example.com/?q=${hostile}`,
    ]);
    expect(await stats(ws, campaign.id)).toMatchObject({ opened: 1, clicked: 1, delivered: 0 });
  });

  it("two batches with the same emails in opposite orders both finish (no lock cycle)", async () => {
    const { ws, campaign, sent } = await sentCampaign(6);
    const logged = warnings();
    const forward = sent.flatMap((email, i) => [
      { messageId: `f${i}`, body: body(about("open", email, `2026-01-12T10:0${i}:00.000Z`)) },
      { messageId: `g${i}`, body: body(about("click", email, `2026-01-12T10:1${i}:00.000Z`)) },
    ]);
    const backward = [...sent]
      .reverse()
      .map((email, i) => ({ messageId: `b${i}`, body: body(about("delivery", email, "2026-01-12T09:00:05.000Z")) }));
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all([SesQueue.handle(forward), SesQueue.handle(backward), SesQueue.handle([...forward].reverse())]);
      for (const result of results) expect(result).toEqual({ batchItemFailures: [] });
    }
    expect(await stats(ws, campaign.id)).toMatchObject({ delivered: 6, opened: 6, clicked: 6 });
    // Each batch went through whole: none deadlocked and fell back to one by one.
    expect(fellBack(logged)).toBe(0);
  });
});
