import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as Suppression from "@fluenzr/core/suppression";
import {
  apiSuite,
  expectAuthFailures,
  expectError,
  expectOk,
  expectPage,
  expectValidation,
  factory,
  ISO_UTC,
  SEED_WORKFLOW,
  type TestWorkspace,
} from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/** /v1/suppressions: the list users manage, and what an entry does to contacts and sequences. */

const s = apiSuite();

const ENTRY_FIELDS = ["createdAt", "domain", "email", "id", "note", "reason", "source"];
const count = async (workspaceId: string) =>
  (await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM suppression WHERE workspace_id = ${workspaceId}`))[0]!.n;

/** A draft campaign on the seed workflow with one contact of this address enrolled. */
async function enrolledCampaign(w: TestWorkspace, email: string) {
  const contact = await factory.contact(w, { email });
  const account = await factory.emailAccount(w);
  const campaign = await w.as(() => Campaign.create({ name: "c", emailAccountId: account.id, workflow: SEED_WORKFLOW as never }));
  await w.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: [contact.id] }));
  return { contact, campaign };
}

describe("POST /v1/suppressions", () => {
  it("suppresses an address: 201 with the entry; the contact with it becomes unsubscribed and is no longer emailable", async () => {
    const { w, api } = await s.fresh();
    const contact = await factory.contact(w, { email: "Jane@Example.com" });
    const entry = expectOk(await api.post("/v1/suppressions", { email: "jane@example.COM", note: " asked by phone " }), 201);
    expect(Object.keys(entry).sort()).toEqual(ENTRY_FIELDS);
    expect(entry).toEqual({
      id: expect.stringMatching(/^sup_[0-9a-z]{26}$/),
      email: "jane@example.COM",
      domain: null,
      reason: "manual",
      note: "asked by phone",
      source: null,
      createdAt: expect.stringMatching(ISO_UTC),
    });
    expect(expectOk(await api.get(`/v1/contacts/${contact.id}`)).status).toBe("unsubscribed");
    expect(expectOk(await api.get(`/v1/suppressions/${entry.id}`))).toEqual(entry);
  });

  it("suppresses a domain (lower-cased): every address at it, existing or created later, and enrolment skips them", async () => {
    const { w, api } = await s.fresh();
    const before = await factory.contact(w, { email: "a@blocked.example" });
    const elsewhere = await factory.contact(w, { email: "a@fine.example" });
    const entry = expectOk(await api.post("/v1/suppressions", { domain: "Blocked.Example" }), 201);
    expect(entry).toMatchObject({ email: null, domain: "blocked.example", reason: "manual" });
    const after = expectOk(await api.post("/v1/contacts", { email: "b@BLOCKED.example" }), 201);
    expect(after.status).toBe("unsubscribed");
    expect(expectOk(await api.get(`/v1/contacts/${before.id}`)).status).toBe("unsubscribed");
    expect(expectOk(await api.get(`/v1/contacts/${elsewhere.id}`)).status).toBe("active");
    const account = await factory.emailAccount(w);
    const campaign = expectOk(await api.post("/v1/campaigns", { name: "c", emailAccountId: account.id, workflow: SEED_WORKFLOW }), 201);
    const added = expectOk(await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [before.id, after.id, elsewhere.id] }));
    expect(added).toEqual({
      added: 1,
      skipped: 2,
      errors: [],
      skippedContacts: [
        { id: before.id, reason: "unsubscribed" },
        { id: after.id, reason: "unsubscribed" },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    });
    const again = expectOk(await api.post(`/v1/campaigns/${campaign.id}/contacts`, { contactIds: [elsewhere.id] }));
    expect(again).toEqual({ added: 0, skipped: 1, errors: [], skippedContacts: [{ id: elsewhere.id, reason: "already_enrolled" }] });
    // By group or filter the answer is the seed's, without the per-id list.
    const byFilter = expectOk(await api.post(`/v1/campaigns/${campaign.id}/contacts`, { filters: { status: "active" } }));
    expect(byFilter).toEqual({ added: 0, skipped: 1, errors: [] });
  });

  it("stops the open sequences of a contact suppressed mid-campaign", async () => {
    const { w, api } = await s.fresh();
    const { campaign } = await enrolledCampaign(w, "mid@example.org");
    await w.as(() => Campaign.transition(campaign.id, "start"));
    expectOk(await api.post("/v1/suppressions", { email: "MID@example.org" }), 201);
    const rows = expectOk(await api.get(`/v1/campaigns/${campaign.id}/contacts`));
    expect(rows.map((r: { status: string }) => r.status)).toEqual(["unsubscribed"]);
    // The campaign had only that contact: it is complete.
    expect(expectOk(await api.get(`/v1/campaigns/${campaign.id}`)).status).toBe("completed");
  });

  it("answers 409 naming the entry when the address or domain is already listed, and adds nothing", async () => {
    const { w, api } = await s.fresh();
    const first = expectOk(await api.post("/v1/suppressions", { email: "x@example.org" }), 201);
    const res = await api.post("/v1/suppressions", { email: "X@EXAMPLE.org" });
    expectError(res, 409, "CONFLICT", {
      message: expect.stringContaining(first.id),
      details: [{ path: "email", message: `already suppressed by ${first.id}` }],
    });
    expectOk(await api.post("/v1/suppressions", { domain: "example.net" }), 201);
    expectError(await api.post("/v1/suppressions", { domain: "EXAMPLE.net" }), 409, "CONFLICT", {
      details: [expect.objectContaining({ path: "domain" })],
    });
    expect(await count(w.id)).toBe(2);
  });

  it.each<[string, unknown, Record<string, unknown> | string[]]>([
    ["nothing", {}, [""]],
    ["both an email and a domain", { email: "a@b.example", domain: "b.example" }, { "": "give either email or domain, not both" }],
    ["an invalid email", { email: "not-an-email" }, { email: "must be a valid email address" }],
    [
      "an address as domain",
      { domain: "a@b.example" },
      { domain: "must be a domain name such as example.com (no @; an international name in its xn-- form)" },
    ],
    [
      "a domain without a dot",
      { domain: "localhost" },
      { domain: "must be a domain name such as example.com (no @; an international name in its xn-- form)" },
    ],
    ["a long note", { email: "a@b.example", note: "x".repeat(501) }, { note: "must be at most 500 characters" }],
    ["a numeric email", { email: 5 }, ["email"]],
  ])("answers 400 for %s and writes nothing", async (_, body, details) => {
    const { w, api } = await s.fresh();
    expectValidation(await api.post("/v1/suppressions", body), details);
    expect(await count(w.id)).toBe(0);
  });

  it("replays a request with the same Idempotency-Key", async () => {
    const { api } = await s.fresh();
    const headers = { "idempotency-key": "sup-once-1" };
    const first = await api.post("/v1/suppressions", { email: "once@example.org" }, { headers });
    const again = await api.post("/v1/suppressions", { email: "once@example.org" }, { headers });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
  });
});

describe("POST /v1/suppressions/bulk", () => {
  it("adds valid entries in one go, counts what was listed already, and reports invalid ones by index", async () => {
    const { w, api } = await s.fresh();
    expectOk(await api.post("/v1/suppressions", { email: "known@example.org" }), 201);
    const result = expectOk(
      await api.post("/v1/suppressions/bulk", {
        entries: [
          { email: "one@example.org" },
          { domain: "Two.Example", note: "asked" },
          { email: "KNOWN@example.org" },
          { email: "one@EXAMPLE.org" },
          { email: "broken" },
          "not an object",
        ],
      }),
    );
    expect(result).toEqual({
      created: 2,
      skipped: 2,
      errors: [
        {
          index: 4,
          code: "VALIDATION_ERROR",
          message: "Invalid entry",
          details: [{ path: "entries[4].email", message: "must be a valid email address" }],
        },
        {
          index: 5,
          code: "VALIDATION_ERROR",
          message: "Invalid entry",
          details: [{ path: "entries[5]", message: "must be an object with email or domain" }],
        },
      ],
    });
    expect(await count(w.id)).toBe(3);
  });

  it("answers 400 for no entries or more than 1000, and writes nothing", async () => {
    const { w, api } = await s.fresh();
    expectValidation(await api.post("/v1/suppressions/bulk", { entries: [] }), { entries: "must hold at least one entry" });
    const many = Array.from({ length: 1001 }, (_, i) => ({ email: `p${i}@example.org` }));
    expectValidation(await api.post("/v1/suppressions/bulk", { entries: many }), { entries: "must hold at most 1000 entries" });
    expectValidation(await api.post("/v1/suppressions/bulk", { entries: "x" }), { entries: "must be an array of entries" });
    expect(await count(w.id)).toBe(0);
  });
});

describe("GET /v1/suppressions", () => {
  it("lists newest first, paged, filtered by reason, address (its own entry or its domain's) and domain", async () => {
    const { w, api } = await s.fresh();
    const a = expectOk(await api.post("/v1/suppressions", { email: "a@one.example" }), 201);
    const d = expectOk(await api.post("/v1/suppressions", { domain: "two.example" }), 201);
    const b = await w.as(() => Suppression.put(w.id, { email: "b@one.example" }, "bounced"));
    const all = expectPage(await api.get("/v1/suppressions"), { page: 1, perPage: 20, total: 3, totalPages: 1 });
    expect(all.map((e) => e.id)).toEqual([b.entry.id, d.id, a.id]);
    expect(expectPage(await api.get("/v1/suppressions?perPage=2&page=2"), { page: 2, perPage: 2, total: 3, totalPages: 2 })).toHaveLength(
      1,
    );
    expect(expectOk(await api.get("/v1/suppressions?reason=bounced")).map((e: { id: string }) => e.id)).toEqual([b.entry.id]);
    expect(expectOk(await api.get("/v1/suppressions?email=A@ONE.example")).map((e: { id: string }) => e.id)).toEqual([a.id]);
    expect(expectOk(await api.get("/v1/suppressions?email=anyone@two.example")).map((e: { id: string }) => e.id)).toEqual([d.id]);
    expect(expectOk(await api.get("/v1/suppressions?domain=ONE.example")).map((e: { id: string }) => e.id)).toEqual([b.entry.id, a.id]);
  });

  it("answers 400 for bad filters", async () => {
    expectValidation(await s.api.get("/v1/suppressions?reason=spam"), ["reason"]);
    expectValidation(await s.api.get("/v1/suppressions?email=nope"), { email: "must be a valid email address" });
    expectValidation(await s.api.get("/v1/suppressions?domain=a@b.c"), ["domain"]);
    expectValidation(await s.api.get("/v1/suppressions?perPage=101"), { perPage: "must be at most 100" });
  });
});

describe("DELETE /v1/suppressions/:id", () => {
  it("deletes a manual entry at once: the address may be used again from then on", async () => {
    const { w, api } = await s.fresh();
    const entry = expectOk(await api.post("/v1/suppressions", { email: "back@example.org" }), 201);
    expect(expectOk(await api.delete(`/v1/suppressions/${entry.id}`))).toEqual({ id: entry.id, deleted: true });
    expectError(await api.get(`/v1/suppressions/${entry.id}`), 404, "NOT_FOUND");
    expect(expectOk(await api.post("/v1/contacts", { email: "back@example.org" }), 201).status).toBe("active");
    expect(await count(w.id)).toBe(0);
  });

  it("needs ?confirm=true for an entry an event added, and records the deletion in the contact's campaigns", async () => {
    const { w, api } = await s.fresh();
    const { contact, campaign } = await enrolledCampaign(w, "bounced@example.org");
    const { entry } = await w.as(() =>
      Suppression.put(w.id, { email: "bounced@example.org" }, "bounced", { source: { campaignId: campaign.id, messageId: null } }),
    );
    expectError(await api.delete(`/v1/suppressions/${entry.id}`), 409, "CONFLICT", {
      message: expect.stringContaining("confirm=true"),
      details: [{ path: "confirm", message: "must be true to delete an entry added by a bounced event" }],
    });
    expectValidation(await api.delete(`/v1/suppressions/${entry.id}?confirm=yes`), ["confirm"]);
    expect(await count(w.id)).toBe(1);
    expect(expectOk(await api.delete(`/v1/suppressions/${entry.id}?confirm=true`))).toEqual({ id: entry.id, deleted: true });
    const feed = expectOk(await api.get(`/v1/campaigns/${campaign.id}/activity`));
    expect(feed).toEqual([
      expect.objectContaining({ type: "unsuppressed", contactId: contact.id, metadata: { suppressionId: entry.id, reason: "bounced" } }),
    ]);
  });
});

describe("keys and workspaces", () => {
  it("401 without a valid key, on every route", async () => {
    for (const [method, path, body] of [
      ["GET", "/v1/suppressions"],
      ["POST", "/v1/suppressions", { email: "k@example.org" }],
      ["POST", "/v1/suppressions/bulk", { entries: [{ email: "k@example.org" }] }],
      ["GET", "/v1/suppressions/sup_01jq0c6b7s00000000000000"],
      ["DELETE", "/v1/suppressions/sup_01jq0c6b7s00000000000000"],
    ] as const) {
      await expectAuthFailures(s.api, method, path, { ws: s.ws, body });
    }
  });

  it("another workspace's entries are 404 and never listed", async () => {
    const theirs = await s.other.as(() => Suppression.put(s.other.id, { email: "theirs@example.org" }, "manual"));
    const message = `Suppression ${theirs.entry.id} not found`;
    expectError(await s.api.get(`/v1/suppressions/${theirs.entry.id}`), 404, "NOT_FOUND", { message });
    expectError(await s.api.delete(`/v1/suppressions/${theirs.entry.id}?confirm=true`), 404, "NOT_FOUND", { message });
    expect(expectOk(await s.api.get("/v1/suppressions?email=theirs@example.org"))).toEqual([]);
    expect(await count(s.other.id)).toBe(1);
    // An id that cannot exist is 404 too.
    expectError(await s.api.get("/v1/suppressions/grp_123"), 404, "NOT_FOUND");
  });
});
