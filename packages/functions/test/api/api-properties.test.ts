import * as Contact from "@fluenzr/core/contact";
import { createApp, MAX_BODY_BYTES } from "@fluenzr/functions/api/app";
import {
  apiClient,
  counts,
  expectEnvelope,
  expectError,
  expectOk,
  expectValidation,
  FIELDS,
  factory,
  runs,
  snapshot,
  useTestDatabase,
} from "@fluenzr/testing";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * Cross-cutting API behaviour (SPEC §1) and property-based tests: random and malformed input to
 * every write and list endpoint never yields a 500, always an envelope, and a refused request
 * never writes anything.
 */

useTestDatabase();

const app = createApp();
const RUNS = runs(60);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A workspace with a contact, a group, an email account and a member, and a client over it. */
async function fixture() {
  const ws = await factory.workspace({ rateLimit: 1_000_000 });
  const group = await factory.group(ws, { name: "Fixture" });
  const contact = await factory.contact(ws, { email: "fixture@example.org", tags: ["t"], groupIds: [group.id] });
  const account = await factory.emailAccount(ws, { email: "sender@example.org" });
  return { ws, group, contact, account, api: apiClient(app, ws.key) };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

/**
 * Every write endpoint: the keys its body knows and a valid body, which random tests mutate so
 * that they reach the database rather than stop at the first validation error. `row` mutates the
 * first bulk row instead of the top level.
 */
interface Write {
  method: string;
  label: string;
  path: (f: Fixture) => string;
  keys: string[];
  valid: (f: Fixture, n: number) => Record<string, unknown>;
  row?: boolean;
}
const CONTACT_KEYS = ["email", "firstName", "lastName", "company", "jobTitle", "phone", "website", "status", "tags", "customFields"];
const WRITES: Write[] = [
  {
    method: "POST",
    label: "/contacts",
    path: () => "/v1/contacts",
    keys: [...CONTACT_KEYS, "groupIds"],
    valid: (_, n) => ({ email: `p${n}@prop.example`, tags: ["x"], customFields: { a: 1 } }),
  },
  {
    method: "PUT",
    label: "/contacts/:id",
    path: (f) => `/v1/contacts/${f.contact.id}`,
    keys: CONTACT_KEYS,
    valid: () => ({ firstName: "B" }),
  },
  {
    method: "POST",
    label: "/contacts/bulk (top level)",
    path: () => "/v1/contacts/bulk",
    keys: ["contacts", "groupIds", "onDuplicate"],
    valid: (_, n) => ({ contacts: [{ email: `b${n}@prop.example` }], onDuplicate: "update" }),
  },
  {
    method: "POST",
    label: "/contacts/bulk (a row)",
    path: () => "/v1/contacts/bulk",
    keys: CONTACT_KEYS,
    valid: (_, n) => ({ contacts: [{ email: `r${n}@prop.example` }], onDuplicate: "update" }),
    row: true,
  },
  {
    method: "POST",
    label: "/contacts/search",
    path: () => "/v1/contacts/search",
    keys: ["query", "filters", "sort", "page", "perPage"],
    valid: () => ({ query: "a", filters: { status: "active", tags: ["t"] }, sort: { field: "email", order: "asc" } }),
  },
  ...(["POST", "DELETE"] as const).flatMap((method): Write[] => [
    {
      method,
      label: "/contacts/:id/groups",
      path: (f) => `/v1/contacts/${f.contact.id}/groups`,
      keys: ["groupIds"],
      valid: (f) => ({ groupIds: [f.group.id] }),
    },
    {
      method,
      label: "/contacts/:id/tags",
      path: (f) => `/v1/contacts/${f.contact.id}/tags`,
      keys: ["tags"],
      valid: () => ({ tags: ["t"] }),
    },
    {
      method,
      label: "/groups/:id/contacts",
      path: (f) => `/v1/groups/${f.group.id}/contacts`,
      keys: ["contactIds"],
      valid: (f) => ({ contactIds: [f.contact.id] }),
    },
  ]),
  { method: "POST", label: "/groups", path: () => "/v1/groups", keys: ["name", "description"], valid: () => ({ name: "G" }) },
  {
    method: "PUT",
    label: "/groups/:id",
    path: (f) => `/v1/groups/${f.group.id}`,
    keys: ["name", "description"],
    valid: () => ({ name: "G" }),
  },
  {
    method: "POST",
    label: "/email-accounts",
    path: () => "/v1/email-accounts",
    keys: ["email", "name", "replyTo", "dailyLimit"],
    valid: (_, n) => ({ email: `s${n}@prop.example`, name: "S" }),
  },
  {
    method: "PUT",
    label: "/email-accounts/:id",
    path: (f) => `/v1/email-accounts/${f.account.id}`,
    keys: ["name", "replyTo", "dailyLimit"],
    valid: () => ({ name: "S" }),
  },
];
const LISTS: Array<[string, string[]]> = [
  ["/v1/contacts", ["page", "perPage", "sort", "order", "email", "status", "groupId", "tag"]],
  ["/v1/groups", ["page", "perPage", "sort", "order"]],
  ["/v1/email-accounts", ["page", "perPage", "sort", "order", "status"]],
];

// ---- generators -------------------------------------------------------------------------------

const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom("", " ", "%", "_", "\\", "'; DROP TABLE contact; --", "😀", "a".repeat(300), "x@y.co", "ADA@EXAMPLE.ORG", "a\u0000b"),
);
const idLike = fc
  .tuple(fc.constantFrom("con_", "grp_", "acc_"), fc.oneof(fc.string({ maxLength: 30 }), fc.constant("\u0000")))
  .map(([prefix, rest]) => prefix + rest);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(1e20, -1, 0.5, 2 ** 53));
