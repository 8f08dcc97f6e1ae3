import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { applySesEvent, Guard } from "@fluenzr/core/tracking";
import * as Records from "@fluenzr/local/records";
import { factory, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { about, TWO_EMAILS } from "./sent-campaign";

useTestDatabase();

let engine: TestEngine | undefined;
afterEach(() => {
  engine?.restore();
  engine = undefined;
});

/** A started campaign whose `contacts` first emails went out in its first minute. */
async function sentCampaign(contacts: number, settings: Campaign.Schema.SettingsInput = {}) {
  engine = testEngine({ start: "2026-01-12T09:00:00Z" });
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const ids: string[] = [];
  for (let i = 0; i < contacts; i++) ids.push((await factory.contact(ws, { firstName: `P${i}` })).id);
  const campaign = await ws.as(() =>
    Campaign.create({ name: "t", emailAccountId: account.id, settings: { maxEmailsPerHour: 6000, ...settings }, workflow: TWO_EMAILS }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: ids }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  await engine.runMinute();
  const sent = await Promise.all(engine.mailer.sent.map(async (e) => (await Records.sentEmail(e.tags.message!))!));
  expect(sent).toHaveLength(contacts);
  const get = () => ws.as(async () => (await Campaign.fromID(campaign.id))!);
  resumeAs = (id) => ws.as(() => Campaign.transition(id, "resume"));
  return { ws, campaign, sent, get };
}

let resumeAs: ((id: string) => Promise<Campaign.Campaign>) | undefined;
const campaign_resume = (id: string) => resumeAs!(id);

const pausedEvents = (campaignId: string) =>
  Database.rows<{ metadata: Record<string, unknown>; message_id: string }>(
    sql`SELECT metadata, message_id FROM event WHERE campaign_id = ${campaignId} AND type = 'paused'`,
  );

describe("deliverability guard: the verdict", () => {
  const limits = { maxBounceRate: 5, maxComplaintRate: 0.3 };
  it.each([
    [{ sent: 19, bounced: 19, complained: 19 }, undefined],
    // 5% is the limit, not past it.
    [{ sent: 20, bounced: 1, complained: 0 }, undefined],
    [
      { sent: 20, bounced: 2, complained: 0 },
      { code: "BOUNCE_RATE", rate: 10, threshold: 5 },
    ],
    [
      { sent: 200, bounced: 11, complained: 0 },
      { code: "BOUNCE_RATE", rate: 5.5, threshold: 5 },
    ],
    [
      { sent: 30, bounced: 2, complained: 0 },
      { code: "BOUNCE_RATE", rate: 6.67, threshold: 5 },
    ],
    [
      { sent: 200, bounced: 0, complained: 1 },
      { code: "COMPLAINT_RATE", rate: 0.5, threshold: 0.3 },
    ],
    [{ sent: 400, bounced: 0, complained: 1 }, undefined],
    [
      { sent: 20, bounced: 2, complained: 1 },
      { code: "BOUNCE_RATE", rate: 10, threshold: 5 },
    ],
  ])("%j gives %j", (counts, expected) => {
    expect(Guard.verdict(counts, limits)).toEqual(expected);
  });
});

describe("deliverability guard: bounces and complaints pause the campaign", () => {
  it("pauses at the bounce that crosses the limit, with the reason in the campaign and the feed; resume starts a new window", async () => {
    const { campaign, sent, get } = await sentCampaign(30);
    expect(await applySesEvent(about("bounce-permanent", sent[0]!, "2026-01-12T09:01:00.000Z"))).toBe("applied");
    expect((await get()).status).toBe("active"); // 1/30 = 3.33%
    // A soft bounce does not count.
    expect(await applySesEvent(about("bounce-transient", sent[1]!, "2026-01-12T09:01:01.000Z"))).toBe("applied");
    expect((await get()).status).toBe("active");
    expect(await applySesEvent(about("bounce-permanent", sent[2]!, "2026-01-12T09:01:02.000Z"))).toBe("applied");
    const paused = await get();
    expect(paused.status).toBe("paused");
    expect(paused.pausedReason).toEqual({ code: "BOUNCE_RATE", rate: 6.67, threshold: 5, at: expect.any(String) });
    const [event] = await pausedEvents(campaign.id);
    expect(event).toEqual({
      message_id: sent[2]!.messageId,
      metadata: { code: "BOUNCE_RATE", rate: 6.67, threshold: 5, at: paused.pausedReason!.at, sent: 30, bounced: 2, complained: 0 },
    });
    // Nothing more goes out while paused.
    const before = engine!.mailer.sent.length;
    await engine!.run(60 * 24 * 4);
    expect(engine!.mailer.sent.length).toBe(before);
    // A third bounce of the old window neither pauses again nor records another event.
    const resumed = await campaign_resume(campaign.id);
    expect(resumed.status).toBe("active");
    expect(resumed.pausedReason).toBeUndefined();
    expect(await applySesEvent(about("bounce-permanent", sent[3]!, "2026-01-12T09:01:03.000Z"))).toBe("applied");
    expect((await get()).status).toBe("active");
    expect(await pausedEvents(campaign.id)).toHaveLength(1);
  });

  it("pauses on a complaint past maxComplaintRate", async () => {
    const { sent, get } = await sentCampaign(25);
    expect(await applySesEvent(about("complaint", sent[0]!, "2026-01-12T09:01:00.000Z"))).toBe("applied");
    expect((await get()).pausedReason).toEqual({ code: "COMPLAINT_RATE", rate: 4, threshold: 0.3, at: expect.any(String) });
    expect((await get()).status).toBe("paused");
  });

  it("follows the campaign's own limits, and waits for 20 sent emails", async () => {
    const lenient = await sentCampaign(20, { maxBounceRate: 20 });
    for (const email of lenient.sent.slice(0, 4)) await applySesEvent(about("bounce-permanent", email, "2026-01-12T09:01:00.000Z"));
    expect((await lenient.get()).status).toBe("active"); // 20% is the limit
    engine!.restore();
    const small = await sentCampaign(10);
    for (const email of small.sent.slice(0, 5)) await applySesEvent(about("bounce-permanent", email, "2026-01-12T09:01:00.000Z"));
    expect((await small.get()).status).toBe("active");
  });

  it("concurrent bounces of one campaign are counted one after the other: one pause, one event", async () => {
    // 6 bounces in 40 (15%) arrive at once: each check sees the bounces committed before it.
    const { campaign, sent, get } = await sentCampaign(40);
    const results = await Promise.all(
      sent.slice(0, 6).map((email, i) => applySesEvent(about("bounce-permanent", email, `2026-01-12T09:01:0${i}.000Z`))),
    );
    expect(results).toEqual(Array(6).fill("applied"));
    expect((await get()).pausedReason).toMatchObject({ code: "BOUNCE_RATE", threshold: 5 });
    const events = await pausedEvents(campaign.id);
    expect(events).toHaveLength(1);
    // The pause happened at the third bounce committed (3/40 = 7.5%), whichever it was.
    expect(events[0]!.metadata).toMatchObject({ rate: 7.5, sent: 40, bounced: 3 });
  });
});
