import * as AbTest from "@fluenzr/core/abtest";
import * as Database from "@fluenzr/core/database";
import { Subscriptions } from "@fluenzr/core/webhook";
import * as Workflow from "@fluenzr/core/workflow";
import { apiClient, expectOk, expectValidation, factory, ISO_UTC, useTestDatabase } from "@fluenzr/testing";
import { campaignWithContacts, emailEvents, History } from "@fluenzr/testing/stats";
import { sql } from "drizzle-orm";
import * as v from "valibot";
import { describe, expect, it } from "vitest";

/**
 * A/B variants through the API: a workflow with variants and an A/B test is accepted, mistakes
 * answer 400 at the variant's path, and `GET /campaigns/:id/stats/emails` lists each variant and
 * the winner once the test decided one. (401 and 404 of the statistics routes: stats.test.ts.)
 */

useTestDatabase();

const AB_WORKFLOW = {
  nodes: [
    { id: "node_1", type: "start" },
    {
      id: "node_2",
      type: "email",
      data: {
        variants: [
          { id: "short", subject: "{{firstName}}, quick question", body: "Hello {{firstName}}, 10 minutes this week?" },
          { id: "story", subject: "How Acme cut churn by 30%", body: "Hello {{firstName}}, a short story..." },
        ],
        abTest: { metric: "replyRate", minSentPerVariant: 200 },
      },
    },
    { id: "node_3", type: "delay", data: { days: 3, businessDays: true } },
    { id: "node_4", type: "email", data: { body: "{{firstName}}, following up on my message." } },
    { id: "node_5", type: "end" },
  ],
  edges: [
    { from: "node_1", to: "node_2" },
    { from: "node_2", to: "node_3" },
    { from: "node_3", to: "node_4" },
    { from: "node_4", to: "node_5" },
  ],
};

const withPitch = (data: Record<string, unknown>) => ({
  ...AB_WORKFLOW,
  nodes: AB_WORKFLOW.nodes.map((n) => (n.id === "node_2" ? { ...n, data: { ...n.data, ...data } } : n)),
});

describe("A/B variants in POST /v1/campaigns", () => {
  it("accepts variants with an A/B test and answers them with their defaults", async () => {
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    const res = await apiClient(undefined, ws.key).post("/v1/campaigns", {
      name: "A/B",
      emailAccountId: account.id,
      workflow: AB_WORKFLOW,
    });
    expect(res.status).toBe(201);
    expect(res.body.data.workflow.nodes[1].data).toMatchObject({
      variants: AB_WORKFLOW.nodes[1]!.data!.variants,
      abTest: { metric: "replyRate", minSentPerVariant: 200, confidence: 0.95 },
    });
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    [
      "a duplicate variant id",
      { variants: [AB_WORKFLOW.nodes[1]!.data!.variants![0], { ...AB_WORKFLOW.nodes[1]!.data!.variants![1], id: "short" }] },
      { "workflow.nodes[1].data.variants[1].id": 'duplicate variant id "short"', nodeId: "node_2" },
    ],
    [
      "a single variant",
      { variants: [AB_WORKFLOW.nodes[1]!.data!.variants![0]] },
      { "workflow.nodes[1].data.variants": "needs at least 2 variants" },
    ],
    [
      "an unknown metric",
      { abTest: { metric: "bounceRate" } },
      { "workflow.nodes[1].data.abTest.metric": 'must be "openRate", "clickRate", "replyRate"' },
    ],
    [
      "a malformed variable in a variant's subject",
      { variants: [AB_WORKFLOW.nodes[1]!.data!.variants![0], { id: "b", subject: "Hi {{firstName", body: "x" }] },
      { "workflow.nodes[1].data.variants[1].subject": expect.stringMatching(/\S/) as unknown as string, nodeId: "node_2" },
    ],
  ])("answers 400 with the variant's path for %s", async (_, data, expected) => {
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    const res = await apiClient(undefined, ws.key).post("/v1/campaigns", {
      name: "A/B",
      emailAccountId: account.id,
      workflow: withPitch(data),
    });
    const { nodeId, ...paths } = expected;
    // The graph's rules also name the node (`nodeId`), as for every workflow error.
    if (!nodeId) return expectValidation(res, paths);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(Object.entries(paths).map(([path, message]) => ({ path, message, nodeId })));
  });
});

