import {
  addDelay,
  canonicalCountry,
  canonicalRegion,
  canonicalTimezone,
  closing,
  firstSendDayAfter,
  isOpen,
  isValidTimezone,
  nextOpening,
  plusDays,
  publicHolidays,
  type SendWindow,
} from "@fluenzr/core/schedule";
import { describe, expect, it } from "vitest";

const weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"] as const;
const paris: SendWindow = { sendDays: weekdays, sendHoursStart: 9, sendHoursEnd: 18, timezone: "Europe/Paris" };
const at = (iso: string) => new Date(iso);

describe("send window", () => {
  it("is open on send days within [start, end) local time", () => {
    // Winter: Paris is UTC+1. Monday 2026-01-12.
    expect(isOpen(at("2026-01-12T07:59:59Z"), paris)).toBe(false);
    expect(isOpen(at("2026-01-12T08:00:00Z"), paris)).toBe(true);
    expect(isOpen(at("2026-01-12T16:59:59Z"), paris)).toBe(true);
    expect(isOpen(at("2026-01-12T17:00:00Z"), paris)).toBe(false);
    // Saturday.
    expect(isOpen(at("2026-01-17T10:00:00Z"), paris)).toBe(false);
  });

  it("follows DST: the same local hours are different UTC hours in summer", () => {
    // Summer: UTC+2. Monday 2026-06-15, 07:30Z is 09:30 local.
    expect(isOpen(at("2026-06-15T07:30:00Z"), paris)).toBe(true);
    expect(isOpen(at("2026-06-15T16:30:00Z"), paris)).toBe(false);
  });

  it("finds the next opening across the weekend and DST changes", () => {
    // Friday 18:30 local → Monday 09:00 local.
    expect(nextOpening(at("2026-01-16T17:30:00Z"), paris).toISOString()).toBe("2026-01-19T08:00:00.000Z");
    // Sunday 2026-03-29 is the spring-forward day; Monday opens at 09:00 CEST = 07:00Z.
    expect(nextOpening(at("2026-03-28T12:00:00Z"), paris).toISOString()).toBe("2026-03-30T07:00:00.000Z");
    // Already open: now.
    expect(nextOpening(at("2026-01-12T10:00:00Z"), paris).toISOString()).toBe("2026-01-12T10:00:00.000Z");
  });

  it("opens at the first instant after a start hour lost to DST", () => {
    const night: SendWindow = { sendDays: ["sunday"], sendHoursStart: 2, sendHoursEnd: 4, timezone: "Europe/Paris" };
    // 2026-03-29 02:00 does not exist in Paris; the window opens at 03:00 CEST = 01:00Z.
    expect(nextOpening(at("2026-03-28T22:00:00Z"), night).toISOString()).toBe("2026-03-29T01:00:00.000Z");
  });

  it("handles São Paulo (no DST since 2019) and Kathmandu (+05:45)", () => {
    const sp: SendWindow = { ...paris, timezone: "America/Sao_Paulo" };
    expect(isOpen(at("2026-01-12T12:00:00Z"), sp)).toBe(true); // 09:00 local
    expect(isOpen(at("2026-01-12T11:59:00Z"), sp)).toBe(false);
    const ktm: SendWindow = { ...paris, timezone: "Asia/Kathmandu" };
    expect(nextOpening(at("2026-01-12T00:00:00Z"), ktm).toISOString()).toBe("2026-01-12T03:15:00.000Z");
  });

  it("knows when an open window closes, end of day included", () => {
    expect(closing(at("2026-01-12T10:00:00Z"), paris).toISOString()).toBe("2026-01-12T17:00:00.000Z");
    const allDay: SendWindow = { ...paris, sendHoursStart: 0, sendHoursEnd: 24 };
    expect(closing(at("2026-01-12T10:00:00Z"), allDay).toISOString()).toBe("2026-01-12T23:00:00.000Z");
  });

  it("validates IANA timezones", () => {
    expect(isValidTimezone("Europe/Paris")).toBe(true);
    expect(isValidTimezone("UTC")).toBe(true);
    expect(isValidTimezone("Mars/Olympus")).toBe(false);
    expect(isValidTimezone("local")).toBe(false);
    expect(isValidTimezone("+02:00")).toBe(false);
  });

  it("spells timezones as current tzdata does and refuses names it no longer has", () => {
    expect(canonicalTimezone("utc")).toBe("UTC");
    expect(canonicalTimezone("europe/paris")).toBe("Europe/Paris");
    expect(canonicalTimezone("Europe/Kyiv")).toBe("Europe/Kyiv");
    // A link that tzdata keeps stays as given; ones it dropped are refused though ICU still knows them.
    expect(canonicalTimezone("US/Pacific")).toBe("US/Pacific");
    expect(canonicalTimezone("US/Pacific-New")).toBeUndefined();
    expect(canonicalTimezone("Canada/East-Saskatchewan")).toBeUndefined();
    expect(isValidTimezone("US/Pacific-New")).toBe(false);
  });
});

