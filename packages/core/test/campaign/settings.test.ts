import * as Campaign from "@fluenzr/core/campaign";
import { factory, sequence, useTestDatabase } from "@fluenzr/testing";
import { describe, expect, it } from "vitest";

useTestDatabase();

describe("campaign settings", () => {
  const create = async (timezone: string) => {
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    return ws.as(() => Campaign.create({ name: "Zones", emailAccountId: account.id, settings: { timezone }, workflow: sequence() }));
  };

  it("stores the timezone as current tzdata spells it", async () => {
    expect((await create("utc")).settings.timezone).toBe("UTC");
    expect((await create(" europe/paris ")).settings.timezone).toBe("Europe/Paris");
  });

  it("refuses a timezone that tzdata removed, naming the field", async () => {
    await expect(create("US/Pacific-New")).rejects.toMatchObject({
      details: [{ path: "settings.timezone", message: "must be an IANA timezone such as Europe/Paris" }],
    });
  });
});
