import * as Contact from "@fluenzr/core/contact";
import * as Group from "@fluenzr/core/group";
import {
  type ApiClient,
  apiSuite,
  counts,
  expectAuthFailures,
  expectError,
  expectOk,
  expectPage,
  expectValidation,
  FIELDS,
  factory,
  ISO_UTC,
} from "@fluenzr/testing";
import { beforeAll, describe, expect, it } from "vitest";

const s = apiSuite();

const mine = (id: string) => s.ws.as(() => Group.fromID(id));
const theirs = (id: string) => s.other.as(() => Group.fromID(id));

describe("POST /v1/groups", () => {
  it("creates a group: 201 with exactly the documented fields (no workspaceId, no unknown fields)", async () => {
    const res = await s.api.post("/v1/groups", {
      name: "  Leads  ",
      description: "Warm",
      workspaceId: s.other.id,
      id: "grp_mine",
      extra: "zzz-echo",
    });
    const data = expectOk(res, 201);
    expect(Object.keys(data).sort()).toEqual(FIELDS.group);
    expect(data).toEqual({
      id: expect.stringMatching(/^grp_[0-9a-z]{26}$/),
      name: "Leads",
      description: "Warm",
      contactCount: 0,
      createdAt: expect.stringMatching(ISO_UTC),
      updatedAt: data.createdAt,
    });
    expect(res.text).not.toContain("zzz-echo");
    expect(res.text).not.toContain(s.ws.id);
    expect(expectOk(await s.api.get(`/v1/groups/${data.id}`))).toEqual(data);
    expect(await theirs(data.id)).toBeUndefined();
  });

  it("defaults the description to null", async () => {
    expect(expectOk(await s.api.post("/v1/groups", { name: "Bare" }), 201)).toMatchObject({ name: "Bare", description: null });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ["no name", {}, { name: expect.any(String) }],
    ["a blank name", { name: "   " }, { name: "is required" }],
    ["a long name", { name: "x".repeat(256) }, { name: "must be at most 255 characters" }],
    ["a numeric name", { name: 5 }, { name: expect.any(String) }],
    ["a long description", { name: "ok", description: "x".repeat(2001) }, { description: "must be at most 2000 characters" }],
  ])("answers 400 for %s and writes nothing", async (_, body, details) => {
    const { w, api } = await s.fresh();
    expectValidation(await api.post("/v1/groups", body), details);
    expect((await counts(w.id)).groups).toBe(0);
  });
});

describe("GET, PUT and DELETE /v1/groups/:id", () => {
  it("updates partially; null clears the description", async () => {
    const group = await factory.group(s.ws, { name: "Before", description: "D" });
    const renamed = expectOk(await s.api.put(`/v1/groups/${group.id}`, { name: " After " }));
    expect(renamed).toEqual({ ...JSON.parse(JSON.stringify(group)), name: "After", updatedAt: expect.stringMatching(ISO_UTC) });
    expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(Date.parse(renamed.createdAt));
    expect(expectOk(await s.api.put(`/v1/groups/${group.id}`, { description: null }))).toMatchObject({ name: "After", description: null });
    expect(await mine(group.id)).toMatchObject({ name: "After", description: null });
  });

  it.each<[Record<string, unknown>, Record<string, string>]>([
    [{ name: "" }, { name: "is required" }],
    [{ name: null }, { name: expect.any(String) as never }],
    [{ description: 7 }, { description: expect.any(String) as never }],
  ])("answers 400 to the PUT %j and changes nothing", async (body, details) => {
    const group = await factory.group(s.ws);
    expectValidation(await s.api.put(`/v1/groups/${group.id}`, body), details);
    expect(await mine(group.id)).toEqual(group);
  });

  it("deletes a group: {id, deleted: true}; its contacts stay, without it", async () => {
    const group = await factory.group(s.ws);
    const contact = await factory.contact(s.ws, { groupIds: [group.id] });
    expect(expectOk(await s.api.delete(`/v1/groups/${group.id}`))).toEqual({ id: group.id, deleted: true });
    const message = `Group ${group.id} not found`;
    expectError(await s.api.get(`/v1/groups/${group.id}`), 404, "NOT_FOUND", { message });
    expectError(await s.api.delete(`/v1/groups/${group.id}`), 404, "NOT_FOUND", { message });
    expect(expectOk(await s.api.get(`/v1/contacts/${contact.id}`))).toMatchObject({ id: contact.id, groups: [] });
  });
});

