import * as Workflow from "@fluenzr/core/workflow";
import { expectedVariant, type PlainWorkflow, prng, randomDag } from "@fluenzr/testing";
import * as v from "valibot";
import { describe, expect, it } from "vitest";

/** Email nodes with A/B variants: what is accepted, and each mistake reported at its path, naming the node. */

const chain = (data: Record<string, unknown>, follow?: Record<string, unknown>) => ({
  nodes: [
    { id: "start", type: "start" },
    { id: "pitch", type: "email", data },
    ...(follow
      ? [
          { id: "wait", type: "delay", data: { days: 2 } },
          { id: "bump", type: "email", data: follow },
        ]
      : []),
    { id: "end", type: "end" },
  ],
  edges: follow
    ? [
        { from: "start", to: "pitch" },
        { from: "pitch", to: "wait" },
        { from: "wait", to: "bump" },
        { from: "bump", to: "end" },
      ]
    : [
        { from: "start", to: "pitch" },
        { from: "pitch", to: "end" },
      ],
});

const A = { id: "a", subject: "Quick question, {{firstName}}", body: "Hello {{firstName|there}}" };
const B = { id: "b", subject: "{{company}} and us", body: "Hi {{firstName|there}}" };

/** Schema issues as `path: message`, else the graph's errors. */
function check(input: unknown) {
  const parsed = v.safeParse(Workflow.schema, input);
  if (!parsed.success) return parsed.issues.map((i) => `${v.getDotPath(i)}: ${i.message}`);
  return Workflow.graphErrors(parsed.output).map((e) => `${e.path}: ${e.message} [${e.nodeId}]`);
}

