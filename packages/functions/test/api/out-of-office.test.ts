import * as Campaign from "@fluenzr/core/campaign";
import { apiClient, engineSuite, factory, sequence, startedCampaign } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

/**
 * The out-of-office hold through the API (#13 part 3): an automatic reply reported by an
 * integration holds the contact; the campaign's contact listing shows `holdUntil`; a "no longer
 * with the company" reply is listed under its own status.
 */
const startEngine = engineSuite();

async function sent() {
  const engine = startEngine({ start: "2026-01-12T08:00:00Z" }); // Monday 09:00 Paris
  const ws = await factory.workspace();
  const { campaign, contacts } = await startedCampaign(ws, { contacts: 2, workflow: sequence(2) });
  await engine.runMinute();
  return { engine, ws, campaign, contacts, api: apiClient(undefined, ws.key) };
}

describe("out-of-office replies through the API", () => {
  it("an automatic reply with a return date shows holdUntil on the contact listing", async () => {
    const { ws, campaign, contacts, api } = await sent();
    const reply = await api.post(`/v1/campaigns/${campaign.id}/replies`, {
      contactId: contacts[0]!.id,
      subject: "Abwesenheitsnotiz",
      text: "Ich bin im Urlaub und ab dem 20.01. wieder im Büro.\n\n> Step 1 for C0",
      automatic: true,
    });
    expect(reply.status).toBe(200);
    const listed = await api.get(`/v1/campaigns/${campaign.id}/contacts`);
    expect(listed.status).toBe(200);
    const byId = new Map(listed.body.data.map((c: { contactId: string }) => [c.contactId, c]));
    // Back Tuesday 20th: held until Wednesday 21st 09:00 Paris.
    expect(byId.get(contacts[0]!.id)).toMatchObject({
      status: "in_progress",
      holdUntil: "2026-01-21T08:00:00.000Z",
      nextSendAt: "2026-01-21T08:00:00.000Z",
    });
    expect(byId.get(contacts[1]!.id)).toMatchObject({ holdUntil: null, nextSendAt: "2026-01-15T08:00:00.000Z" });
    // The campaign still counts no reply: an automatic one is not one.
    expect((await ws.as(() => Campaign.fromID(campaign.id)))!.stats.replied).toBe(0);
  });

  it("'no longer with the company' is listed under status left_company", async () => {
    const { campaign, contacts, api } = await sent();
    await api.post(`/v1/campaigns/${campaign.id}/replies`, {
      contactId: contacts[1]!.id,
      text: "María ya no trabaja en nuestra empresa. Escriba a info@example.es.",
      automatic: true,
    });
    const left = await api.get(`/v1/campaigns/${campaign.id}/contacts?status=left_company`);
    expect(left.status).toBe(200);
    expect(left.body.data.map((c: { contactId: string; holdUntil: unknown }) => [c.contactId, c.holdUntil])).toEqual([
      [contacts[1]!.id, null],
    ]);
    const bad = await api.get(`/v1/campaigns/${campaign.id}/contacts?status=gone`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(["status"]);
  });
});
