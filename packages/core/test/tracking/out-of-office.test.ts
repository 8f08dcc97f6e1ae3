import { readFileSync } from "node:fs";
import type { HolidayCalendar, SendWindow } from "@fluenzr/core/schedule";
import { OutOfOffice } from "@fluenzr/core/tracking";
import { describe, expect, it } from "vitest";

const { returnDate, saysLeftCompany, verdict } = OutOfOffice;

/**
 * Out-of-office fixtures (#13 part 3): automatic replies in English, French, German and Spanish,
 * each with the return date and the hold a person computes from a calendar (fixtures.json says
 * how for the less obvious ones).
 */
interface Case {
  name: string;
  text: string;
  receivedAt: string;
  timezone: string;
  holidays?: HolidayCalendar;
  returnDate: string | null;
  holdUntil: string;
}
const fixtures = JSON.parse(readFileSync(new URL("../fixtures/out-of-office/fixtures.json", import.meta.url), "utf8")) as {
  cases: Case[];
  leftCompany: string[];
  notLeftCompany: string[];
};

const window = (c: Case): SendWindow => ({
  sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"],
  sendHoursStart: 9,
  sendHoursEnd: 18,
  timezone: c.timezone,
  holidays: c.holidays ?? null,
});

describe("out-of-office replies", () => {
  it.each(fixtures.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const at = new Date(c.receivedAt);
    expect(returnDate(c.text, at, c.timezone) ?? null).toBe(c.returnDate);
    const v = verdict(c.text, at, window(c), 7);
    expect(v.kind).toBe("hold");
    if (v.kind !== "hold") return;
    expect(v.holdUntil.toISOString()).toBe(c.holdUntil);
    expect(v.returnDate ?? null).toBe(c.returnDate);
  });

  it("reads the return date in the contact's timezone, not the server's", () => {
    // The same instant is Tuesday in Tokyo and Monday in Los Angeles.
    const at = new Date("2026-01-12T20:00:00Z");
    expect(returnDate("back tomorrow", at, "Asia/Tokyo")).toBe("2026-01-14");
    expect(returnDate("back tomorrow", at, "America/Los_Angeles")).toBe("2026-01-13");
  });

  it("takes the latest date named (the end of an absence), and the hold days when none is", () => {
    const at = new Date("2026-12-14T10:00:00Z");
    expect(returnDate("I am away from 21 December to 4 January; urgent: before 18 December call Ana.", at, "UTC")).toBe("2027-01-04");
    const w: SendWindow = {
      sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"],
      sendHoursStart: 9,
      sendHoursEnd: 18,
      timezone: "UTC",
    };
    const v = verdict("Automatic reply: I am away.", at, w, 3);
    expect(v).toEqual({ kind: "hold", holdUntil: new Date("2026-12-17T10:00:00Z") });
    // Times alone are not dates.
    expect(returnDate("Call me at 9 or at 14:30.", at, "UTC")).toBeUndefined();
  });

  it("skips the campaign's own skipped dates when choosing the first send day", () => {
    const at = new Date("2026-12-14T10:00:00Z");
    const w: SendWindow = {
      sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"],
      sendHoursStart: 9,
      sendHoursEnd: 18,
      timezone: "UTC",
      skipDates: ["2026-12-22", "2026-12-23"],
    };
    expect(verdict("back on 21 December", at, w, 7)).toEqual({
      kind: "hold",
      holdUntil: new Date("2026-12-24T09:00:00Z"),
      returnDate: "2026-12-21",
    });
  });

  it.each(fixtures.leftCompany)("'no longer with the company': %s", (text) => {
    expect(saysLeftCompany(text)).toBe(true);
    expect(verdict(text, new Date("2026-01-12T10:00:00Z"), window({ timezone: "UTC" } as Case), 7)).toEqual({ kind: "left_company" });
  });

  it.each(fixtures.notLeftCompany)("only away, not gone: %s", (text) => {
    expect(saysLeftCompany(text)).toBe(false);
  });
});
