import { createId, isId } from "@fluenzr/core/util";
import { describe, expect, it } from "vitest";

describe("ids", () => {
  it("are prefixed, URL-safe and sort by creation time, within one millisecond too", () => {
    const sameMs = Array.from({ length: 2000 }, () => createId("contact", 1_700_000_000_000));
    const later = createId("contact", 1_700_000_000_001);
    for (const id of [...sameMs, later]) expect(id).toMatch(/^con_[0-9a-hjkmnp-tv-z]{26}$/);
    expect([...sameMs, later].sort()).toEqual([...sameMs, later]);
    expect(new Set(sameMs).size).toBe(sameMs.length);
    expect(createId("campaign", 0) < createId("campaign", 1)).toBe(true);
  });

  it("recognizes its own kind", () => {
    expect(isId("group", createId("group"))).toBe(true);
    expect(isId("group", createId("contact"))).toBe(false);
    expect(isId("contact", "con_\u0000")).toBe(false);
  });
});