describe("GET /v1/groups", () => {
  let client: ApiClient;
  const made: Group.Group[] = [];
  beforeAll(async () => {
    const { w, api } = await s.fresh();
    client = api;
    for (const name of ["Charlie", "Alpha", "Bravo"]) made.push(await factory.group(w, { name }));
    await factory.contact(w, { groupIds: [made[0]!.id, made[2]!.id] });
    await factory.contact(w, { groupIds: [made[0]!.id] });
  });

  it("lists newest first with contactCount and paging meta", async () => {
    const data = expectPage(await client.get("/v1/groups"), { page: 1, perPage: 20, total: 3, totalPages: 1 });
    expect(data.map((g) => [g.name, g.contactCount])).toEqual([
      ["Bravo", 1],
      ["Alpha", 0],
      ["Charlie", 2],
    ]);
    for (const group of data) expect(Object.keys(group).sort()).toEqual(FIELDS.group);
    const page2 = expectPage(await client.get("/v1/groups", { query: { perPage: 2, page: 2 } }), {
      page: 2,
      perPage: 2,
      total: 3,
      totalPages: 2,
    });
    expect(page2.map((g) => g.name)).toEqual(["Charlie"]);
    expectPage(await client.get("/v1/groups", { query: { page: 5 } }), { page: 5, perPage: 20, total: 3, totalPages: 1 });
  });

  it.each<[string, string, string[]]>([
    ["name", "asc", ["Alpha", "Bravo", "Charlie"]],
    ["name", "desc", ["Charlie", "Bravo", "Alpha"]],
    ["createdAt", "asc", ["Charlie", "Alpha", "Bravo"]],
  ])("sorts by %s %s", async (sort, order, names) => {
    const data = expectPage(await client.get("/v1/groups", { query: { sort, order } }), { page: 1, perPage: 20, total: 3, totalPages: 1 });
    expect(data.map((g) => g.name)).toEqual(names);
  });

  it.each<[Record<string, string>, Record<string, string>]>([
    [{ sort: "contactCount" }, { sort: "must be one of createdAt, updatedAt, name" }],
    [{ order: "ASC" }, { order: "must be asc or desc" }],
    [{ perPage: "101" }, { perPage: "must be at most 100" }],
    [{ page: "1.5" }, { page: "must be a positive integer" }],
  ])("answers 400 to the query %j", async (query, details) => {
    expectValidation(await client.get("/v1/groups", { query }), details);
  });
});

describe("group membership", () => {
  it("POST /groups/:id/contacts adds, skips members and reports unknown and foreign ids", async () => {
    const group = await factory.group(s.ws);
    const [a, b, c] = [await factory.contact(s.ws), await factory.contact(s.ws), await factory.contact(s.ws)];
    const foreign = await factory.contact(s.other);
    const path = `/v1/groups/${group.id}/contacts`;
    expect(expectOk(await s.api.post(path, { contactIds: [a.id] }))).toEqual({ added: 1, skipped: 0, errors: [] });
    const res = await s.api.post(path, { contactIds: [a.id, b.id, c.id, foreign.id, "con_unknown"] });
    expect(expectOk(res)).toEqual({
      added: 2,
      skipped: 1,
      errors: [
        { id: foreign.id, code: "NOT_FOUND" },
        { id: "con_unknown", code: "NOT_FOUND" },
      ],
    });
    expect((await mine(group.id))?.contactCount).toBe(3);
    expect(expectOk(await s.api.get(`/v1/contacts/${b.id}`)).groups).toEqual([{ id: group.id, name: group.name }]);
    expect(await s.other.as(() => Contact.fromID(foreign.id))).toEqual(foreign);
  });

  it("DELETE /groups/:id/contacts removes members only", async () => {
    const group = await factory.group(s.ws);
    const [a, b] = [await factory.contact(s.ws, { groupIds: [group.id] }), await factory.contact(s.ws, { groupIds: [group.id] })];
    const outsider = await factory.contact(s.ws);
    const theirGroup = await factory.group(s.other);
    const foreign = await factory.contact(s.other, { groupIds: [theirGroup.id] });
    const res = await s.api.delete(`/v1/groups/${group.id}/contacts`, { contactIds: [a.id, outsider.id, foreign.id, "con_unknown"] });
    expect(expectOk(res)).toEqual({ removed: 1 });
    expect((await mine(group.id))?.contactCount).toBe(1);
    expect(expectOk(await s.api.get(`/v1/contacts/${b.id}`)).groups).toHaveLength(1);
    expect((await theirs(theirGroup.id))?.contactCount).toBe(1);
    expect(await s.other.as(() => Contact.fromID(foreign.id))).toEqual(foreign);
  });

  it.each<[string, unknown, Record<string, string>]>([
    ["POST", { contactIds: [] }, { contactIds: "must list at least one id" }],
    ["POST", {}, { contactIds: expect.any(String) as never }],
    ["DELETE", { contactIds: ["grp_x"] }, { "contactIds[0]": "must be a con_ id" }],
    ["POST", { contactIds: "con_x" }, { contactIds: expect.any(String) as never }],
    ["POST", { contactIds: Array.from({ length: 1001 }, (_, i) => `con_${i}`) }, { contactIds: "must list at most 1000 ids" }],
  ])("%s /groups/:id/contacts answers 400 to %j", async (method, body, details) => {
    const group = await factory.group(s.ws);
    await factory.contact(s.ws, { groupIds: [group.id] });
    expectValidation(await s.api.request(method, `/v1/groups/${group.id}/contacts`, { body }), details);
    expect((await mine(group.id))?.contactCount).toBe(1);
  });
});