const scalar = fc.oneof(text, idLike, number, fc.boolean(), fc.constant(null));
const value = fc.oneof(
  { depthSize: "small" },
  scalar,
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(
    fc.oneof(text, fc.constantFrom("a", "1bad", "__proto__", "status", "tags", "groups", "customFields", "field", "order")),
    scalar,
    { maxKeys: 4 },
  ),
);
/** Random objects with the endpoint's keys (and others), any JSON at all, or a valid body with one or two fields changed. */
let serial = 0;
const bodyFor = (write: Write, f: Fixture) => {
  const key = fc.oneof(fc.constantFrom(...write.keys), text);
  const mutation = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 2 }).map((entries) => {
    const valid = write.valid(f, ++serial);
    const changes = Object.fromEntries(entries);
    if (!write.row) return { ...valid, ...changes };
    return { ...valid, contacts: [{ ...(valid.contacts as object[])[0], ...changes }] };
  });
  return fc.oneof(
    { arbitrary: mutation, weight: 3 },
    fc.array(fc.tuple(key, value), { maxLength: 6 }).map((entries) => Object.fromEntries(entries)),
    fc.jsonValue({ maxDepth: 3 }),
  );
};
const malformedJson = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.json({ maxDepth: 2 }).map((s) => s.slice(0, -1)),
    fc.json({ maxDepth: 2 }).map((s) => `${s},`),
    fc.constantFrom("{", "{'email': 'a@b.co'}", "[1,]", "nul", '{"email":}', "undefined", '{"a":1}}'),
  )
  .filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  });
const queryValue = fc.oneof(
  text,
  fc.constantFrom("1", "0", "-1", "100", "101", "1e3", " 5 ", "0x10", "999999999", "asc", "email", "active", "grp_x", "a\u0000"),
);
const queryString = (keys: string[]) =>
  fc.oneof(
    fc
      .array(fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...keys), weight: 3 }, text), queryValue), { minLength: 1, maxLength: 2 })
      .map((pairs) => new URLSearchParams(pairs).toString()),
    fc.string({ maxLength: 40 }),
  );

// ---- cross-cutting behaviour ------------------------------------------------------------------

