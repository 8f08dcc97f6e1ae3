import { apiSuite, expectAuthFailures, expectError, expectOk, expectValidation, factory } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

/** The recipient's timezone (#14): contacts' `timezone` and the campaign's `timezoneMode`. */
const s = apiSuite();
const ZONE = "must be an IANA timezone such as Europe/Paris";

describe("contacts' timezone", () => {
  it("is set on create (canonical spelling), changed and cleared by PUT, null by default", async () => {
    const created = expectOk(await s.api.post("/v1/contacts", { email: "tz1@example.org", timezone: " asia/kathmandu " }), 201);
    expect(created.timezone).toBe("Asia/Kathmandu");
    const plain = expectOk(await s.api.post("/v1/contacts", { email: "tz2@example.org" }), 201);
    expect(plain.timezone).toBeNull();
    const moved = expectOk(await s.api.put(`/v1/contacts/${created.id}`, { timezone: "Australia/Sydney" }));
    expect(moved.timezone).toBe("Australia/Sydney");
    // Other fields leave it alone; null clears it.
    expect(expectOk(await s.api.put(`/v1/contacts/${created.id}`, { firstName: "Ada" })).timezone).toBe("Australia/Sydney");
    expect(expectOk(await s.api.put(`/v1/contacts/${created.id}`, { timezone: null })).timezone).toBeNull();
  });

  it("answers 400 naming the field for a zone IANA does not have (or dropped), or an offset", async () => {
    for (const timezone of ["Mars/Olympus", "+05:45", "US/Pacific-New", "local", 42]) {
      expectValidation(await s.api.post("/v1/contacts", { email: "bad@example.org", timezone }), ["timezone"]);
    }
    const contact = await factory.contact(s.ws);
    expectValidation(await s.api.put(`/v1/contacts/${contact.id}`, { timezone: "Europe/Atlantis" }), { timezone: ZONE });
  });

  it("is imported in bulk (update fills it, absent keeps it); a bad row is reported with its path", async () => {
    const res = expectOk(
      await s.api.post("/v1/contacts/bulk", {
        contacts: [
          { email: "bulk-tz1@example.org", timezone: "America/New_York" },
          { email: "bulk-tz2@example.org", timezone: "Nowhere/City" },
          { email: "bulk-tz3@example.org" },
        ],
      }),
    );
    expect(res).toMatchObject({ created: 2, errors: [{ index: 1, details: [{ path: "contacts[1].timezone", message: ZONE }] }] });
    const again = expectOk(
      await s.api.post("/v1/contacts/bulk", {
        onDuplicate: "update",
        contacts: [{ email: "bulk-tz1@example.org" }, { email: "bulk-tz3@example.org", timezone: "Pacific/Auckland" }],
      }),
    );
    expect(again).toMatchObject({ updated: 2 });
    const listed = expectOk(await s.api.post("/v1/contacts/search", { query: "bulk-tz" }));
    expect(Object.fromEntries(listed.map((c: { email: string; timezone: string | null }) => [c.email, c.timezone]))).toEqual({
      "bulk-tz1@example.org": "America/New_York",
      "bulk-tz3@example.org": "Pacific/Auckland",
    });
  });

  it("filters the list, the search and enrolment; a bad zone is a 400 on the parameter", async () => {
    const api = await s.fresh();
    const lima = expectOk(await api.api.post("/v1/contacts", { email: "lima@example.org", timezone: "America/Lima" }), 201);
    expectOk(await api.api.post("/v1/contacts", { email: "paris@example.org", timezone: "Europe/Paris" }), 201);
    const listed = expectOk(await api.api.get("/v1/contacts?timezone=america/lima"));
    expect(listed.map((c: { id: string }) => c.id)).toEqual([lima.id]);
    const searched = expectOk(await api.api.post("/v1/contacts/search", { filters: { timezone: "America/Lima" } }));
    expect(searched.map((c: { id: string }) => c.id)).toEqual([lima.id]);
    expectValidation(await api.api.get("/v1/contacts?timezone=Moon/Base"), ["timezone"]);
    expectValidation(await api.api.post("/v1/contacts/search", { filters: { timezone: "Moon/Base" } }), ["filters.timezone"]);

    const account = await factory.emailAccount(api.w);
    const campaign = expectOk(await api.api.post("/v1/campaigns", { name: "By zone", emailAccountId: account.id }), 201);
    const added = expectOk(await api.api.post(`/v1/campaigns/${campaign.id}/contacts`, { filters: { timezone: "America/Lima" } }));
    expect(added).toMatchObject({ added: 1, skipped: 0 });
  });

  it("401 without a valid key, 404 for another workspace's contact (unchanged)", async () => {
    await expectAuthFailures(s.api, "POST", "/v1/contacts", {
      ws: s.ws,
      body: { email: "auth-tz@example.org", timezone: "Asia/Tokyo" },
    });
    const theirs = await factory.contact(s.other);
    expectError(await s.api.put(`/v1/contacts/${theirs.id}`, { timezone: "Asia/Tokyo" }), 404, "NOT_FOUND", {
      message: `Contact ${theirs.id} not found`,
    });
    const [row] = await s.other.as(async () => [(await import("@fluenzr/core/contact")).fromID(theirs.id)]);
    expect((await row)?.timezone).toBeNull();
  });
});

describe("campaigns' timezoneMode", () => {
  it("defaults to campaign, is set on create and by PUT, and is refused when unknown (400 naming it)", async () => {
    const account = await factory.emailAccount(s.ws);
    const plain = expectOk(await s.api.post("/v1/campaigns", { name: "Plain", emailAccountId: account.id }), 201);
    expect(plain.settings.timezoneMode).toBe("campaign");
    const theirs = expectOk(
      await s.api.post("/v1/campaigns", { name: "Theirs", emailAccountId: account.id, settings: { timezoneMode: "contact" } }),
      201,
    );
    expect(theirs.settings).toMatchObject({ timezoneMode: "contact", timezone: "UTC" });
    const updated = expectOk(await s.api.put(`/v1/campaigns/${plain.id}`, { settings: { timezoneMode: "contact" } }));
    expect(updated.settings.timezoneMode).toBe("contact");
    expectValidation(
      await s.api.post("/v1/campaigns", { name: "Bad", emailAccountId: account.id, settings: { timezoneMode: "recipient" } }),
      { "settings.timezoneMode": "must be one of campaign, contact" },
    );
    expectValidation(await s.api.put(`/v1/campaigns/${plain.id}`, { settings: { timezoneMode: null } }), ["settings.timezoneMode"]);
  });

  it("401 without a valid key, 404 for another workspace's campaign", async () => {
    const account = await factory.emailAccount(s.ws);
    await expectAuthFailures(s.api, "POST", "/v1/campaigns", {
      ws: s.ws,
      body: { name: "Auth", emailAccountId: account.id, settings: { timezoneMode: "contact" } },
    });
    const theirAccount = await factory.emailAccount(s.other);
    const theirs = await s.other.as(async () =>
      (await import("@fluenzr/core/campaign")).create({ name: "Other", emailAccountId: theirAccount.id }),
    );
    expectError(await s.api.put(`/v1/campaigns/${theirs.id}`, { settings: { timezoneMode: "contact" } }), 404, "NOT_FOUND", {
      message: `Campaign ${theirs.id} not found`,
    });
  });
});
