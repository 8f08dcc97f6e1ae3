import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { Machine } from "@fluenzr/core/message";
import * as Stats from "@fluenzr/core/stats";
import { applySesEvent } from "@fluenzr/core/tracking";
import type * as Records from "@fluenzr/local/records";
import { useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { fixture, sentCampaign } from "./sent-campaign";

/**
 * Machine opens and clicks (docs/machine-events.md): each rule's fixture, a realistic SES record,
 * gives its documented class; the statistics count them exactly on a hand-computed example.
 */

useTestDatabase();

/**
 * A fixture pointed at one of our emails, keeping its timing: the fixture's event came so long
 * after its own `mail.timestamp` (when SES accepted it), ours comes as long after our email's.
 */
function retimed(path: string, email: Records.SentEmail) {
  const record = fixture(path);
  const detail = record.eventType === "Open" ? record.open : record.click;
  const offset = new Date(detail.timestamp).getTime() - new Date(record.mail.timestamp).getTime();
  record.mail.messageId = email.sesMessageId;
  record.mail.tags = { ...record.mail.tags, message: [email.messageId], campaign: [email.campaignId], contact: [email.contactId] };
  detail.timestamp = new Date(email.sentAt.getTime() + offset).toISOString();
  return record;
}

const judged = (email: Records.SentEmail) =>
  Database.rows<{ type: string; machine: boolean; reason: string | null }>(sql`
    SELECT type, (metadata->>'machine')::boolean AS machine, metadata->>'machineReason' AS reason
    FROM event WHERE message_id = ${email.messageId} AND type IN ('opened', 'clicked') ORDER BY occurred_at, id`);

const milestones = async (email: Records.SentEmail) =>
  (
    await Database.rows<Record<string, Date | string | null>>(sql`
      SELECT opened_at, human_opened_at, machine_opened_at, clicked_at, human_clicked_at, machine_clicked_at
      FROM message WHERE id = ${email.messageId}`)
  )[0]!;

/** Each fixture, alone on its email: the class the documentation gives it. */
const CASES: Array<[fixture: string, reason: string | null]> = [
  ["ses-events/open.json", null],
  ["ses-events/click.json", null],
  ["machine-events/open-apple-mpp.json", "apple-mpp"],
  ["machine-events/open-gmail-prefetch.json", "image-prefetch"],
  ["machine-events/open-gmail-reader.json", null],
  ["machine-events/open-gateway.json", "security-scanner"],
  ["machine-events/open-too-fast.json", "too-fast"],
  ["machine-events/click-safe-links.json", "security-scanner"],
  ["machine-events/click-headless.json", "security-scanner"],
  ["machine-events/click-no-user-agent.json", "security-scanner"],
  ["machine-events/click-too-fast.json", "too-fast"],
];

describe("machine opens and clicks", () => {
  it("each rule's fixture gives its documented class, in the activity feed and on the email", async () => {
    for (const [name, reason] of CASES) {
      const email = (await sentCampaign(1)).sent[0]!;
      expect(await applySesEvent(retimed(name, email)), name).toBe("applied");
      const [event] = await judged(email);
      expect({ name, machine: event!.machine, reason: event!.reason }).toEqual({ name, machine: reason !== null, reason });
      const kind = event!.type === "opened" ? "opened" : "clicked";
      const row = await milestones(email);
      expect(row[`${kind}_at`], name).not.toBeNull();
      expect(row[`human_${kind}_at`] !== null, name).toBe(reason === null);
      expect(row[`machine_${kind}_at`] !== null, name).toBe(reason !== null);
    }
  });

  it("a burst: clicks on every link within two seconds are a scanner's after the first", async () => {
    const { sent } = await sentCampaign(1);
    const email = sent[0]!;
    for (const n of [1, 2, 3]) await applySesEvent(retimed(`machine-events/click-burst-${n}.json`, email));
    // The first click of a burst is judged alone (here a browser from an ordinary address, long
    // after sending): the documented limit of judging each event as it arrives.
    expect((await judged(email)).map((e) => e.reason)).toEqual([null, "burst", "burst"]);
    // The same link twice is a reader reloading, not a burst.
    const { sent: other } = await sentCampaign(1);
    const again = retimed("machine-events/click-burst-1.json", other[0]!);
    await applySesEvent(again);
    again.click.timestamp = new Date(new Date(again.click.timestamp).getTime() + 500).toISOString();
    await applySesEvent(again);
    expect((await judged(other[0]!)).map((e) => e.reason)).toEqual([null, null]);
  });

  it("the timing rules are about the email's sending: the same reader's open is human a minute later", () => {
    const iphone = { userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15", ipAddress: "198.51.100.7" };
    expect(Machine.classifyOpen(iphone)).toEqual({ reason: null, withinSeconds: 10, timedReason: "too-fast" });
    expect(Machine.classifyOpen({ userAgent: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html" })).toEqual({
      reason: null,
      withinSeconds: 60,
      timedReason: "image-prefetch",
    });
    expect(Machine.classifyOpen({ userAgent: "Mozilla/5.0 (Macintosh)", ipAddress: "17.1.2.3" }).reason).toBe("apple-mpp");
    expect(Machine.classifyOpen({ userAgent: "Mozilla/5.0 (Macintosh)", ipAddress: "2a01:111:f400::1" }).reason).toBe("security-scanner");
    expect(Machine.classifyClick({ userAgent: "python-requests/2.31.0", ipAddress: "203.0.113.9" }).reason).toBe("security-scanner");
    expect(Machine.classifyClick({ userAgent: "Mozilla/5.0 (compatible; Mimecast URL Protect)" }).reason).toBe("security-scanner");
    expect(Machine.classifyClick({ userAgent: "Mozilla/5.0", ipAddress: "198.51.100.7" }).reason).toBe("security-scanner");
    expect(Machine.classifyClick(iphone)).toEqual({ reason: null, withinSeconds: 30, timedReason: "too-fast" });
    expect(Machine.classifyClick({ userAgent: iphone.userAgent, ipAddress: "not an address" }).reason).toBeNull();
  });

  it("statistics and rates, hand-computed: six emails delivered, machine and human opens and clicks", async () => {
    const { ws, campaign, sent } = await sentCampaign(6);
    const [a, b, c, d] = sent as [Records.SentEmail, Records.SentEmail, Records.SentEmail, Records.SentEmail];
    for (const email of sent) {
      const delivery = fixture("ses-events/delivery.json");
      delivery.mail.messageId = email.sesMessageId;
      delivery.mail.tags = { ...delivery.mail.tags, message: [email.messageId] };
      delivery.delivery.timestamp = new Date(email.sentAt.getTime() + 1203).toISOString();
      expect(await applySesEvent(delivery)).toBe("applied");
    }
    // a: Apple Mail Privacy Protection prefetches, then its reader opens (human and machine).
    await applySesEvent(retimed("machine-events/open-apple-mpp.json", a));
    await applySesEvent(retimed("ses-events/open.json", a));
    // b: Gmail's proxy prefetches as the email arrives, nobody reads it (machine only).
    await applySesEvent(retimed("machine-events/open-gmail-prefetch.json", b));
    // c: read in Gmail an hour and a half later, and a link clicked (human open and click).
    await applySesEvent(retimed("machine-events/open-gmail-reader.json", c));
    await applySesEvent(retimed("ses-events/click.json", c));
    // d: a gateway follows the link; no open (machine click only). e and f: delivered only.
    await applySesEvent(retimed("machine-events/click-safe-links.json", d));

    // Over delivered (6): opened 3 → 50 %, humanOpened 2 → 33.3 %, clicked 2 → 33.3 %, humanClicked 1 → 16.7 %.
    const global = await ws.as(() => Stats.global(campaign.id));
    expect(global).toMatchObject({
      sent: 6,
      delivered: 6,
      opened: 3,
      openRate: 50,
      clicked: 2,
      clickRate: 33.3,
      humanOpened: 2,
      humanOpenRate: 33.3,
      machineOpened: 2,
      humanClicked: 1,
      humanClickRate: 16.7,
      machineClicked: 1,
    });
    const [first, second] = await ws.as(() => Stats.byEmail(campaign.id));
    expect(first).toMatchObject({
      sent: 6,
      opened: 3,
      openRate: 50,
      humanOpened: 2,
      humanOpenRate: 33.3,
      machineOpened: 2,
      clicked: 2,
      humanClicked: 1,
      humanClickRate: 16.7,
      machineClicked: 1,
    });
    expect(second).toMatchObject({ sent: 0, humanOpened: 0, humanOpenRate: 0, machineOpened: 0, humanClicked: 0, machineClicked: 0 });
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats).toMatchObject({
      opened: 3,
      humanOpened: 2,
      machineOpened: 2,
      clicked: 2,
      humanClicked: 1,
      machineClicked: 1,
    });
    const [day] = await ws.as(() => Stats.timeline(campaign.id, { from: "2026-01-12", to: "2026-01-12", interval: "day" }));
    expect(day).toMatchObject({ opened: 3, humanOpened: 2, machineOpened: 2, clicked: 2, humanClicked: 1, machineClicked: 1 });
    // The first human open is kept on the email (what conditions and A/B winners read).
    expect(Database.toDate((await milestones(a)).human_opened_at).getTime()).toBe(a.sentAt.getTime() + (72 * 60 + 44) * 1000 + 511);
  });
});
