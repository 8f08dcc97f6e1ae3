import * as Campaign from "@fluenzr/core/campaign";
import { Fault, sweep, tick } from "@fluenzr/core/sending";
import { campaignContactRows, engineSuite, factory, MONDAY_9_PARIS, startedCampaign, type TestEngine } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

let engine: TestEngine;
const startEngine = engineSuite();

describe("sweeper", () => {
  it("releases claims whose job never reached the queue, and restores a lost schedule", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 2 });
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
    expect((await campaignContactRows(campaign.id)).every((r) => r.claimed_at === null)).toBe(true);
    expect((await engine.scheduler.get(campaign.id))?.enabled).toBe(true);
    await engine.runMinute();
    expect(engine.mailer.sent).toHaveLength(2);
  });

  it("gives up on an email of unknown fate after a day, failing its contact, never resending", async () => {
    engine = startEngine({ start: MONDAY_9_PARIS });
    const ws = await factory.workspace();
    const { campaign } = await startedCampaign(ws, { contacts: 1 });
    Fault.inject((at) => at === "sender.afterReserve");
    await engine.runMinute();
    Fault.inject(undefined);
    expect(engine.mailer.sent).toHaveLength(0);
    engine.clock.advance(25 * 3_600_000);
    expect((await sweep()).unknownFailed).toBeGreaterThanOrEqual(1);
    expect((await campaignContactRows(campaign.id))[0]).toMatchObject({ status: "failed", error: expect.stringMatching(/not resent/) });
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.status).toBe("completed");
  });
});
