import * as Workflow from "@fluenzr/core/workflow";
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