/** The history below records opens and clicks without judging them (docs/machine-events.md): neither human nor machine. */
const UNJUDGED = { humanOpened: 0, humanOpenRate: 0, machineOpened: 0, humanClicked: 0, humanClickRate: 0, machineClicked: 0 };

describe("GET /v1/campaigns/:id/stats/emails with A/B variants", () => {
  it("lists each variant's counts, and the winner once decided", async () => {
    const workflow = v.parse(Workflow.schema, AB_WORKFLOW);
    const ctx = await campaignWithContacts({ contacts: 500, workflow });
    const [short, story] = [ctx.contacts.slice(0, 250), ctx.contacts.slice(250, 500)];
    const history = new History(ctx.ws.id, ctx.campaign.id);
    await history.record([
      ...emailEvents(short, "node_2", { sent: 250, delivered: 250, opened: 80, clicked: 10, replied: 5 }).map((e) => ({
        ...e,
        variantId: "short",
      })),
      ...emailEvents(story, "node_2", { sent: 250, delivered: 250, opened: 90, clicked: 12, replied: 20 }).map((e) => ({
        ...e,
        variantId: "story",
      })),
      ...emailEvents(short, "node_4", { sent: 100, delivered: 100, opened: 20 }),
    ]);
    const client = apiClient(undefined, ctx.ws.key);
    const before = expectOk(await client.get(`/v1/campaigns/${ctx.campaign.id}/stats/emails`));
    expect(before[0]).toEqual({
      nodeId: "node_2",
      emailNumber: 1,
      subject: "{{firstName}}, quick question",
      sent: 500,
      opened: 170,
      openRate: 34,
      clicked: 22,
      clickRate: 4.4,
      replied: 25,
      replyRate: 5,
      ...UNJUDGED,
      path: [],
      variants: [
        {
          id: "short",
          sent: 250,
          opened: 80,
          openRate: 32,
          clicked: 10,
          clickRate: 4,
          replied: 5,
          replyRate: 2,
          ...UNJUDGED,
          winner: false,
        },
        {
          id: "story",
          sent: 250,
          opened: 90,
          openRate: 36,
          clicked: 12,
          clickRate: 4.8,
          replied: 20,
          replyRate: 8,
          ...UNJUDGED,
          winner: false,
        },
      ],
      winner: null,
      decidedAt: null,
    });
    // A node without variants keeps the seed's shape; a follow-up without a subject answers the first variant's.
    expect(Object.keys(before[1])).not.toContain("variants");
    expect(before[1]).toMatchObject({ nodeId: "node_4", subject: "Re: {{firstName}}, quick question", sent: 100, opened: 20 });

    // Subscribed to every event: the decision is pushed as `campaign.ab_test_decided`.
    await ctx.ws.as(() => Subscriptions.create({ url: "https://93.184.216.34/hook", events: ["*"] }));
    // The sender decides it under the campaign's lock when the next contact reaches the node.
    const now = new Date("2025-01-20T10:00:00Z");
    const variantOf = await Database.transaction(() =>
      AbTest.assign({ id: ctx.campaign.id, workspaceId: ctx.ws.id, workflow }, [{ contactId: short[0]!.id, nodeId: "node_2" }], now),
    );
    expect(variantOf(Workflow.emailNodes(workflow)[0]!, "con_anyone")).toBe("story");
    const [pushed] = await Database.rows<{ body: string }>(
      sql`SELECT body FROM webhook_event WHERE workspace_id = ${ctx.ws.id} AND type = 'campaign.ab_test_decided'`,
    );
    expect(JSON.parse(pushed!.body)).toMatchObject({
      type: "campaign.ab_test_decided",
      data: { campaign: { id: ctx.campaign.id }, nodeId: "node_2", winner: "story", metric: "replyRate", decidedAt: now.toISOString() },
    });
    // Deciding again changes nothing: the first decision stands.
    await Database.transaction(() =>
      AbTest.assign({ id: ctx.campaign.id, workspaceId: ctx.ws.id, workflow }, [{ contactId: short[1]!.id, nodeId: "node_2" }], new Date()),
    );
    const after = expectOk(await client.get(`/v1/campaigns/${ctx.campaign.id}/stats/emails`));
    expect(after[0]).toMatchObject({ winner: "story", decidedAt: now.toISOString() });
    expect(after[0].decidedAt).toMatch(ISO_UTC);
    expect(after[0].variants.map((x: { id: string; winner: boolean }) => [x.id, x.winner])).toEqual([
      ["short", false],
      ["story", true],
    ]);
  }, 180_000);
});
