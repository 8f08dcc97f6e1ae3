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

const emails = (data: Array<{ email: string }>) => data.map((c) => c.email);
const CF_NAME = "custom field names are letters, digits and _ (at most 64), not starting with a digit";

describe("POST /v1/contacts", () => {
  it("creates a contact: 201 with exactly the documented fields", async () => {
    const group = await factory.group(s.ws, { name: "Leads" });
    const res = await s.api.post("/v1/contacts", {
      email: " Ada@Example.org ",
      firstName: " Ada ",
      lastName: "Lovelace",
      company: "Analytical",
      jobTitle: "CTO",
      phone: "+44 1",
      website: "https://ada.dev",
      tags: ["vip", "b", "vip"],
      customFields: { sector: "Fintech", size: 12, paid: true },
      groupIds: [group.id],
    });
    const data = expectOk(res, 201);
    expect(Object.keys(data).sort()).toEqual(FIELDS.contact);
    expect(data).toEqual({
      id: expect.stringMatching(/^con_[0-9a-z]{26}$/),
      email: "Ada@Example.org",
      firstName: "Ada",
      lastName: "Lovelace",
      company: "Analytical",
      jobTitle: "CTO",
      phone: "+44 1",
      website: "https://ada.dev",
      status: "active",
      groups: [{ id: group.id, name: "Leads" }],
      tags: ["b", "vip"],
      customFields: { sector: "Fintech", size: 12, paid: true },
      timezone: null,
      createdAt: expect.stringMatching(ISO_UTC),
      updatedAt: data.createdAt,
    });
    expect(expectOk(await s.api.get(`/v1/contacts/${data.id}`))).toEqual(data);
  });

  it("fills defaults, ignores unknown fields and never echoes them", async () => {
    const res = await s.api.post("/v1/contacts", {
      email: "minimal@example.org",
      id: "con_chosen",
      workspaceId: s.other.id,
      createdAt: "2000-01-01T00:00:00.000Z",
      secret: "never-echoed",
    });
    const data = expectOk(res, 201);
    expect(data).toMatchObject({
      firstName: null,
      lastName: null,
      company: null,
      status: "active",
      groups: [],
      tags: [],
      customFields: {},
    });
    expect(data.id).not.toBe("con_chosen");
    expect(Date.now() - Date.parse(data.createdAt)).toBeLessThan(60_000);
    expect(res.text).not.toContain("never-echoed");
    expect(Object.keys(data).sort()).toEqual(FIELDS.contact);
    expect((await s.other.as(() => Contact.search({ query: "minimal@example.org" }))).meta.total).toBe(0);
  });

  it("answers 409 on a duplicate email, case-insensitively, and writes nothing", async () => {
    const { w, api } = await s.fresh();
    expectOk(await api.post("/v1/contacts", { email: "dup@example.org" }), 201);
    const res = await api.post("/v1/contacts", { email: "DUP@Example.ORG", firstName: "Second" });
    expectError(res, 409, "CONFLICT", {
      message: "A contact with email DUP@Example.ORG already exists",
      details: [{ path: "email", message: "already exists" }],
    });
    expect((await counts(w.id)).contacts).toBe(1);
  });

  it("allows the same email in another workspace", async () => {
    await factory.contact(s.other, { email: "shared@example.org" });
    expectOk(await s.api.post("/v1/contacts", { email: "Shared@example.org" }), 201);
  });

  it("answers 404 for another workspace's group and creates nothing", async () => {
    const { w, api } = await s.fresh();
    const foreign = await factory.group(s.other);
    const res = await api.post("/v1/contacts", { email: "g@example.org", groupIds: [foreign.id] });
    expectError(res, 404, "NOT_FOUND", { message: `Group ${foreign.id} not found` });
    expect(await counts(w.id)).toMatchObject({ contacts: 0, members: 0 });
    expect((await s.other.as(() => Group.fromID(foreign.id)))?.contactCount).toBe(0);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown> | string[]]>([
    ["no email", { firstName: "A" }, { email: "is required" }],
    ["an invalid email", { email: "nope" }, { email: "must be a valid email address" }],
    ["a non-string email", { email: 42 }, { email: "must be a string" }],
    ["a blank email", { email: "  " }, { email: "is required" }],
    ["a bad custom field name", { email: "a@b.co", customFields: { "1bad": "x" } }, { "customFields.1bad": CF_NAME }],
    [
      "a nested custom field",
      { email: "a@b.co", customFields: { ok: { n: 1 } } },
      { "customFields.ok": "must be a string, number or boolean" },
    ],
    [
      "a long custom field",
      { email: "a@b.co", customFields: { s: "x".repeat(2001) } },
      { "customFields.s": "must be at most 2000 characters" },
    ],
    [
      "a NUL in a custom field",
      { email: "a@b.co", customFields: { s: "a\u0000" } },
      { "customFields.s": "must not contain NUL characters" },
    ],
    ["an unknown status", { email: "a@b.co", status: "gone" }, { status: "must be one of active, unsubscribed, bounced, complained" }],
    ["an empty tag", { email: "a@b.co", tags: ["ok", " "] }, { "tags[1]": "must not be empty" }],
    ["a non-string tag", { email: "a@b.co", tags: [5] }, { "tags[0]": "must be a string" }],
    ["a NUL in a tag", { email: "a@b.co", tags: ["a\u0000"] }, { "tags[0]": "must not contain NUL characters" }],
    ["a long firstName", { email: "a@b.co", firstName: "x".repeat(256) }, { firstName: "must be at most 255 characters" }],
    ["a malformed group id", { email: "a@b.co", groupIds: ["nope"] }, { "groupIds[0]": "must be a grp_ id" }],
    ["several problems", { email: "x", lastName: 7, customFields: "x" }, ["email", "lastName", "customFields"]],
  ])("answers 400 for %s, naming the field, and writes nothing", async (_, body, details) => {
    const { w, api } = await s.fresh();
    expectValidation(await api.post("/v1/contacts", body), details);
    expect((await counts(w.id)).contacts).toBe(0);
  });
});

describe("GET, PUT and DELETE /v1/contacts/:id", () => {
  it("updates partially: given fields change, customFields merge key by key and null removes one", async () => {
    const contact = await factory.contact(s.ws, {
      firstName: "Ada",
      lastName: "Lovelace",
      tags: ["x"],
      customFields: { a: "1", b: 2, c: true },
    });
    const data = expectOk(
      await s.api.put(`/v1/contacts/${contact.id}`, {
        lastName: null,
        company: " ACME ",
        customFields: { b: 3, c: null, d: "new" },
        bogus: 1,
      }),
    );
    expect(data).toEqual({
      ...JSON.parse(JSON.stringify(contact)),
      lastName: null,
      company: "ACME",
      customFields: { a: "1", b: 3, d: "new" },
      updatedAt: expect.stringMatching(ISO_UTC),
    });
    expect(Date.parse(data.updatedAt)).toBeGreaterThan(Date.parse(data.createdAt));
    expect(expectOk(await s.api.get(`/v1/contacts/${contact.id}`))).toEqual(data);
    expect(expectOk(await s.api.put(`/v1/contacts/${contact.id}`, { tags: ["b", "a", "a"], status: "unsubscribed" }))).toMatchObject({
      tags: ["a", "b"],
      status: "unsubscribed",
      customFields: { a: "1", b: 3, d: "new" },
    });
  });

  it("changes the email, and answers 409 when the new email is taken (case-insensitively), changing nothing", async () => {
    const a = await factory.contact(s.ws, { email: "first@put.example" });
    await factory.contact(s.ws, { email: "second@put.example" });
    expect(expectOk(await s.api.put(`/v1/contacts/${a.id}`, { email: "FIRST@put.example" })).email).toBe("FIRST@put.example");
    const before = expectOk(await s.api.get(`/v1/contacts/${a.id}`));
    const res = await s.api.put(`/v1/contacts/${a.id}`, { email: "Second@Put.example", firstName: "Changed" });
    expectError(res, 409, "CONFLICT", { details: [{ path: "email", message: "already exists" }] });
    expect(expectOk(await s.api.get(`/v1/contacts/${a.id}`))).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ["a null email", { email: null }, { email: expect.any(String) as never }],
    ["an invalid email", { email: "x@" }, { email: "must be a valid email address" }],
    ["a bad custom field name", { customFields: { "1x": null } }, { "customFields.1x": CF_NAME }],
    ["a non-string firstName", { firstName: 5 }, { firstName: expect.any(String) as never }],
    ["an unknown status", { status: "paused" }, { status: "must be one of active, unsubscribed, bounced, complained" }],
  ])("answers 400 to a PUT with %s and changes nothing", async (_, body, details) => {
    const contact = await factory.contact(s.ws);
    expectValidation(await s.api.put(`/v1/contacts/${contact.id}`, body), details);
    expect(await s.ws.as(() => Contact.fromID(contact.id))).toEqual(contact);
  });

  it("deletes: {id, deleted: true}, then 404, and the contact leaves its groups", async () => {
    const group = await factory.group(s.ws);
    const contact = await factory.contact(s.ws, { groupIds: [group.id] });
    expect(expectOk(await s.api.get(`/v1/groups/${group.id}`)).contactCount).toBe(1);
    expect(expectOk(await s.api.delete(`/v1/contacts/${contact.id}`))).toEqual({ id: contact.id, deleted: true });
    const message = `Contact ${contact.id} not found`;
    expectError(await s.api.get(`/v1/contacts/${contact.id}`), 404, "NOT_FOUND", { message });
    expectError(await s.api.delete(`/v1/contacts/${contact.id}`), 404, "NOT_FOUND", { message });
    expect(expectOk(await s.api.get(`/v1/groups/${group.id}`)).contactCount).toBe(0);
  });
});

describe("tenancy: another workspace's ids answer 404 and its data does not change", () => {
  const cases: Array<[string, string, (id: string) => string, (g: string) => unknown]> = [
    ["GET", "get", (id) => `/v1/contacts/${id}`, () => undefined],
    ["PUT", "update", (id) => `/v1/contacts/${id}`, () => ({ firstName: "Hacked", customFields: { x: 1 } })],
    ["PUT", "update to a taken email", (id) => `/v1/contacts/${id}`, () => ({ email: "taken@tenancy.example" })],
    ["DELETE", "delete", (id) => `/v1/contacts/${id}`, () => undefined],
    ["POST", "add to groups", (id) => `/v1/contacts/${id}/groups`, (g) => ({ groupIds: [g] })],
    ["DELETE", "remove from groups", (id) => `/v1/contacts/${id}/groups`, (g) => ({ groupIds: [g] })],
    ["POST", "tag", (id) => `/v1/contacts/${id}/tags`, () => ({ tags: ["hacked"] })],
    ["DELETE", "untag", (id) => `/v1/contacts/${id}/tags`, () => ({ tags: ["theirs"] })],
  ];
  beforeAll(() => factory.contact(s.ws, { email: "taken@tenancy.example" }));

  it.each(cases)("%s (%s)", async (method, _, path, body) => {
    const theirGroup = await factory.group(s.other);
    const theirs = await factory.contact(s.other, { tags: ["theirs"], groupIds: [theirGroup.id] });
    const myGroup = await factory.group(s.ws);
    const res = await s.api.request(method, path(theirs.id), { body: body(myGroup.id) });
    expectError(res, 404, "NOT_FOUND", { message: `Contact ${theirs.id} not found` });
    expect(await s.other.as(() => Contact.fromID(theirs.id))).toEqual(theirs);
  });

  it.each(["POST", "DELETE"])("%s /contacts/:id/groups with another workspace's group: 404, no membership", async (method) => {
    const theirGroup = await factory.group(s.other);
    const mine = await factory.contact(s.ws);
    const res = await s.api.request(method, `/v1/contacts/${mine.id}/groups`, { body: { groupIds: [theirGroup.id] } });
    expectError(res, 404, "NOT_FOUND", { message: `Group ${theirGroup.id} not found` });
    expect(await s.ws.as(() => Contact.fromID(mine.id))).toEqual(mine);
  });

  it.each(["nope", "con_", "con_%00", "grp_01abc", `con_${"a".repeat(80)}`])("a malformed id (%s) is a 404 too", async (id) => {
    for (const [method, suffix, body] of [
      ["GET", "", undefined],
      ["PUT", "", { firstName: "x" }],
      ["DELETE", "", undefined],
      ["POST", "/tags", { tags: ["x"] }],
    ] as const) {
      const res = await s.api.request(method, `/v1/contacts/${id}${suffix}`, { body });
      expectError(res, 404, "NOT_FOUND");
    }
  });
});

describe("GET /v1/contacts", () => {
  let client: ApiClient;
  const made: Contact.Contact[] = [];
  let group: { id: string };

  beforeAll(async () => {
    const { w, api } = await s.fresh();
    client = api;
    group = await factory.group(w);
    const rows = [
      { email: "carol@list.example", firstName: "Carol", lastName: "Young", company: "Beta", tags: ["vip"] },
      { email: "Bob@list.example", firstName: "Bob", lastName: null, company: "Acme", groupIds: [group.id] },
      { email: "alice@list.example", firstName: "Alice", lastName: "Zane", company: null, status: "unsubscribed" as const },
      { email: "dave@s.other.example", firstName: null, lastName: "Xu", company: "Delta", tags: ["vip", "x"], groupIds: [group.id] },
      { email: "eve_w@list.example", firstName: "Eve", lastName: "Walker", company: "100% Corp" },
    ];
    for (const row of rows) made.push(await factory.contact(w, row));
  });

  const json = (list: Contact.Contact[]) => JSON.parse(JSON.stringify(list));

  it("lists newest first with paging meta", async () => {
    const data = expectPage(await client.get("/v1/contacts"), { page: 1, perPage: 20, total: 5, totalPages: 1 });
    expect(data).toEqual(json([...made].reverse()));
    expect(
      emails(
        expectPage(await client.get("/v1/contacts", { query: { perPage: 2, page: 2 } }), { page: 2, perPage: 2, total: 5, totalPages: 3 }),
      ),
    ).toEqual([made[2]!.email, made[1]!.email]);
    expect(
      expectPage(await client.get("/v1/contacts", { query: { perPage: 2, page: 3 } }), { page: 3, perPage: 2, total: 5, totalPages: 3 }),
    ).toHaveLength(1);
    expect(
      expectPage(await client.get("/v1/contacts", { query: { perPage: 2, page: 9 } }), { page: 9, perPage: 2, total: 5, totalPages: 3 }),
    ).toEqual([]);
  });

  it.each<[string, "asc" | "desc", string[]]>([
    ["email", "asc", ["alice", "Bob", "carol", "dave", "eve_w"]],
    ["email", "desc", ["eve_w", "dave", "carol", "Bob", "alice"]],
    ["firstName", "asc", ["alice", "Bob", "carol", "eve_w", "dave"]],
    ["firstName", "desc", ["eve_w", "carol", "Bob", "alice", "dave"]],
    ["lastName", "asc", ["eve_w", "dave", "carol", "alice", "Bob"]],
    ["company", "desc", ["dave", "carol", "Bob", "eve_w", "alice"]],
    ["createdAt", "asc", ["carol", "Bob", "alice", "dave", "eve_w"]],
  ])("sorts by %s %s (nulls last)", async (sort, order, expected) => {
    const data = expectPage(await client.get("/v1/contacts", { query: { sort, order } }), {
      page: 1,
      perPage: 20,
      total: 5,
      totalPages: 1,
    });
    expect(emails(data).map((e) => e.split("@")[0])).toEqual(expected);
  });

  it("sorts by updatedAt", async () => {
    expectOk(await client.put(`/v1/contacts/${made[1]!.id}`, { jobTitle: "Boss" }));
    const data = expectPage(await client.get("/v1/contacts", { query: { sort: "updatedAt", order: "desc", perPage: 1 } }), {
      page: 1,
      perPage: 1,
      total: 5,
      totalPages: 5,
    });
    expect(data[0]).toMatchObject({ id: made[1]!.id, jobTitle: "Boss" });
  });

  it.each<[Record<string, string>, string[]]>([
    [{ email: "LIST.example" }, ["eve_w", "alice", "Bob", "carol"]],
    [{ email: "%" }, []],
    [{ email: "_" }, ["eve_w"]],
    [{ status: "unsubscribed" }, ["alice"]],
    [{ status: "bounced" }, []],
    [{ tag: "vip" }, ["dave", "carol"]],
    [{ tag: "x", email: "dave" }, ["dave"]],
    [{ tag: "VIP" }, []],
    [{ groupId: "GROUP" }, ["dave", "Bob"]],
    [{ groupId: "grp_unknown" }, []],
    [{ groupId: "GROUP", status: "active", email: "bob" }, ["Bob"]],
  ])("filters by %j", async (filter, expected) => {
    const query = { ...filter, ...(filter.groupId === "GROUP" ? { groupId: group.id } : {}) };
    const res = await client.get("/v1/contacts", { query });
    const data = expectPage(res, { page: 1, perPage: 20, total: expected.length, totalPages: expected.length ? 1 : 0 });
    expect(emails(data).map((e) => e.split("@")[0])).toEqual(expected);
  });

  it.each<[Record<string, string>, Record<string, string>]>([
    [{ perPage: "0" }, { perPage: "must be at least 1" }],
    [{ perPage: "101" }, { perPage: "must be at most 100" }],
    [{ page: "0" }, { page: "must be at least 1" }],
    [{ page: "x" }, { page: "must be a positive integer" }],
    [{ page: "-1" }, { page: "must be a positive integer" }],
    [{ sort: "id" }, { sort: "must be one of createdAt, updatedAt, email, firstName, lastName, company" }],
    [{ order: "up" }, { order: "must be asc or desc" }],
    [{ status: "x" }, { status: "must be one of active, unsubscribed, bounced, complained" }],
    [{ groupId: "nope" }, { groupId: "must be a grp_ id" }],
  ])("answers 400 to the query %j", async (query, details) => {
    expectValidation(await client.get("/v1/contacts", { query }), details);
  });
});

describe("groups and tags of a contact", () => {
  it("adds and removes groups (idempotently, groups sorted by name)", async () => {
    const b = await factory.group(s.ws, { name: "B group" });
    const a = await factory.group(s.ws, { name: "A group" });
    const contact = await factory.contact(s.ws);
    const path = `/v1/contacts/${contact.id}/groups`;
    const both = [
      { id: a.id, name: "A group" },
      { id: b.id, name: "B group" },
    ];
    expect(expectOk(await s.api.post(path, { groupIds: [b.id, a.id, b.id] })).groups).toEqual(both);
    expect(expectOk(await s.api.post(path, { groupIds: [a.id] })).groups).toEqual(both);
    expect(expectOk(await s.api.delete(path, { groupIds: [a.id] })).groups).toEqual([{ id: b.id, name: "B group" }]);
    expect(expectOk(await s.api.delete(path, { groupIds: [a.id] })).groups).toEqual([{ id: b.id, name: "B group" }]);
    expect(expectOk(await s.api.get(`/v1/groups/${b.id}`)).contactCount).toBe(1);
  });

  it("adds and removes tags (trimmed, unique, sorted)", async () => {
    const contact = await factory.contact(s.ws, { tags: ["m"] });
    const path = `/v1/contacts/${contact.id}/tags`;
    expect(expectOk(await s.api.post(path, { tags: [" z ", "a", "z"] })).tags).toEqual(["a", "m", "z"]);
    expect(expectOk(await s.api.delete(path, { tags: ["a", "absent"] })).tags).toEqual(["m", "z"]);
    expect((await s.ws.as(() => Contact.fromID(contact.id)))?.tags).toEqual(["m", "z"]);
  });

  it.each<[string, string, unknown, Record<string, string>]>([
    ["POST", "groups", { groupIds: [] }, { groupIds: "must list at least one group" }],
    ["DELETE", "groups", { groupIds: ["con_x"] }, { "groupIds[0]": "must be a grp_ id" }],
    ["POST", "groups", {}, { groupIds: expect.any(String) as never }],
    ["POST", "tags", { tags: [] }, { tags: "must list at least one tag" }],
    ["DELETE", "tags", { tags: [" "] }, { "tags[0]": "must not be empty" }],
    ["POST", "tags", { tags: ["x".repeat(65)] }, { "tags[0]": "must be at most 64 characters" }],
  ])("%s /contacts/:id/%s answers 400 to %j", async (method, what, body, details) => {
    const contact = await factory.contact(s.ws);
    expectValidation(await s.api.request(method, `/v1/contacts/${contact.id}/${what}`, { body }), details);
    expect(await s.ws.as(() => Contact.fromID(contact.id))).toEqual(contact);
  });
});

describe("authentication", () => {
  it.each([
    ["GET", "/v1/contacts", undefined],
    ["POST", "/v1/contacts", { email: "auth@example.org" }],
    ["POST", "/v1/contacts/bulk", { contacts: [{ email: "auth@example.org" }] }],
    ["POST", "/v1/contacts/search", {}],
    ["GET", "/v1/contacts/ID", undefined],
    ["PUT", "/v1/contacts/ID", { firstName: "Auth" }],
    ["DELETE", "/v1/contacts/ID", undefined],
    ["POST", "/v1/contacts/ID/groups", { groupIds: ["GROUP"] }],
    ["DELETE", "/v1/contacts/ID/groups", { groupIds: ["GROUP"] }],
    ["POST", "/v1/contacts/ID/tags", { tags: ["auth"] }],
    ["DELETE", "/v1/contacts/ID/tags", { tags: ["t"] }],
  ])("%s %s answers 401 to every bad key and changes nothing", async (method, template, body) => {
    const contact = await factory.contact(s.ws, { tags: ["t"] });
    const group = await factory.group(s.ws);
    const path = template.replace("ID", contact.id);
    const sent = body && JSON.parse(JSON.stringify(body).replace("GROUP", group.id));
    const before = await counts(s.ws.id);
    await expectAuthFailures(s.api, method, path, { ws: s.ws, body: sent });
    expect(await counts(s.ws.id)).toEqual(before);
    expect(await s.ws.as(() => Contact.fromID(contact.id))).toEqual(contact);
  });
});
