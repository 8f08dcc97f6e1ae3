import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import { Identity } from "@fluenzr/core/email-account";
import { MemoryScheduler } from "@fluenzr/core/scheduler/memory";
import type { Mailer } from "@fluenzr/core/sending";
import { FakeMailer, factory, sequence, type TestEngine, testEngine, useTestDatabase } from "@fluenzr/testing";
import { afterEach, describe, expect, it } from "vitest";

/**
 * No SES, Scheduler or SQS call is made while a transaction is open: a slow AWS answer must not
 * hold a campaign's row lock (every tick and send of the campaign waits on it), and a call made
 * for a transaction that then rolls back cannot be taken back. Each port here notes whether a
 * transaction was open when it was called.
 */

useTestDatabase();

const calls: Array<{ port: string; inTransaction: boolean }> = [];
const note = (port: string) => calls.push({ port, inTransaction: Database.inTransaction() });

class NotingScheduler extends MemoryScheduler {
  override async put(schedule: Parameters<MemoryScheduler["put"]>[0]) {
    note("scheduler.put");
    return super.put(schedule);
  }
  override async remove(campaignId: string) {
    note(`scheduler.remove`);
    return super.remove(campaignId);
  }
}

class NotingMailer extends FakeMailer {
  override async send(email: Mailer.OutgoingEmail) {
    note("ses.send");
    return super.send(email);
  }
}

let engine: TestEngine;
afterEach(() => {
  engine?.restore();
  calls.length = 0;
  Identity.install(Identity.alwaysVerified);
});

describe("calls to AWS happen outside transactions", () => {
  it("start (the account asked of SES), sending, and completion (the schedule removed)", async () => {
    engine = testEngine({ start: "2026-01-12T09:00:00Z", mailer: new NotingMailer(), scheduler: new NotingScheduler() });
    const ws = await factory.workspace();
    // The account is pending when created; SES says verified when the campaign starts.
    Identity.install(async () => "pending");
    const account = await factory.emailAccount(ws);
    Identity.install(async () => {
      note("ses.identity");
      return "verified";
    });
    const contact = await factory.contact(ws, { firstName: "Ada" });
    const campaign = await ws.as(() =>
      Campaign.create({ name: "one email", emailAccountId: account.id, settings: { timezone: "UTC" }, workflow: sequence(1) }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [contact.id] }));
    const started = await ws.as(() => Campaign.transition(campaign.id, "start"));
    expect(started.status).toBe("active");

    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(1);
    const done = await ws.as(() => Campaign.fromID(campaign.id));
    expect(done?.status).toBe("completed");

    expect(calls.map((c) => c.port)).toEqual(["ses.identity", "scheduler.put", "ses.send", "scheduler.remove"]);
    expect(calls.filter((c) => c.inTransaction)).toEqual([]);
  });

  it("the check can fail: a call made inside a transaction is seen", async () => {
    await Database.transaction(async () => note("inside"));
    expect(calls).toEqual([{ port: "inside", inTransaction: true }]);
  });
});
