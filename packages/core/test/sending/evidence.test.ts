import * as Campaign from "@fluenzr/core/campaign";
import * as Clock from "@fluenzr/core/clock";
import * as Database from "@fluenzr/core/database";
import { Evidence, Mailer, sweep } from "@fluenzr/core/sending";
import { applySesEvent } from "@fluenzr/core/tracking";
import * as Records from "@fluenzr/local/records";
import {
  campaignContactRows,
  engineSuite,
  FakeMailer,
  factory,
  MONDAY_9_PARIS,
  startedCampaign,
  type TestEngine,
  type TestWorkspace,
} from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

const MARGIN = 10 * 60_000;

let engine: TestEngine;
const startEngine = engineSuite();

/** SES took the email, but its answer never reached the sender (a kill, a lost connection). */
class AnswerLostMailer extends FakeMailer {
  lose = 0;
  override async send(email: Mailer.OutgoingEmail) {
    const result = await super.send(email);
    if (this.lose > 0) {
      this.lose--;
      throw new Mailer.MailerError("unknown", "socket hang up");
    }
    return result;
  }
}

const messagesTo = (email: string) => engine.mailer.sent.filter((m) => m.to === email);

/** SES's `Send` event for an email it took (the fake mailer's record of it). */
async function sendEvent(sent: FakeMailer["sent"][number]) {
  const row = (await Records.messageRow(sent.tags.message!))!;
  return applySesEvent(Records.sesRecord("send", { ...row, sesMessageId: sent.messageId, sentAt: new Date(sent.at) }, new Date(sent.at)));
}

async function probeSendEvent(probe: FakeMailer["sent"][number]) {
  const timestamp = new Date(probe.at).toISOString();
  return applySesEvent({
    eventType: "Send",
    mail: { messageId: probe.messageId, timestamp, tags: { probe: [probe.tags.probe] } },
    send: {},
  });
}

const sending = async (ws: TestWorkspace, campaignId: string) =>
  (await ws.as(() => Campaign.Enrolment.list(campaignId, { page: 1, perPage: 100 }))).data.filter((c) => c.sending);

/** One campaign, its first contact's email of unknown fate (SES never got it), the others sent. */
async function unknownFirst(contacts = 2) {
  engine = startEngine({ start: MONDAY_9_PARIS });
  const ws = await factory.workspace();
  engine.mailer.next("unknown");
  const started = await startedCampaign(ws, { contacts });
  await engine.runMinute();
  const unknown = started.contacts.find((c) => messagesTo(c.email).length === 0)!;
  return { ws, ...started, unknown };
}

