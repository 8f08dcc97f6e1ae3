import * as Campaign from "@fluenzr/core/campaign";
import type * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { Fault, sweep, tick } from "@fluenzr/core/sending";
import { factory, type TestEngine, type TestWorkspace, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";

useTestDatabase();

const MONDAY_9_PARIS = "2026-01-12T08:00:00Z";

const workflow = (emails = 2, delay: Record<string, unknown> = { days: 3, businessDays: true }) => {
  const nodes: unknown[] = [{ id: "start", type: "start" }];
  const edges: Array<{ from: string; to: string }> = [];
  let last = "start";
  for (let i = 1; i <= emails; i++) {
    if (i > 1) {
      nodes.push({ id: `wait${i}`, type: "delay", data: delay });
      edges.push({ from: last, to: `wait${i}` });
      last = `wait${i}`;
    }
    nodes.push({
      id: `email${i}`,
      type: "email",
      data: { subject: `Step ${i} for {{firstName}}`, body: `Hello {{firstName|there}}, step ${i}. {{unsubscribeUrl}}` },
    });
    edges.push({ from: last, to: `email${i}` });
    last = `email${i}`;
  }
  nodes.push({ id: "end", type: "end" });
  edges.push({ from: last, to: "end" });
  return { nodes, edges } as Parameters<typeof Campaign.create>[0]["workflow"];
};

async function started(
  ws: TestWorkspace,
  options: {
    contacts?: number;
    settings?: Record<string, unknown>;
    workflow?: ReturnType<typeof workflow>;
    contactInput?: Record<string, unknown>;
  } = {},
) {
  const account = await factory.emailAccount(ws, { name: "Sender" });
  const contacts: Contact.Contact[] = [];
  for (let i = 0; i < (options.contacts ?? 3); i++)
    contacts.push(await factory.contact(ws, { firstName: `C${i}`, ...options.contactInput }));
  const campaign = await ws.as(() =>
    Campaign.create({
      name: "Engine",
      emailAccountId: account.id,
      settings: { timezone: "Europe/Paris", maxEmailsPerHour: 600, ...options.settings },
      workflow: options.workflow ?? workflow(),
    }),
  );
  await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: contacts.map((c) => c.id) }));
  await ws.as(() => Campaign.transition(campaign.id, "start"));
  return { campaign, contacts, account };
}

const ccRows = (campaignId: string) =>
  Database.rows<{
    contact_id: string;
    status: string;
    current_node_id: string | null;
    next_run_at: Date | null;
    error: string | null;
    claimed_at: Date | null;
  }>(
    sql`SELECT contact_id, status, current_node_id, next_run_at, error, claimed_at FROM campaign_contact WHERE campaign_id = ${campaignId} ORDER BY contact_id`,
  );

let engine: TestEngine;
afterEach(() => {
  Fault.inject(undefined);
  engine?.restore();
});

describe("sweeper", () => {
  it("releases claims whose job never reached the queue, and restores a lost schedule", async () => {
    engine = testEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await started(ws, { contacts: 2 });
    Fault.inject((at) => at === "tick.afterClaim");
    await expect(tick(campaign.id)).rejects.toThrow(/injected crash/);
    Fault.inject(undefined);
    expect(engine.queue.size).toBe(0);
    await engine.run(5);
    expect(engine.mailer.sent).toHaveLength(0);
    await engine.scheduler.remove(campaign.id);
    engine.clock.advance(10 * 60_000);
    const report = await sweep();
    expect(report.releasedClaims).toBeGreaterThanOrEqual(2);
    expect(report.schedulesRestored).toBeGreaterThanOrEqual(1);
    expect((await ccRows(campaign.id)).every((r) => r.claimed_at === null)).toBe(true);
    expect((await engine.scheduler.get(campaign.id))?.enabled).toBe(true);
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(2);
  });

  it("gives up on an email of unknown fate after a day, failing its contact, never resending", async () => {
    engine = testEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await started(ws, { contacts: 1 });
    Fault.inject((at) => at === "sender.afterReserve");
    await engine.runMinute();
    Fault.inject(undefined);
    expect(engine.mailer.sent).toHaveLength(0);
    engine.clock.advance(25 * 3_600_000);
    expect((await sweep()).unknownFailed).toBeGreaterThanOrEqual(1);
    expect((await ccRows(campaign.id))[0]).toMatchObject({ status: "failed", error: expect.stringMatching(/not resent/) });
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.status).toBe("completed");
  });
});
