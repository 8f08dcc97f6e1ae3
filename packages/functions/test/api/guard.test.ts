import { applySesEvent } from "@fluenzr/core/tracking";
import * as Records from "@fluenzr/local/records";
import {
  apiClient,
  expectAuthFailures,
  expectError,
  expectOk,
  expectValidation,
  factory,
  linear,
  testEngine,
  useTestDatabase,
} from "@fluenzr/testing";
import { afterEach, describe, expect, it } from "vitest";

useTestDatabase();

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** A campaign of 25 contacts whose first emails went out, through the API. */
async function sentCampaign(settings: Record<string, unknown> = {}) {
  const engine = testEngine({ start: "2026-01-12T09:00:00Z" });
  restore = engine.restore;
  const ws = await factory.workspace();
  const account = await factory.emailAccount(ws);
  const api = apiClient(undefined, ws.key);
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) ids.push((await factory.contact(ws, { firstName: `P${i}` })).id);
  const workflow = linear([
    { id: "e1", email: { subject: "Hi", body: "Hello" } },
    { id: "d", delay: { days: 3, businessDays: true } },
    { id: "e2", email: { subject: "Again", body: "Again" } },
  ]);
  const campaign = expectOk(
    await api.post("/v1/campaigns", {
      name: "guarded",
      emailAccountId: account.id,
      settings: { maxEmailsPerHour: 6000, ...settings },
      workflow,
    }),
    201,
  );
  await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: ids });
  expectOk(await api.post(`/v1/campaigns/${campaign.id}/start`));
  await engine.runMinute();
  const sent = await Promise.all(engine.mailer.sent.map(async (e) => (await Records.sentEmail(e.tags.message!))!));
  expect(sent).toHaveLength(25);
  const bounce = (i: number) => applySesEvent(Records.sesRecord("bounce", sent[i]!, new Date("2026-01-12T09:05:00Z")));
  return { ws, api, campaign, sent, bounce };
}

describe("deliverability guard through the API", () => {
  it("shows the settings, the pausedReason and the paused event; resume clears it", async () => {
    const { api, campaign, bounce, sent } = await sentCampaign({ maxBounceRate: 4 });
    expect(campaign.settings).toMatchObject({ maxBounceRate: 4, maxComplaintRate: 0.3 });
    await bounce(0); // 1/25 = 4%: the limit, not past it
    expect(expectOk(await api.get(`/v1/campaigns/${campaign.id}`)).status).toBe("active");
    await bounce(1); // 2/25 = 8%
    const paused = expectOk(await api.get(`/v1/campaigns/${campaign.id}`));
    expect(paused).toMatchObject({
      status: "paused",
      pausedReason: { code: "BOUNCE_RATE", rate: 8, threshold: 4, at: expect.any(String) },
    });
    const feed = expectOk(await api.get(`/v1/campaigns/${campaign.id}/activity?type=paused`));
    expect(feed).toHaveLength(1);
    expect(feed[0]).toMatchObject({
      type: "paused",
      messageId: sent[1]!.messageId,
      metadata: { code: "BOUNCE_RATE", rate: 8, threshold: 4, sent: 25, bounced: 2, complained: 0 },
    });
    // Settings can be changed while paused, then resume starts a new window.
    expect(expectOk(await api.put(`/v1/campaigns/${campaign.id}`, { settings: { maxBounceRate: 10 } })).settings.maxBounceRate).toBe(10);
    const resumed = expectOk(await api.post(`/v1/campaigns/${campaign.id}/resume`));
    expect(resumed.status).toBe("active");
    expect(resumed).not.toHaveProperty("pausedReason");
    await bounce(2);
    expect(expectOk(await api.get(`/v1/campaigns/${campaign.id}`)).status).toBe("active");
  });

  it("answers 400 naming the setting on PUT, 401 without a key, 404 for another workspace's campaign", async () => {
    const { api, campaign, ws } = await sentCampaign();
    await api.post(`/v1/campaigns/${campaign.id}/pause`);
    expectValidation(await api.put(`/v1/campaigns/${campaign.id}`, { settings: { maxComplaintRate: 0 } }), ["settings.maxComplaintRate"]);
    expectValidation(await api.put(`/v1/campaigns/${campaign.id}`, { settings: { maxBounceRate: 100.5 } }), ["settings.maxBounceRate"]);
    await expectAuthFailures(api, "POST", `/v1/campaigns/${campaign.id}/resume`, { ws: ws });
    const other = apiClient(undefined, (await factory.workspace()).key);
    expectError(await other.post(`/v1/campaigns/${campaign.id}/resume`), 404, "NOT_FOUND");
    expectError(await other.get(`/v1/campaigns/${campaign.id}`), 404, "NOT_FOUND");
  });
});