describe("delays", () => {
  it("counts calendar days in wall-clock time across DST", () => {
    // Friday 2026-03-27 10:00 Paris (UTC+1) + 3 days → Monday 10:00 Paris (UTC+2).
    expect(addDelay(at("2026-03-27T09:00:00Z"), { days: 3, hours: 0, businessDays: false }, "Europe/Paris").toISOString()).toBe(
      "2026-03-30T08:00:00.000Z",
    );
  });

  it("counts business days Monday to Friday in the campaign's timezone", () => {
    // Friday 10:00 + 3 business days → Wednesday 10:00.
    expect(addDelay(at("2026-01-16T09:00:00Z"), { days: 3, hours: 0, businessDays: true }, "Europe/Paris").toISOString()).toBe(
      "2026-01-21T09:00:00.000Z",
    );
    // Saturday + 1 business day → Monday.
    expect(addDelay(at("2026-01-17T09:00:00Z"), { days: 1, hours: 0, businessDays: true }, "Europe/Paris").toISOString()).toBe(
      "2026-01-19T09:00:00.000Z",
    );
    // Friday 23:30 in Kathmandu is Friday there even though it is still Friday 17:45 UTC.
    expect(addDelay(at("2026-01-16T17:45:00Z"), { days: 1, hours: 0, businessDays: true }, "Asia/Kathmandu").toISOString()).toBe(
      "2026-01-19T17:45:00.000Z",
    );
  });

  it("adds hours as elapsed time", () => {
    expect(addDelay(at("2026-03-29T00:30:00Z"), { days: 0, hours: 2, businessDays: false }, "Europe/Paris").toISOString()).toBe(
      "2026-03-29T02:30:00.000Z",
    );
  });
});

describe("holidays and skipped dates (#14)", () => {
  const week = ["monday", "tuesday", "wednesday", "thursday", "friday"] as const;
  const france: SendWindow = {
    sendDays: [...week],
    sendHoursStart: 9,
    sendHoursEnd: 18,
    timezone: "Europe/Paris",
    holidays: { country: "FR" },
  };

  it("knows a country's public holidays from the calendar package, and a region's own", () => {
    const fr = publicHolidays({ country: "FR" }, 2026);
    expect([...fr].sort()).toEqual([
      "2026-01-01",
      "2026-04-06",
      "2026-05-01",
      "2026-05-08",
      "2026-05-14",
      "2026-05-25",
      "2026-07-14",
      "2026-08-15",
      "2026-11-01",
      "2026-11-11",
      "2026-12-25",
    ]);
    // Alsace-Moselle (Bas-Rhin, 67) adds Good Friday and St Stephen's Day.
    const alsace = publicHolidays({ country: "FR", region: "67" }, 2026);
    expect(alsace.has("2026-04-03")).toBe(true);
    expect(alsace.has("2026-12-26")).toBe(true);
    expect(fr.has("2026-04-03")).toBe(false);
    expect(canonicalCountry("fr")).toBe("FR");
    expect(canonicalCountry("XX")).toBeUndefined();
    expect(canonicalRegion("DE", "by")).toBe("BY");
    expect(canonicalRegion("FR", "BY")).toBeUndefined();
  });

  it("is closed all day on a holiday and on a skipped date, in the window's timezone", () => {
    // Christmas 2026 is a Friday: 10:00 Paris is closed; the next opening is Monday 28th.
    expect(isOpen(at("2026-12-25T09:00:00Z"), france)).toBe(false);
    expect(nextOpening(at("2026-12-25T09:00:00Z"), france).toISOString()).toBe("2026-12-28T08:00:00.000Z");
    // Thursday 24th is open unless it is skipped.
    expect(isOpen(at("2026-12-24T09:00:00Z"), france)).toBe(true);
    const skipping = { ...france, skipDates: ["2026-12-24", "2026-12-28"] };
    expect(isOpen(at("2026-12-24T09:00:00Z"), skipping)).toBe(false);
    expect(nextOpening(at("2026-12-23T17:30:00Z"), skipping).toISOString()).toBe("2026-12-29T08:00:00.000Z");
    // The local date decides: 24 Dec 23:30Z is already the 25th in Tokyo, still the 24th in New York.
    const allDay = { sendDays: [...week], sendHoursStart: 0, sendHoursEnd: 24, holidays: { country: "FR" } };
    expect(isOpen(at("2026-12-24T23:30:00Z"), { ...allDay, timezone: "Asia/Tokyo" })).toBe(false);
    expect(isOpen(at("2026-12-24T23:30:00Z"), { ...allDay, timezone: "America/New_York" })).toBe(true);
  });

  it("business-day delays do not count holidays or skipped dates; calendar days do", () => {
    // Wednesday 23 Dec + 2 business days: Thursday 24, (Friday 25 is Christmas), Monday 28.
    expect(addDelay(at("2026-12-23T10:00:00Z"), { days: 2, hours: 0, businessDays: true }, france).toISOString()).toBe(
      "2026-12-28T10:00:00.000Z",
    );
    expect(addDelay(at("2026-12-23T10:00:00Z"), { days: 2, hours: 0, businessDays: true }, "Europe/Paris").toISOString()).toBe(
      "2026-12-25T10:00:00.000Z",
    );
    const skipping = { ...france, skipDates: ["2026-12-28", "2026-12-29"] };
    expect(addDelay(at("2026-12-23T10:00:00Z"), { days: 2, hours: 0, businessDays: true }, skipping).toISOString()).toBe(
      "2026-12-30T10:00:00.000Z",
    );
    expect(addDelay(at("2026-12-23T10:00:00Z"), { days: 2, hours: 0, businessDays: false }, france).toISOString()).toBe(
      "2026-12-25T10:00:00.000Z",
    );
  });

  it("the first send day after a date passes over weekends, holidays and skipped dates", () => {
    expect(firstSendDayAfter("2026-12-24", france).toISOString()).toBe("2026-12-28T08:00:00.000Z");
    expect(firstSendDayAfter("2026-12-31", france).toISOString()).toBe("2027-01-04T08:00:00.000Z");
    expect(firstSendDayAfter("2026-12-31", { ...france, holidays: null }).toISOString()).toBe("2027-01-01T08:00:00.000Z");
  });

  it("a window whose every send day is skipped for more than a year never opens", () => {
    const dates = Array.from({ length: 400 }, (_, i) => plusDays("2026-01-01", i));
    expect(() => nextOpening(at("2026-01-01T00:00:00Z"), { ...france, skipDates: dates })).toThrow(/never opens/);
  });
});
