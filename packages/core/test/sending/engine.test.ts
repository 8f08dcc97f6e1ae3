import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { Fault, Progress, SendBatch, sweep, tick } from "@fluenzr/core/sending";
import { campaignContactRows, engineSuite, factory, MONDAY_9_PARIS, sequence, startedCampaign, type TestEngine } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

let engine: TestEngine;
const startEngine = engineSuite();

describe("sending", () => {
  it("sends the first email inside the window, renders it, and schedules the next after 3 business days", async () => {
    engine = startEngine({ start: "2026-01-16T09:30:00Z" }); // Friday 10:30 Paris
    const ws = await factory.workspace();
    const { campaign, contacts, account } = await startedCampaign(ws, { contacts: 2 });
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(2);
    const email = engine.mailer.sent.find((e) => e.to === contacts[0]!.email)!;
    expect(email).toMatchObject({
      from: { email: account.email, name: "Sender" },
      subject: "Step 1 for C0",
      configurationSet: "cs-full",
      tags: { workspace: ws.id, campaign: campaign.id, contact: contacts[0]!.id, node: "email1", message: expect.stringMatching(/^msg_/) },
    });
    expect(email.text).toMatch(/^Hello C0, step 1\. https:\/\/api\.test\/v1\/unsubscribe\/[\w-]{32}$/);
    expect(email.html).toContain('<a href="https://api.test/v1/unsubscribe/');
    expect(email.headers).toEqual([
      { name: "List-Unsubscribe", value: `<${email.text.split(" ").at(-1)}>` },
      { name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click" },
    ]);
    const rows = await campaignContactRows(campaign.id);
    // Friday 10:30 Paris + 3 business days = Wednesday 10:30 Paris.
    expect(rows.map((r) => [r.status, r.current_node_id, Database.toDate(r.next_run_at).toISOString()])).toEqual([
      ["in_progress", "email2", "2026-01-21T09:30:00.000Z"],
      ["in_progress", "email2", "2026-01-21T09:30:00.000Z"],
    ]);
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats).toMatchObject({ totalContacts: 2, sent: 2 });
  });

  it("does not send outside the window, and sends when it opens", async () => {
    engine = startEngine({ start: "2026-01-17T10:00:00Z" }); // Saturday
    const ws = await factory.workspace();
    await startedCampaign(ws, { contacts: 1 });
    await engine.run(60);
    expect(engine.mailer.sent).toHaveLength(0);
    engine.clock.set(new Date("2026-01-19T07:59:00Z")); // Monday 08:59 Paris
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(0);
    engine.clock.set(new Date("2026-01-19T08:00:00Z"));
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(1);
  });

  it("spreads sends: at most ceil(max/60) a minute and max an hour", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    await startedCampaign(ws, { contacts: 12, settings: { maxEmailsPerHour: 120 }, workflow: sequence(1) });
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(2);
    await engine.run(10);
    expect(engine.mailer.sent).toHaveLength(12);
    const minutes = engine.mailer.sent.map((e) => Math.floor(e.at / 60_000));
    for (const m of new Set(minutes)) expect(minutes.filter((x) => x === m).length).toBeLessThanOrEqual(2);
  });

  it("sends each step once however often the job is delivered", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS, queue: { faults: { duplicate: 1 } } });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 3 });
    await engine.runMinute();
    // Deliver every job again, as SQS may.
    for (const m of engine.queue.messages) m.visibleAt = 0;
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(3);
    const [counts] = await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM message WHERE campaign_id = ${campaign.id}`);
    expect(counts!.n).toBe(3);
  });

  it("retries a throttled email a minute later, without counting it", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 1 });
    engine.mailer.next("throttled");
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(0);
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats.sent).toBe(0);
    await engine.run(2);
    expect(engine.mailer.sent).toHaveLength(1);
  });

  it("fails the contact SES rejects, and the one missing a template variable, with the reason", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const wf = sequence(1);
    (wf!.nodes[1] as { data: { subject: string } }).data.subject = "Hi {{company}}";
    const { campaign, contacts } = await startedCampaign(ws, { contacts: 2, workflow: wf });
    await ws.as(() => Contact.update(contacts[0]!.id, { company: "Acme" }));
    engine.mailer.next("rejected");
    await engine.runMinute();
    const rows = await campaignContactRows(campaign.id);
    const byContact = new Map(rows.map((r) => [r.contact_id, r]));
    expect(byContact.get(contacts[0]!.id)).toMatchObject({ status: "failed", error: "SES rejected the email: injected rejected" });
    expect(byContact.get(contacts[1]!.id)).toMatchObject({
      status: "failed",
      error: "template variable {{company}} has no value for this contact and no fallback",
    });
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.status).toBe("completed");
  });

  it("pauses the campaign, with the reason, when SES stops the account", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 1 });
    engine.mailer.next("account");
    await engine.runMinute();
    const after = (await ws.as(() => Campaign.fromID(campaign.id)))!;
    expect(after.status).toBe("paused");
    expect(after.pauseReason).toMatch(/^Sending stopped by SES \(SendingPausedException\)/);
    expect((await engine.scheduler.get(campaign.id))?.enabled).toBe(false);
    expect((await campaignContactRows(campaign.id)).every((r) => r.status === "pending" && r.claimed_at === null)).toBe(true);
    await ws.as(() => Campaign.transition(campaign.id, "resume"));
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(1);
  });

  it("never resends an email whose fate is unknown; SES's Send event settles it", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 1 });
    Fault.inject((at) => at === "sender.afterSes");
    await engine.runMinute();
    Fault.inject(undefined);
    expect(engine.mailer.sent).toHaveLength(1);
    // The job comes back after the visibility timeout: another delivery of the same job leaves it
    // alone; once its claim times out, the step is known to have died around SES: never resent.
    engine.clock.advance(200_000);
    await engine.runMinute();
    engine.clock.advance(11 * 60_000);
    await sweep();
    await engine.run(30);
    expect(engine.mailer.sent).toHaveLength(1);
    const [message] = await Database.rows<{ id: string; status: string }>(
      sql`SELECT id, status FROM message WHERE campaign_id = ${campaign.id}`,
    );
    expect(message!.status).toBe("sending");
    expect((await campaignContactRows(campaign.id))[0]).toMatchObject({ status: "pending", next_run_at: null, claimed_at: null });
    await Progress.settleSent(message!.id, engine.mailer.sent[0]!.messageId, new Date(engine.clock.now()));
    expect((await campaignContactRows(campaign.id))[0]).toMatchObject({ status: "in_progress", current_node_id: "email2" });
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats.sent).toBe(1);
  });

  it("stops sending at once on pause, including queued jobs, and continues on resume", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 3 });
    await tick(campaign.id);
    expect(engine.queue.size).toBe(3);
    await ws.as(() => Campaign.transition(campaign.id, "pause"));
    await engine.queue.drain(SendBatch.handle);
    expect(engine.mailer.sent).toHaveLength(0);
    expect((await campaignContactRows(campaign.id)).every((r) => r.claimed_at === null)).toBe(true);
    await ws.as(() => Campaign.transition(campaign.id, "resume"));
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(3);
  });

  it("never emails a contact who unsubscribed meanwhile", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign, contacts } = await startedCampaign(ws, { contacts: 2 });
    await ws.as(() => Contact.update(contacts[1]!.id, { status: "unsubscribed" }));
    await engine.runMinute();
    expect(engine.mailer.sent.map((e) => e.to)).toEqual([contacts[0]!.email]);
    expect((await campaignContactRows(campaign.id)).find((r) => r.contact_id === contacts[1]!.id)?.status).toBe("unsubscribed");
  });

  it("completes the campaign when the last contact finishes, and deletes its schedule", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 2, workflow: sequence(2, { days: 0, hours: 1 }) });
    await engine.run(61);
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(4);
    const after = (await ws.as(() => Campaign.fromID(campaign.id)))!;
    expect(after).toMatchObject({ status: "completed", completedAt: expect.any(Date) });
    expect(await engine.scheduler.get(campaign.id)).toBeUndefined();
    expect((await campaignContactRows(campaign.id)).map((r) => r.status)).toEqual(["completed", "completed"]);
  });

  it("starts contacts added to an active campaign", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 1 });
    await engine.runMinute();
    const late = await factory.contact(ws);
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [late.id] }));
    await engine.runMinute();
    expect(engine.mailer.sent.map((e) => e.to)).toContain(late.email);
  });

  it("sends poison messages to the dead-letter queue after a few receives", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS, queue: { maxReceiveCount: 3, visibilityTimeoutMs: 1000 } });
    engine.queue.enqueueRaw("not json");
    engine.queue.enqueueRaw(JSON.stringify({ v: 1, campaignId: "nope" }));
    for (let i = 0; i < 5; i++) {
      await engine.queue.drain(SendBatch.handle);
      engine.clock.advance(2000);
    }
    expect(engine.queue.size).toBe(0);
    expect(engine.queue.dlq.map((m) => m.body)).toEqual(["not json", JSON.stringify({ v: 1, campaignId: "nope" })]);
  });
});
