import { Variants } from "@fluenzr/core/workflow";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

/**
 * A contact's variant: a pure function of (campaign, contact, node), so a retry, a redelivered
 * job or a restarted sender always picks the same one; across contacts the shares follow the
 * weights.
 */

/** Fixed ids (the draw is what is tested, not the id generator): the test gives the same answer every run. */
const ids = (n: number) => Array.from({ length: n }, (_, i) => `con_${(1_000_003 * i).toString(36)}`);

describe("variant choice", () => {
  it("is stable: the same contact at the same node always gets the same variant", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (campaignId, contactId, nodeId) => {
        const variants = [{ id: "a" }, { id: "b", weight: undefined }, { id: "c" }];
        const first = Variants.choose(variants, { campaignId, contactId, nodeId });
        expect(Variants.choose(variants, { campaignId, contactId, nodeId })).toBe(first);
        const point = Variants.draw(campaignId, contactId, nodeId);
        expect(point).toBeGreaterThanOrEqual(0);
        expect(point).toBeLessThan(1);
      }),
    );
  });

  it("splits contacts by the weights (within 4 standard deviations, 20,000 contacts)", () => {
    const contacts = ids(20_000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 2, maxLength: 5 }), fc.boolean(), (weights, equal) => {
        const variants = weights.map((weight, i) => ({ id: `v${i}`, weight: equal ? undefined : weight }));
        const total = variants.reduce((sum, v) => sum + (v.weight ?? 1), 0);
        const counts = new Map<string, number>();
        for (const contactId of contacts) {
          const id = Variants.choose(variants, { campaignId: "cmp_1", contactId, nodeId: "email1" });
          counts.set(id, (counts.get(id) ?? 0) + 1);
        }
        for (const v of variants) {
          const p = (v.weight ?? 1) / total;
          const sd = Math.sqrt(contacts.length * p * (1 - p));
          expect(Math.abs((counts.get(v.id) ?? 0) - contacts.length * p)).toBeLessThan(4 * sd);
        }
      }),
      { numRuns: 10 },
    );
  });

  it("draws independently per node: a contact's variant at one node says nothing of the next", () => {
    const contacts = ids(10_000);
    const variants = [{ id: "a" }, { id: "b" }];
    const same = contacts.filter(
      (contactId) =>
        Variants.choose(variants, { campaignId: "cmp_1", contactId, nodeId: "email1" }) ===
        Variants.choose(variants, { campaignId: "cmp_1", contactId, nodeId: "email2" }),
    ).length;
    // Independent halves agree half the time: 5,000 ± 4 × 50.
    expect(Math.abs(same - 5000)).toBeLessThan(200);
  });

  it("maps points to weighted ranges, the edges included", () => {
    const variants = [
      { id: "a", weight: 1 },
      { id: "b", weight: 3 },
    ];
    expect(Variants.pick(variants, 0)).toBe("a");
    expect(Variants.pick(variants, 0.2499)).toBe("a");
    expect(Variants.pick(variants, 0.25)).toBe("b");
    expect(Variants.pick(variants, 0.999999)).toBe("b");
  });
});