describe("emails of unknown fate, settled by evidence", () => {
  it("shows the unknown email in the campaign's contacts, then resends it once after later emails' Send events and the margin", async () => {
    const { ws, campaign, account, unknown } = await unknownFirst();
    const [shown] = await sending(ws, campaign.id);
    expect(shown).toMatchObject({ contactId: unknown.id, status: "pending", sending: { nodeId: "email1", since: Clock.now() } });

    // A later email of the same account, whose Send event arrives now.
    engine.clock.advance(60_000);
    const later = await factory.contact(ws, { firstName: "Later" });
    const other = await ws.as(() =>
      Campaign.create({
        name: "other",
        emailAccountId: account.id,
        settings: { timezone: "Europe/Paris", maxEmailsPerHour: 600 },
        workflow: campaign.workflow!,
      }),
    );
    await ws.as(() => Campaign.Enrolment.add(other.id, { contactIds: [later.id] }));
    await ws.as(() => Campaign.transition(other.id, "start"));
    await engine.run(2);
    expect(await sendEvent(messagesTo(later.email)[0]!)).toBe("applied");

    // Within the margin nothing is judged: its own Send event may still be on its way.
    engine.clock.advance(MARGIN - 1_000);
    expect((await sweep({ unknownMarginMs: MARGIN })).unknownResent).toBe(0);
    engine.clock.advance(1_000);
    const report = await sweep({ unknownMarginMs: MARGIN });
    expect(report.unknownResent).toBe(1);
    expect(messagesTo(Evidence.PROBE_RECIPIENT)).toEqual([]);
    expect(await sending(ws, campaign.id)).toEqual([]);

    await engine.runMinute();
    expect(messagesTo(unknown.email)).toHaveLength(1);
    await engine.run(3);
    expect(messagesTo(unknown.email)).toHaveLength(1);
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats).toMatchObject({ sent: 2 });
  });

  it("settles as sent, never resending, when its own Send event comes", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS, mailer: new AnswerLostMailer() });
    (engine.mailer as AnswerLostMailer).lose = 1;
    const ws = await factory.workspace();
    const { campaign, contacts } = await startedCampaign(ws, { contacts: 2 });
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(2);
    const lost = engine.mailer.sent[0]!;
    expect(await sending(ws, campaign.id)).toHaveLength(1);
    // The other email's Send event is evidence, but the lost one's own comes too.
    for (const sent of engine.mailer.sent) expect(await sendEvent(sent)).toBe("applied");
    engine.clock.advance(MARGIN + 60_000);
    expect((await sweep({ unknownMarginMs: MARGIN })).unknownResent).toBe(0);
    await engine.run(3);
    for (const c of contacts) expect(messagesTo(c.email)).toHaveLength(1);
    expect(lost.to).toBeDefined();
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats).toMatchObject({ sent: 2 });
    expect(await sending(ws, campaign.id)).toEqual([]);
  });

  it("takes no evidence from another account's emails", async () => {
    const { ws, unknown, campaign, account } = await unknownFirst();
    const unknownAccount = (_: string) => account.email;
    engine.clock.advance(60_000);
    const elsewhere = await startedCampaign(ws, { contacts: 1 });
    await engine.runMinute();
    await sendEvent(messagesTo(elsewhere.contacts[0]!.email)[0]!);
    engine.clock.advance(MARGIN);
    // No later email of its account: a probe is sent instead of judging.
    const report = await sweep({ unknownMarginMs: MARGIN });
    expect(report.unknownResent).toBe(0);
    expect(messagesTo(Evidence.PROBE_RECIPIENT).map((p) => p.from.email)).toContain(unknownAccount(campaign.id));
    expect(messagesTo(unknown.email)).toHaveLength(0);
    expect(await sending(ws, campaign.id)).toHaveLength(1);
  });

  it("probes a silent account through SES's mailbox simulator, at most once per margin, and judges by the probe's Send event", async () => {
    const { ws, campaign, account, unknown } = await unknownFirst();
    engine.clock.advance(MARGIN);
    await sweep({ unknownMarginMs: MARGIN });
    const probe = messagesTo(Evidence.PROBE_RECIPIENT).find((p) => p.from.email === account.email)!;
    expect(probe).toMatchObject({
      from: { email: account.email },
      configurationSet: "cs-none",
      headers: [{ name: Evidence.PROBE_HEADER, value: probe.tags.probe }],
    });
    await sweep({ unknownMarginMs: MARGIN });
    expect(messagesTo(Evidence.PROBE_RECIPIENT).filter((p) => p.from.email === account.email)).toHaveLength(1);

    expect(await probeSendEvent(probe)).toBe("applied");
    expect(await probeSendEvent(probe)).toBe("applied"); // a replay changes nothing
    await sweep({ unknownMarginMs: MARGIN });
    expect(await sending(ws, campaign.id)).toHaveLength(1);
    engine.clock.advance(MARGIN);
    await sweep({ unknownMarginMs: MARGIN });
    await engine.runMinute();
    expect(messagesTo(unknown.email)).toHaveLength(1);
    expect(await sending(ws, campaign.id)).toEqual([]);
  });

  it("ignores a probe's other events, and an unknown probe id", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const timestamp = Clock.now().toISOString();
    expect(await applySesEvent({ eventType: "Send", mail: { messageId: "x-1", timestamp, tags: { probe: ["prb_nope"] } }, send: {} })).toBe(
      "unmatched",
    );
    expect(
      await applySesEvent({
        eventType: "Delivery",
        mail: { messageId: "x-1", timestamp, tags: { probe: ["prb_nope"] } },
        delivery: { timestamp },
      }),
    ).toBe("ignored");
  });

  it("records a failed probe and tries again after the margin", async () => {
    const { ws, campaign, account } = await unknownFirst();
    engine.clock.advance(MARGIN);
    engine.mailer.decide = (email) => (email.from.email === account.email ? "throttled" : "ok");
    await sweep({ unknownMarginMs: MARGIN });
    engine.mailer.decide = undefined;
    const probes = () =>
      Database.rows<{ error: string | null }>(sql`SELECT error FROM ses_probe WHERE email_account_id = ${account.id} ORDER BY created_at`);
    expect(await probes()).toEqual([{ error: "injected throttled" }]);
    await sweep({ unknownMarginMs: MARGIN });
    expect(await probes()).toHaveLength(1);
    engine.clock.advance(MARGIN + 1);
    await sweep({ unknownMarginMs: MARGIN });
    expect(await probes()).toEqual([{ error: "injected throttled" }, { error: null }]);
    expect(await sending(ws, campaign.id)).toHaveLength(1);
  });

  it("reads the margin from UNKNOWN_SEND_MARGIN_SECONDS, defaulting to 15 minutes", () => {
    expect(Evidence.marginFromEnv({})).toBe(15 * 60_000);
    expect(Evidence.marginFromEnv({ UNKNOWN_SEND_MARGIN_SECONDS: "90" })).toBe(90_000);
    expect(Evidence.marginFromEnv({ UNKNOWN_SEND_MARGIN_SECONDS: "-1" })).toBe(15 * 60_000);
  });

  it("leaves the contacts of unknown emails alone when the sequence moved on (removed and re-added)", async () => {
    const { ws, campaign, unknown, account } = await unknownFirst();
    await ws.as(() => Campaign.Enrolment.remove(campaign.id, { contactIds: [unknown.id] }));
    engine.clock.advance(MARGIN);
    await sweep({ unknownMarginMs: MARGIN });
    const probe = messagesTo(Evidence.PROBE_RECIPIENT).find((p) => p.from.email === account.email)!;
    await probeSendEvent(probe);
    engine.clock.advance(MARGIN);
    await sweep({ unknownMarginMs: MARGIN });
    const left = await Database.rows(sql`SELECT id FROM message WHERE campaign_id = ${campaign.id} AND status = 'sending'`);
    expect(left).toEqual([]);
    expect((await campaignContactRows(campaign.id)).map((r) => r.contact_id)).not.toContain(unknown.id);
    await engine.run(2);
    expect(messagesTo(unknown.email)).toHaveLength(0);
  });
});
