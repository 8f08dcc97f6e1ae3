import { apiClient, factory, useTestDatabase } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

useTestDatabase();

describe("smoke", () => {
  it("creates and reads a contact", async () => {
    const ws = await factory.workspace();
    const api = apiClient(undefined, ws.key);
    const created = await api.post("/v1/contacts", { email: "Ada@Example.org", firstName: "Ada", customFields: { sector: "Fintech" } });
    console.log(created.status, JSON.stringify(created.body), [...created.headers.entries()]);
    const got = await api.get(`/v1/contacts/${created.body.data.id}`);
    console.log(got.status, JSON.stringify(got.body));
    const list = await api.get(`/v1/contacts`);
    console.log(list.status, JSON.stringify(list.body));
    const doc = await api.get(`/v1/openapi.json`, { key: null });
    console.log(doc.status, Object.keys(doc.body.paths ?? {}));
    expect(created.status).toBe(201);
  });
});