describe("cross-cutting behaviour", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it.each(WRITES)("$method $label: malformed JSON answers 400 and writes nothing", async ({ method, path }) => {
    const before = await snapshot(f.ws.id);
    for (const rawBody of ["{", '{"email": "a@b.co",}', "", "[1,]", "{'a': 1}"]) {
      expectError(await f.api.request(method, path(f), { rawBody }), 400, "VALIDATION_ERROR", {
        message: "Malformed JSON in request body",
        details: [{ path: "", message: "Malformed JSON in request body" }],
      });
    }
    expect(await snapshot(f.ws.id)).toEqual(before);
  });

  it.each(WRITES)("$method $label: a body over 1 MB answers 413 and writes nothing", async ({ method, path }) => {
    const before = await snapshot(f.ws.id);
    const rawBody = JSON.stringify({
      name: "x".repeat(MAX_BODY_BYTES),
      email: "big@example.org",
      contacts: [{ email: "big@example.org" }],
    });
    expectError(await f.api.request(method, path(f), { rawBody }), 413, "PAYLOAD_TOO_LARGE", { message: "Request body exceeds 1 MB" });
    expect(await snapshot(f.ws.id)).toEqual(before);
  });

  it("accepts a body of exactly 1 MB and refuses one byte more", async () => {
    const body = (size: number) => {
      const base = JSON.stringify({ contacts: [{ email: "edge@example.org" }], pad: "" });
      return base.replace('"pad":""', `"pad":"${"x".repeat(size - base.length)}"`);
    };
    expect(body(MAX_BODY_BYTES)).toHaveLength(MAX_BODY_BYTES);
    expectError(await f.api.request("POST", "/v1/contacts/bulk", { rawBody: body(MAX_BODY_BYTES + 1) }), 413, "PAYLOAD_TOO_LARGE");
    expect(expectOk(await f.api.request("POST", "/v1/contacts/bulk", { rawBody: body(MAX_BODY_BYTES) }))).toMatchObject({ created: 1 });
  });

  it("puts X-RateLimit-* on every authenticated response, counting down", async () => {
    const ws = await factory.workspace();
    const api = apiClient(app, ws.key);
    const responses = [await api.get("/v1/contacts"), await api.post("/v1/groups", {}), await api.get("/v1/groups/grp_unknown")];
    expect(responses.map((r) => r.status)).toEqual([200, 400, 404]);
    const now = Date.now() / 1000;
    responses.forEach((res, i) => {
      expect(res.headers.get("x-ratelimit-limit")).toBe("1000");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(999 - i));
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      expect(Number.isInteger(reset) && reset % 60 === 0).toBe(true);
      expect(reset).toBeGreaterThan(now - 1);
      expect(reset).toBeLessThanOrEqual(now + 61);
    });
  });

  it("answers 429 RATE_LIMITED with Retry-After to the 4th request of a key limited to 3 a minute, and writes nothing", async () => {
    const ws = await factory.workspace({ rateLimit: 3 });
    const api = apiClient(app, ws.key);
    for (const remaining of ["2", "1", "0"]) {
      const res = await api.get("/v1/contacts");
      expect([res.status, res.headers.get("x-ratelimit-remaining")]).toEqual([200, remaining]);
    }
    for (let i = 0; i < 2; i++) {
      const res = await api.post("/v1/contacts", { email: "limited@example.org" });
      expectError(res, 429, "RATE_LIMITED", { message: "Rate limit of 3 requests per minute exceeded" });
      expect([res.headers.get("x-ratelimit-limit"), res.headers.get("x-ratelimit-remaining")]).toEqual(["3", "0"]);
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120, String(retryAfter)).toBe(true);
    }
    expect((await counts(ws.id)).contacts).toBe(0);
    expect((await f.api.get("/v1/contacts")).status).toBe(200);
  });

  it("echoes a sane X-Request-Id and makes one up otherwise, on every kind of response", async () => {
    const requests: Array<[string, string, { key?: null; rawBody?: string }]> = [
      ["GET", "/v1/contacts", {}],
      ["GET", "/v1/contacts", { key: null }],
      ["POST", "/v1/contacts", { rawBody: "{" }],
      ["GET", "/v1/unknown", {}],
      // Responses not built as JSON envelopes get the header after the handler.
      ["GET", "/docs", { key: null }],
      ["GET", "/", { key: null }],
      ["GET", "/v1/openapi.json", { key: null }],
      ["GET", "/v1/unsubscribe/not-a-token", { key: null }],
    ];
    for (const [method, path, options] of requests) {
      const echoed = await f.api.request(method, path, { ...options, headers: { "x-request-id": "req-42.a:b_c" } });
      expect(echoed.headers.get("x-request-id")).toBe("req-42.a:b_c");
      for (const headers of [{}, { "x-request-id": "has spaces" }, { "x-request-id": "x".repeat(129) }] as Array<Record<string, string>>) {
        const made = await f.api.request(method, path, { ...options, headers });
        expect(made.headers.get("x-request-id")).toMatch(UUID);
      }
    }
  });

  it.each([
    ["GET", "/v1/unknown", true],
    ["GET", "/v1/unknown", false],
    ["POST", "/v1/contacts/a/b/c", true],
    ["PATCH", "/v1/groups/grp_x", true],
    ["GET", "/nowhere", false],
  ])("%s %s (key: %s) answers the 404 envelope", async (method, path, withKey) => {
    const res = await f.api.request(method, path, { key: withKey ? undefined : null, body: method === "GET" ? undefined : {} });
    expectError(res, 404, "NOT_FOUND", { message: `No route for ${method} ${path}` });
  });

  describe("NUL characters are refused with 400, never stored or sent to SQL", () => {
    it.each<[string, (f: Fixture) => string, unknown, string]>([
      ["POST", () => "/v1/contacts", { email: "a@b.co", customFields: { k: "\u0000" } }, "customFields.k"],
      ["POST", (f) => `/v1/contacts/${f.contact.id}/tags`, { tags: ["a\u0000"] }, "tags[0]"],
      ["GET", () => "/v1/contacts/con_%00", undefined, ""],
    ])("%s %s %j (fixed here)", async (method, path, body, field) => {
      const res = await f.api.request(method, path(f), { body });
      if (method === "GET") expectError(res, 404, "NOT_FOUND");
      else expectValidation(res, [field]);
    });

    it.each<[string, (f: Fixture) => string, unknown, string]>([
      ["POST", () => "/v1/contacts", { email: "nul@b.co", firstName: "a\u0000" }, "firstName"],
      ["PUT", (f) => `/v1/contacts/${f.contact.id}`, { company: "\u0000" }, "company"],
      ["POST", () => "/v1/contacts/search", { query: "\u0000" }, "query"],
      ["GET", () => "/v1/contacts?email=%00", undefined, "email"],
      ["GET", () => "/v1/contacts?tag=%00", undefined, "tag"],
      ["GET", () => "/v1/contacts?groupId=grp_%00", undefined, "groupId"],
      ["POST", (f) => `/v1/contacts/${f.contact.id}/groups`, { groupIds: ["grp_\u0000"] }, "groupIds[0]"],
      ["POST", () => "/v1/groups", { name: "\u0000" }, "name"],
      ["PUT", (f) => `/v1/groups/${f.group.id}`, { description: "\u0000" }, "description"],
      ["POST", (f) => `/v1/groups/${f.group.id}/contacts`, { contactIds: ["con_\u0000"] }, "contactIds[0]"],
      ["POST", () => "/v1/email-accounts", { email: "nul@b.co", name: "\u0000" }, "name"],
      ["PUT", (f) => `/v1/email-accounts/${f.account.id}`, { name: "a\u0000" }, "name"],
    ])("refuses U+0000 (PostgreSQL cannot store it) with the field's path: %s %s %j", async (method, path, body, field) => {
      const before = await snapshot(f.ws.id);
      expectValidation(await f.api.request(method, path(f), { body }), [field]);
      expect(await snapshot(f.ws.id)).toEqual(before);
    });

    it("a bulk row with a NUL is a row error", async () => {
      const res = await f.api.post("/v1/contacts/bulk", { contacts: [{ email: "nulrow@b.co", lastName: "\u0000" }] });
      expect(expectOk(res).errors.map((e: { details: unknown }) => e.details)).toEqual([
        [{ path: "contacts[0].lastName", message: expect.any(String) }],
      ]);
    });
  });

  it("search with a huge page answers 400 (pageBody has a maximum)", async () => {
    expectValidation(await f.api.post("/v1/contacts/search", { page: 1e17, perPage: 100 }), ["page"]);
  });
});