describe("tenancy: another workspace's groups answer 404 and do not change", () => {
  it.each<[string, string, (contactId: string) => unknown]>([
    ["GET", "", () => undefined],
    ["PUT", "", () => ({ name: "Hacked", description: "x" })],
    ["DELETE", "", () => undefined],
    ["POST", "/contacts", (id) => ({ contactIds: [id] })],
    ["DELETE", "/contacts", (id) => ({ contactIds: [id] })],
  ])("%s /groups/:id%s", async (method, suffix, body) => {
    const group = await factory.group(s.other);
    const member = await factory.contact(s.other, { groupIds: [group.id] });
    const myContact = await factory.contact(s.ws);
    for (const id of [member.id, myContact.id]) {
      const res = await s.api.request(method, `/v1/groups/${group.id}${suffix}`, { body: body(id) });
      expectError(res, 404, "NOT_FOUND", { message: `Group ${group.id} not found` });
    }
    expect(await theirs(group.id)).toEqual({ ...group, contactCount: 1 });
    expect(await s.ws.as(() => Contact.fromID(myContact.id))).toEqual(myContact);
  });

  it.each(["nope", "grp_", "grp_%00", "con_01abc"])("a malformed id (%s) is a 404", async (id) => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      expectError(
        await s.api.request(method, `/v1/groups/${id}`, { body: method === "PUT" ? { name: "x" } : undefined }),
        404,
        "NOT_FOUND",
      );
    }
  });
});

describe("authentication", () => {
  it.each([
    ["GET", "/v1/groups", undefined],
    ["POST", "/v1/groups", { name: "Auth" }],
    ["GET", "/v1/groups/ID", undefined],
    ["PUT", "/v1/groups/ID", { name: "Auth" }],
    ["DELETE", "/v1/groups/ID", undefined],
    ["POST", "/v1/groups/ID/contacts", { contactIds: ["CONTACT"] }],
    ["DELETE", "/v1/groups/ID/contacts", { contactIds: ["MEMBER"] }],
  ])("%s %s answers 401 to every bad key and changes nothing", async (method, template, body) => {
    const group = await factory.group(s.ws);
    const member = await factory.contact(s.ws, { groupIds: [group.id] });
    const contact = await factory.contact(s.ws);
    const sent = body && JSON.parse(JSON.stringify(body).replace("CONTACT", contact.id).replace("MEMBER", member.id));
    const before = await counts(s.ws.id);
    await expectAuthFailures(s.api, method, template.replace("ID", group.id), {
      ws: s.ws,
      body: sent,
    });
    expect(await counts(s.ws.id)).toEqual(before);
    expect(await mine(group.id)).toEqual({ ...group, contactCount: 1 });
  });
});
