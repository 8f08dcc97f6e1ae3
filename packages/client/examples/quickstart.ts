import { createFluenzrClient } from "@fluenzr/client";

const api = createFluenzrClient({ baseUrl: "http://localhost:3000", apiKey: process.env.FLUENZR_API_KEY ?? "" });

const account = await api.POST("/v1/email-accounts", { body: { email: "me@example.com", name: "Me" } });
if (!account.data) throw new Error(account.error?.error.message);

const campaign = await api.POST("/v1/campaigns", {
  body: {
    name: "Q1 2025 Prospecting",
    emailAccountId: account.data.data.id,
    workflow: {
      nodes: [
        { id: "start", type: "start" },
        { id: "hello", type: "email", data: { subject: "{{firstName}}, quick question", body: "Hello {{firstName}}" } },
        { id: "end", type: "end" },
      ],
      edges: [
        { from: "start", to: "hello" },
        { from: "hello", to: "end" },
      ],
    },
  },
});
if (!campaign.data) throw new Error(campaign.error?.error.message);
const id = campaign.data.data.id;

const stats = await api.GET("/v1/campaigns/{id}/stats", { params: { path: { id } } });
console.log(stats.data?.data.openRate, stats.data?.data.sent); // numbers, typed from the document

const timeline = await api.GET("/v1/campaigns/{id}/stats/timeline", { params: { path: { id }, query: { interval: "day" } } });
for (const point of timeline.data?.data ?? []) console.log(point.date, point.sent, point.opened);