describe("A/B variants in a workflow", () => {
  it("accepts 2–5 variants with an A/B test, defaults filled in", () => {
    const parsed = v.parse(Workflow.schema, chain({ variants: [A, B], abTest: { metric: "replyRate" } }));
    expect(Workflow.graphErrors(parsed)).toEqual([]);
    expect(parsed.nodes[1]).toMatchObject({ data: { abTest: { metric: "replyRate", minSentPerVariant: 100, confidence: 0.95 } } });
    const five = [1, 2, 3, 4, 5].map((i) => ({ ...A, id: `v${i}`, weight: i }));
    expect(check(chain({ variants: five }))).toEqual([]);
  });

  it("lets a threaded follow-up's variants leave the subject out (each answers the variant its contact got)", () => {
    expect(
      check(
        chain(
          { variants: [A, B] },
          {
            variants: [
              { id: "x", body: "Any thoughts?" },
              { id: "y", body: "Bumping this" },
            ],
          },
        ),
      ),
    ).toEqual([]);
    // Not the first email: that one needs a subject on every variant.
    expect(check(chain({ variants: [A, { id: "b", body: "Hi" }] }))).toEqual([
      "workflow.nodes[1].data.variants[1].subject: is required (the first email needs one (on some path from the start)) [pitch]",
    ]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["one variant", { variants: [A] }, ["nodes.1.data.variants: needs at least 2 variants"]],
    ["six variants", { variants: [1, 2, 3, 4, 5, 6].map((i) => ({ ...A, id: `v${i}` })) }, ["nodes.1.data.variants: at most 5 variants"]],
    ["a weight of 0", { variants: [A, { ...B, weight: 0 }] }, ["nodes.1.data.variants.1.weight: must be 1 or more"]],
    ["a bad variant id", { variants: [A, { ...B, id: "b c" }] }, ["nodes.1.data.variants.1.id: must be letters, digits, _ or -"]],
    [
      "an unknown metric",
      { variants: [A, B], abTest: { metric: "bounceRate" } },
      ['nodes.1.data.abTest.metric: must be "openRate", "clickRate", "replyRate"'],
    ],
    [
      "a confidence of 1",
      { variants: [A, B], abTest: { metric: "openRate", confidence: 1 } },
      ["nodes.1.data.abTest.confidence: must be at most 0.999"],
    ],
    ["no body", { subject: "Hi" }, ["workflow.nodes[1].data.body: is required [pitch]"]],
    [
      "duplicate variant ids",
      { variants: [A, { ...B, id: "a" }] },
      ['workflow.nodes[1].data.variants[1].id: duplicate variant id "a" [pitch]'],
    ],
    [
      "weights on some variants only",
      { variants: [{ ...A, weight: 3 }, B] },
      ["workflow.nodes[1].data.variants[1].weight: is required when another variant has a weight (all or none) [pitch]"],
    ],
    [
      "a subject and body beside variants",
      { subject: "Hi", body: "Hello", variants: [A, B] },
      [
        "workflow.nodes[1].data.subject: must not be set beside variants: each variant has its own [pitch]",
        "workflow.nodes[1].data.body: must not be set beside variants: each variant has its own [pitch]",
      ],
    ],
    [
      "an A/B test without variants",
      { subject: "Hi", body: "Hello", abTest: { metric: "openRate" } },
      ["workflow.nodes[1].data.abTest: needs variants (data.variants) to compare [pitch]"],
    ],
    [
      "a malformed variable in a variant",
      { variants: [A, { ...B, body: "Hi {{firstName" }] },
      [expect.stringMatching(/^workflow\.nodes\[1\]\.data\.variants\[1\]\.body: .+ \[pitch\]$/) as unknown as string],
    ],
  ])("rejects %s", (_, data, errors) => {
    expect(check(chain(data))).toEqual(errors);
  });

  it("reads a contact's content from its variant, or the node's own", () => {
    const wf = v.parse(Workflow.schema, chain({ variants: [A, B] }, { subject: "Later", body: "Again" }));
    const [pitch, bump] = Workflow.emailNodes(wf);
    expect(Workflow.contentOf(pitch!, "b")).toEqual({ subject: B.subject, body: B.body });
    expect(Workflow.contentOf(bump!, null)).toEqual({ subject: "Later", body: "Again" });
    // The statistics show a variant node under its first variant's subject.
    expect(Workflow.subjects(wf)).toEqual([A.subject, "Later"]);
  });
});

describe("A/B variants: random contacts and random configurations", () => {
  const SEED = Number(process.env.VARIANT_SEED ?? 20261204);

  it(`gives every contact the variant the documented hash gives, and each variant its weight's share (seed ${SEED})`, () => {
    const random = prng(SEED);
    const id = (prefix: string) => `${prefix}_${Math.floor(random() * 2 ** 48).toString(36)}`;
    for (const weights of [
      [1, 1],
      [1, 1, 1, 1, 1],
      [1, 9],
      [5, 3, 2],
      [1000, 1, 1],
    ]) {
      const variants = weights.map((weight, k) => ({ id: `v${k + 1}`, weight }));
      const campaignId = id("cmp");
      const counts = new Map<string, number>();
      const contacts = 20_000;
      // Disagreements collected, then compared once (an expect per contact costs seconds).
      const wrong: string[] = [];
      for (let i = 0; i < contacts; i++) {
        const key = { campaignId, contactId: id("con"), nodeId: `e${1 + (i % 3)}` };
        const chosen = Workflow.Variants.choose(variants, key);
        const expected = expectedVariant(key, variants);
        // Stable: the same key gives the same variant (a retry, a redelivered job).
        const again = Workflow.Variants.choose(variants, key);
        if (chosen !== expected || again !== chosen) wrong.push(`${JSON.stringify(key)}: ${chosen}, again ${again}, oracle ${expected}`);
        counts.set(chosen, (counts.get(chosen) ?? 0) + 1);
      }
      expect(wrong.slice(0, 5), `${wrong.length} of ${contacts} contacts, weights ${weights}`).toEqual([]);
      const total = weights.reduce((a, b) => a + b, 0);
      weights.forEach((weight, k) => {
        const expected = (contacts * weight) / total;
        // Five standard deviations of a binomial count: a fixed seed, so this cannot flake.
        const sd = Math.sqrt(contacts * (weight / total) * (1 - weight / total));
        expect(Math.abs((counts.get(`v${k + 1}`) ?? 0) - expected), `weights ${weights}`).toBeLessThanOrEqual(5 * sd + 1);
      });
    }
  });

  it("accepts random valid workflows with A/B nodes", () => {
    const random = prng(SEED + 2);
    let withVariants = 0;
    for (let i = 0; i < 200; i++) {
      const plain = randomDag(random, { variants: 0.5 });
      expect(check(plain), JSON.stringify(plain)).toEqual([]);
      withVariants += plain.nodes.filter((n) => n.data?.variants).length;
    }
    expect(withVariants).toBeGreaterThan(100);
  });

  /** Ways to break an A/B node: each must be reported at that node's path. */
  const breakages: Array<[string, (data: Record<string, unknown>, random: () => number) => void]> = [
    ["one variant", (data) => (data.variants = (data.variants as unknown[]).slice(0, 1))],
    [
      "six variants",
      (data) => {
        const variants = data.variants as Array<{ id: string }>;
        while (variants.length < 6) variants.push({ ...variants[0]!, id: `x${variants.length}` });
      },
    ],
    ["a repeated variant id", (data) => ((data.variants as Array<{ id: string }>).at(-1)!.id = "v1")],
    ["a variant id with a space", (data) => ((data.variants as Array<{ id: string }>)[0]!.id = "v 1")],
    ["a weight of 0", (data) => ((data.variants as Array<{ weight?: number }>)[0]!.weight = 0)],
    ["a fractional weight", (data) => ((data.variants as Array<{ weight?: number }>)[0]!.weight = 1.5)],
    [
      "weights on some variants only",
      (data) => {
        const variants = data.variants as Array<{ weight?: number }>;
        for (const variant of variants) delete variant.weight;
        variants[0]!.weight = 3;
      },
    ],
    ["a variant without a body", (data) => delete (data.variants as Array<{ body?: string }>)[1]!.body],
    ["a blank variant body", (data) => ((data.variants as Array<{ body?: string }>)[0]!.body = "  ")],
    ["a subject beside variants", (data) => (data.subject = "Also this")],
    ["an unknown metric", (data) => (data.abTest = { metric: "bounceRate" })],
    ["a confidence below 0.8", (data) => (data.abTest = { metric: "openRate", confidence: 0.5 })],
    ["a minimum of 0 sends", (data) => (data.abTest = { metric: "openRate", minSentPerVariant: 0 })],
    [
      "an A/B test without variants",
      (data) => {
        const [first] = data.variants as Array<{ subject?: string; body: string }>;
        delete data.variants;
        data.body = first!.body;
        data.abTest = { metric: "clickRate" };
      },
    ],
  ];

  it("rejects random broken A/B nodes at the node's path", () => {
    const random = prng(SEED + 3);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const plain: PlainWorkflow = structuredClone(randomDag(random, { variants: 0.5 }));
      const targets = plain.nodes.map((n, k) => ({ n, k })).filter(({ n }) => n.data?.variants);
      if (!targets.length) continue;
      const { n: target, k: index } = targets[Math.floor(random() * targets.length)]!;
      const [name, mutate] = breakages[Math.floor(random() * breakages.length)]!;
      mutate(target.data!, random);
      const errors = check(plain);
      const context = `${name} at ${target.id}: ${JSON.stringify(errors)}`;
      expect(errors.length, context).toBeGreaterThan(0);
      // Schema issues name the node by its index (nodes.3.data…), the graph's rules by path and id.
      const at = new RegExp(`^(workflow\\.nodes\\[${index}\\]|nodes\\.${index})\\.data\\.`);
      expect(
        errors.every((e) => at.test(e)),
        context,
      ).toBe(true);
      expect(
        errors.filter((e) => e.startsWith("workflow.")).every((e) => e.endsWith(`[${target.id}]`)),
        context,
      ).toBe(true);
      seen.add(name);
    }
    // Every kind of breakage came up.
    expect([...seen].sort()).toEqual(breakages.map(([name]) => name).sort());
  });
});