// ---- properties -------------------------------------------------------------------------------

describe("properties", () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture();
  });

  it.each(WRITES)("$method $label: random bodies never 500, and a refusal writes nothing", async (write) => {
    let before = await snapshot(f.ws.id);
    await fc.assert(
      fc.asyncProperty(bodyFor(write, f), async (body) => {
        const res = await f.api.request(write.method, write.path(f), { body });
        expectEnvelope(res);
        const after = await snapshot(f.ws.id);
        if (res.status >= 400) expect(after).toEqual(before);
        before = after;
      }),
      { numRuns: RUNS },
    );
  });

  it.each(WRITES)("$method $label: malformed JSON is always a 400 and writes nothing", async ({ method, path }) => {
    const before = await snapshot(f.ws.id);
    await fc.assert(
      fc.asyncProperty(malformedJson, async (rawBody) => {
        const res = await f.api.request(method, path(f), { rawBody });
        expectEnvelope(res);
        expect(res.body.error.code).toBe("VALIDATION_ERROR");
      }),
      { numRuns: runs(30) },
    );
    expect(await snapshot(f.ws.id)).toEqual(before);
  });

  it.each(LISTS)("GET %s: random query strings never 500; pages are consistent; errors name a parameter", async (path, keys) => {
    await fc.assert(
      fc.asyncProperty(queryString(keys), async (query) => {
        const res = await f.api.get(`${path}?${query}`);
        expectEnvelope(res);
        if (res.status === 400) {
          for (const d of res.body.error.details) expect(keys).toContain(d.path);
          return;
        }
        expect(res.status).toBe(200);
        const { page, perPage, total, totalPages } = res.body.meta;
        expect(perPage).toBeGreaterThanOrEqual(1);
        expect(perPage).toBeLessThanOrEqual(100);
        expect(totalPages).toBe(Math.ceil(total / perPage));
        expect(res.body.data.length).toBe(Math.max(0, Math.min(perPage, total - (page - 1) * perPage)));
      }),
      { numRuns: runs(150) },
    );
  });

  it("bulk: created + updated + skipped + errors = rows; errors are exactly the bad rows; statuses never change", async () => {
    type Row = { kind: "new" | "existing" | "dup" | "bad"; n: number; upper: boolean };
    const row = fc.record({
      kind: fc.constantFrom("new", "existing", "dup", "bad"),
      n: fc.nat(5),
      upper: fc.boolean(),
    }) as fc.Arbitrary<Row>;
    const bad = [
      { email: "no-at" },
      42,
      null,
      { firstName: "x" },
      { email: "ok@x.co", customFields: { "1x": 1 } },
      { email: "ok@x.co", status: "gone" },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 25 }),
        fc.constantFrom("skip", "update", undefined),
        async (rows, onDuplicate) => {
          const ws = await factory.workspace();
          const existing = [
            await factory.contact(ws, { email: "e0@bulk.example", status: "unsubscribed" }),
            await factory.contact(ws, { email: "e1@bulk.example", status: "bounced" }),
          ];
          const seen: string[] = [];
          const emails = new Set<string>();
          const contacts = rows.map((r, i) => {
            if (r.kind === "bad") return bad[r.n % bad.length];
            let email = r.kind === "existing" ? `e${r.n % 2}@bulk.example` : `n${i}@bulk.example`;
            if (r.kind === "dup" && seen.length) email = seen[r.n % seen.length]!;
            seen.push(email);
            emails.add(email);
            return { email: r.upper ? email.toUpperCase() : email, firstName: `F${i}`, status: "active" };
          });
          const res = await apiClient(app, ws.key).post("/v1/contacts/bulk", { contacts, onDuplicate });
          const result = expectOk(res);
          const olds = [...emails].filter((e) => e.startsWith("e")).length;
          expect(result.created + result.updated + result.skipped + result.errors.length).toBe(rows.length);
          expect(result.errors.map((e: { index: number }) => e.index)).toEqual(rows.flatMap((r, i) => (r.kind === "bad" ? [i] : [])));
          expect(result.created).toBe(emails.size - olds);
          expect(result.updated).toBe(onDuplicate === "update" ? olds : 0);
          expect((await counts(ws.id)).contacts).toBe(2 + result.created);
          for (const contact of existing) expect((await ws.as(() => Contact.fromID(contact.id)))?.status).toBe(contact.status);
        },
      ),
      { numRuns: runs(40) },
    );
  });

  it("bulk: a request refused as a whole (unknown group, too many rows) writes nothing", async () => {
    const before = await snapshot(f.ws.id);
    const email = fc.string({ unit: fc.constantFrom(..."abcdefgh"), minLength: 1, maxLength: 8 }).map((s) => `${s}@refused.example`);
    await fc.assert(
      fc.asyncProperty(fc.array(email, { minLength: 1, maxLength: 20 }), fc.boolean(), async (emails, tooMany) => {
        const contacts = emails.map((e) => ({ email: e }));
        const body = tooMany
          ? { contacts: Array.from({ length: 1001 }, (_, i) => contacts[i % contacts.length]) }
          : { contacts, groupIds: [f.group.id, "grp_unknown"] };
        const res = await f.api.post("/v1/contacts/bulk", body);
        expect(res.status).toBe(tooMany ? 400 : 404);
        expect(await snapshot(f.ws.id)).toEqual(before);
      }),
      { numRuns: runs(25) },
    );
  });

  it.each<[string, string, (f: Fixture) => string, Record<string, unknown>, string[]]>([
    ["create contact", "POST", () => "/v1/contacts", { email: "EMAIL" }, FIELDS.contact],
    ["update contact", "PUT", (f) => `/v1/contacts/${f.contact.id}`, { firstName: "Z" }, FIELDS.contact],
    ["create group", "POST", () => "/v1/groups", { name: "G" }, FIELDS.group],
    ["update group", "PUT", (f) => `/v1/groups/${f.group.id}`, { name: "G2" }, FIELDS.group],
    ["create account", "POST", () => "/v1/email-accounts", { email: "EMAIL", name: "A" }, FIELDS.emailAccount],
    ["update account", "PUT", (f) => `/v1/email-accounts/${f.account.id}`, { dailyLimit: 5 }, FIELDS.emailAccount],
  ])("%s: unknown fields are ignored and never echoed", async (_, method, path, base, fields) => {
    const known = new Set([...fields, "groupIds", "replyTo"]);
    const extra = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k)),
      fc.constant("MARKER-never-echoed"),
      { minKeys: 1, maxKeys: 4 },
    );
    let i = 0;
    await fc.assert(
      fc.asyncProperty(extra, async (extras) => {
        const body = Object.fromEntries(
          [...Object.entries(extras), ...Object.entries(base)].map(([k, v]) => [k, v === "EMAIL" ? `u${i++}@echo.example` : v]),
        );
        const res = await f.api.request(method, path(f), { body });
        const data = expectOk(res, method === "POST" ? 201 : 200);
        expect(Object.keys(data).sort()).toEqual(fields);
        expect(res.text).not.toContain("MARKER");
      }),
      { numRuns: runs(25) },
    );
  });
});
