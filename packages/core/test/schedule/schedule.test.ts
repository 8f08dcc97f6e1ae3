import { addDelay, canonicalTimezone, closing, isOpen, isValidTimezone, nextOpening, type SendWindow } from "@fluenzr/core/schedule";
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
