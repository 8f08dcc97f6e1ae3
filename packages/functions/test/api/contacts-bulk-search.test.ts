import * as Contact from "@fluenzr/core/contact";
import { createApp } from "@fluenzr/functions/api/app";
import {
  type ApiClient,
  counts,
  expectError,
  expectOk,
  expectPage,
  expectValidation,
  factory,
  freshApi,
  useTestDatabase,
} from "@fluenzr/testing";
import { beforeAll, describe, expect, it } from "vitest";

/** Contacts: bulk import and search (the rest of the contact API is in contacts.test.ts). */

useTestDatabase();

const app = createApp();
let other: factory.TestWorkspace;

beforeAll(async () => {
  other = await factory.workspace();
});

const fresh = () => freshApi(app);

const emails = (data: Array<{ email: string }>) => data.map((c) => c.email);
const CF_NAME = "custom field names are letters, digits and _ (at most 64), not starting with a digit";

describe("POST /v1/contacts/bulk", () => {
  it("imports rows, adds them to groups and reports bad rows by index", async () => {
    const { w, api } = await fresh();
    const group = await factory.group(w, { name: "Import" });
    const res = await api.post("/v1/contacts/bulk", {
      groupIds: [group.id, group.id],
      contacts: [
        { email: "one@bulk.example", firstName: "One", tags: ["t"], customFields: { n: 1 }, unknown: "ignored" },
        { email: "bad" },
        5,
        { email: "two@bulk.example", customFields: { "1x": 1 } },
        { email: "three@bulk.example", status: "bounced" },
      ],
    });
    expect(expectOk(res)).toEqual({
      created: 2,
      updated: 0,
      skipped: 0,
      errors: [
        {
          index: 1,
          email: "bad",
          code: "VALIDATION_ERROR",
          message: "Invalid contact",
          details: [{ path: "contacts[1].email", message: "must be a valid email address" }],
        },
        { index: 2, code: "VALIDATION_ERROR", message: "Invalid contact", details: [{ path: "contacts[2]", message: expect.any(String) }] },
        {
          index: 3,
          email: "two@bulk.example",
          code: "VALIDATION_ERROR",
          message: "Invalid contact",
          details: [{ path: "contacts[3].customFields.1x", message: CF_NAME }],
        },
      ],
    });
    const data = expectPage(await api.get("/v1/contacts", { query: { sort: "email", order: "asc" } }), {
      page: 1,
      perPage: 20,
      total: 2,
      totalPages: 1,
    });
    expect(data.map((c) => [c.email, c.status, c.groups, c.tags, c.customFields])).toEqual([
      ["one@bulk.example", "active", [{ id: group.id, name: "Import" }], ["t"], { n: 1 }],
      ["three@bulk.example", "bounced", [{ id: group.id, name: "Import" }], [], {}],
    ]);
    expect(res.text).not.toContain("ignored");
  });

  it("skips duplicates within one request (case-insensitive; the first row wins)", async () => {
    const { api } = await fresh();
    const res = await api.post("/v1/contacts/bulk", {
      contacts: [
        { email: "same@bulk.example", firstName: "First" },
        { email: " SAME@bulk.example", firstName: "Second" },
      ],
      onDuplicate: "update",
    });
    expect(expectOk(res)).toEqual({ created: 1, updated: 0, skipped: 1, errors: [] });
    const [only] = expectPage(await api.get("/v1/contacts"), { page: 1, perPage: 20, total: 1, totalPages: 1 });
    expect(only).toMatchObject({ email: "same@bulk.example", firstName: "First" });
  });

  it.each(["skip", undefined])("onDuplicate %s leaves existing contacts untouched", async (onDuplicate) => {
    const { w, api } = await fresh();
    const existing = await factory.contact(w, { email: "old@bulk.example", firstName: "Old", status: "unsubscribed" });
    const res = await api.post("/v1/contacts/bulk", {
      onDuplicate,
      contacts: [{ email: "OLD@bulk.example", firstName: "New", status: "active" }],
    });
    expect(expectOk(res)).toEqual({ created: 0, updated: 0, skipped: 1, errors: [] });
    expect(await w.as(() => Contact.fromID(existing.id))).toEqual(existing);
  });

  it("onDuplicate update fills given fields, merges custom fields, adds tags and never changes the status", async () => {
    const { w, api } = await fresh();
    const group = await factory.group(w, { name: "G" });
    const existing = await factory.contact(w, {
      email: "old@bulk.example",
      firstName: "Old",
      lastName: "Keep",
      status: "unsubscribed",
      tags: ["t1"],
      customFields: { a: 1, b: 2 },
    });
    const res = await api.post("/v1/contacts/bulk", {
      onDuplicate: "update",
      groupIds: [group.id],
      contacts: [
        { email: "Old@Bulk.example", firstName: "New", status: "active", tags: ["t2"], customFields: { b: 3, c: "x" } },
        { email: "new@bulk.example" },
      ],
    });
    expect(expectOk(res)).toEqual({ created: 1, updated: 1, skipped: 0, errors: [] });
    const after = await w.as(() => Contact.fromID(existing.id));
    expect(after).toEqual({
      ...existing,
      firstName: "New",
      tags: ["t1", "t2"],
      customFields: { a: 1, b: 3, c: "x" },
      groups: [{ id: group.id, name: "G" }],
      updatedAt: expect.any(Date),
    });
  });

  it("imports 1000 rows and refuses 1001 without writing", async () => {
    const { w, api } = await fresh();
    const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ email: `${tag}${i}@bulk.example` }));
    expect(expectOk(await api.post("/v1/contacts/bulk", { contacts: rows(1000, "a") }))).toEqual({
      created: 1000,
      updated: 0,
      skipped: 0,
      errors: [],
    });
    expectValidation(await api.post("/v1/contacts/bulk", { contacts: rows(1001, "b") }), { contacts: "must hold at most 1000 contacts" });
    expect((await counts(w.id)).contacts).toBe(1000);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ["no rows", { contacts: [] }, { contacts: "must hold at least one contact" }],
    ["rows that are not an array", { contacts: { email: "a@b.co" } }, { contacts: "must be an array of contacts" }],
    ["an unknown onDuplicate", { contacts: [{ email: "a@b.co" }], onDuplicate: "merge" }, { onDuplicate: "must be skip or update" }],
    ["a malformed group id", { contacts: [{ email: "a@b.co" }], groupIds: ["x"] }, { "groupIds[0]": "must be a grp_ id" }],
  ])("answers 400 for %s and writes nothing", async (_, body, details) => {
    const { w, api } = await fresh();
    expectValidation(await api.post("/v1/contacts/bulk", body), details);
    expect((await counts(w.id)).contacts).toBe(0);
  });

  it("answers 404 for another workspace's group and imports nothing", async () => {
    const { w, api } = await fresh();
    const foreign = await factory.group(other);
    const res = await api.post("/v1/contacts/bulk", { groupIds: [foreign.id], contacts: [{ email: "a@bulk.example" }] });
    expectError(res, 404, "NOT_FOUND", { message: `Group ${foreign.id} not found` });
    expect(await counts(w.id)).toMatchObject({ contacts: 0, members: 0 });
  });
});

describe("POST /v1/contacts/search", () => {
  let client: ApiClient;
  let g1: { id: string };
  let g2: { id: string };
  beforeAll(async () => {
    const { w, api } = await fresh();
    client = api;
    g1 = await factory.group(w);
    g2 = await factory.group(w);
    const rows: Array<Parameters<typeof factory.contact>[1]> = [
      {
        email: "ann@search.example",
        firstName: "Ann",
        company: "Northwind",
        tags: ["a", "b"],
        customFields: { tier: "gold", n: 1 },
        groupIds: [g1.id],
      },
      {
        email: "ben@search.example",
        firstName: "Ben",
        lastName: "Northman",
        tags: ["a"],
        customFields: { tier: "gold", n: "1" },
        groupIds: [g2.id],
      },
      { email: "cat@search.example", firstName: "Cat", status: "bounced" as const, customFields: { tier: "silver" } },
      { email: "north@else.example", firstName: "Dan", tags: ["b"] },
    ];
    for (const row of rows) await factory.contact(w, row);
  });

  it.each<[Record<string, unknown>, string[], { page: number; perPage: number; total: number; totalPages: number }?]>([
    [{}, ["north", "cat", "ben", "ann"]],
    [{ query: "NORTH" }, ["north", "ben", "ann"]],
    [{ query: "north", sort: { field: "email", order: "asc" } }, ["ann", "ben", "north"]],
    [{ filters: { status: "bounced" } }, ["cat"]],
    [{ filters: { groups: ["G1", "G2"] }, sort: { field: "firstName", order: "asc" } }, ["ann", "ben"]],
    [{ filters: { groups: ["grp_unknown"] } }, []],
    [{ filters: { tags: ["a", "b"] } }, ["ann"]],
    [{ filters: { customFields: { tier: "gold" } }, sort: { field: "createdAt", order: "asc" } }, ["ann", "ben"]],
    [{ filters: { customFields: { tier: "gold", n: 1 } } }, ["ann"]],
    [
      { query: "search", filters: { tags: ["a"] }, sort: { field: "email", order: "asc" }, page: 2, perPage: 1 },
      ["ben"],
      { page: 2, perPage: 1, total: 2, totalPages: 2 },
    ],
  ])("%j", async (body, expected, meta) => {
    const ids = { G1: g1.id, G2: g2.id } as Record<string, string>;
    const filters = body.filters as { groups?: string[] } | undefined;
    const sent = filters?.groups ? { ...body, filters: { ...filters, groups: filters.groups.map((g) => ids[g] ?? g) } } : body;
    const data = expectPage(
      await client.post("/v1/contacts/search", sent),
      meta ?? { page: 1, perPage: 20, total: expected.length, totalPages: expected.length ? 1 : 0 },
    );
    expect(emails(data).map((e) => e.split("@")[0])).toEqual(expected);
  });

  it.each<[Record<string, unknown>, Record<string, string>]>([
    [{ perPage: 0 }, { perPage: "must be at least 1" }],
    [{ page: 1.5 }, { page: "must be an integer" }],
    [{ sort: { field: "id" } }, { "sort.field": "must be one of createdAt, updatedAt, email, firstName, lastName, company" }],
    [{ sort: { order: "sideways" } }, { "sort.order": "must be asc or desc" }],
    [{ filters: { groups: ["nope"] } }, { "filters.groups[0]": "must be a grp_ id" }],
    [{ filters: { customFields: { "1x": 1 } } }, { "filters.customFields.1x": CF_NAME }],
    [{ filters: { status: "gone" } }, { "filters.status": "must be one of active, unsubscribed, bounced, complained" }],
    [{ query: 5 }, { query: expect.any(String) as never }],
  ])("answers 400 to %j", async (body, details) => {
    expectValidation(await client.post("/v1/contacts/search", body), details);
  });
});
