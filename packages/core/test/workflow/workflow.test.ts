import * as Workflow from "@fluenzr/core/workflow";
import { SEED_WORKFLOW } from "@fluenzr/testing/workflows";
import * as v from "valibot";
import { describe, expect, it } from "vitest";

const email = (id: string, subject = "Hi {{firstName}}") => ({ id, type: "email", data: { subject, body: "Hello {{firstName|there}}" } });

const check = (input: unknown) => {
  const parsed = v.safeParse(Workflow.schema, input);
  if (!parsed.success) return parsed.issues.map((i) => i.message);
  return Workflow.graphErrors(parsed.output);
};

describe("workflow validation", () => {
  it("accepts the seed's workflow, with defaults filled in", () => {
    const parsed = v.parse(Workflow.schema, SEED_WORKFLOW);
    expect(Workflow.graphErrors(parsed)).toEqual([]);
    expect(parsed.nodes[3]).toMatchObject({ data: { trackOpens: true, trackClicks: true } });
    expect(parsed.nodes[2]).toMatchObject({ data: { days: 3, hours: 0, businessDays: true } });
  });

  it("walks the chain: email order and the step after each email", () => {
    const wf = v.parse(Workflow.schema, SEED_WORKFLOW);
    expect(Workflow.emailNodes(wf).map((n) => n.id)).toEqual(["node_2", "node_4"]);
    expect(Workflow.nextStep(wf)).toEqual({ nodeId: "node_2", delays: [] });
    expect(Workflow.nextStep(wf, "node_2")).toEqual({ nodeId: "node_4", delays: [{ days: 3, hours: 0, businessDays: true }] });
    expect(Workflow.nextStep(wf, "node_4")).toEqual({ nodeId: null, delays: [] });
  });

  const cases: Array<[string, unknown, RegExp, Record<string, unknown>?]> = [
    [
      "two starts",
      {
        nodes: [
          { id: "s", type: "start" },
          { id: "s2", type: "start" },
          { id: "e", type: "end" },
        ],
        edges: [
          { from: "s", to: "e" },
          { from: "s2", to: "e" },
        ],
      },
      /exactly one start/,
    ],
    ["no end", { nodes: [{ id: "s", type: "start" }, email("m")], edges: [{ from: "s", to: "m" }] }, /at least one end/],
    [
      "an edge to a missing node",
      { ...SEED_WORKFLOW, edges: [...SEED_WORKFLOW.edges.slice(0, 3), { from: "node_4", to: "node_9" }] },
      /points to a node that does not exist/,
      { path: "workflow.edges[3].to", edge: { from: "node_4", to: "node_9" } },
    ],
    [
      "an inner node with two outgoing edges",
      { ...SEED_WORKFLOW, edges: [...SEED_WORKFLOW.edges, { from: "node_2", to: "node_5" }] },
      /needs exactly one outgoing edge, found 2/,
      { nodeId: "node_2", path: "workflow.nodes[1]" },
    ],
    [
      "an unreachable node",
      {
        ...SEED_WORKFLOW,
        nodes: [...SEED_WORKFLOW.nodes, email("orphan")],
        edges: [...SEED_WORKFLOW.edges, { from: "orphan", to: "node_5" }],
      },
      /cannot be reached/,
      { nodeId: "orphan" },
    ],
    [
      "a cycle",
      {
        nodes: [{ id: "s", type: "start" }, email("a"), email("b"), { id: "e", type: "end" }],
        edges: [
          { from: "s", to: "a" },
          { from: "a", to: "b" },
          { from: "b", to: "a" },
        ],
      },
      /loops: a → b → a/,
    ],
    [
      "an end with an outgoing edge",
      { ...SEED_WORKFLOW, edges: [...SEED_WORKFLOW.edges, { from: "node_5", to: "node_2" }] },
      /end node "node_5" cannot have outgoing edges/,
    ],
    [
      "an edge into the start",
      { ...SEED_WORKFLOW, edges: [...SEED_WORKFLOW.edges, { from: "node_5", to: "node_1" }] },
      /cannot have incoming edges/,
    ],
    ["a duplicate id", { ...SEED_WORKFLOW, nodes: [...SEED_WORKFLOW.nodes, { id: "node_2", type: "end" }] }, /duplicate node id "node_2"/],
    [
      "a malformed variable",
      { ...SEED_WORKFLOW, nodes: SEED_WORKFLOW.nodes.map((n) => (n.id === "node_4" ? email("node_4", "Hi {{first name}}") : n)) },
      /malformed variable/,
      { path: "workflow.nodes[3].data.subject", nodeId: "node_4" },
    ],
  ];
  it.each(cases)("rejects %s, naming it", (_, input, message, fields) => {
    const errors = check(input);
    const hit = (errors as Array<string | { message: string }>).find((e) => message.test(typeof e === "string" ? e : e.message));
    expect(hit, JSON.stringify(errors)).toBeDefined();
    if (fields) expect(hit).toMatchObject(fields);
  });

  it.each([
    [
      "an email without subject",
      {
        ...SEED_WORKFLOW,
        nodes: [
          SEED_WORKFLOW.nodes[0],
          { id: "node_2", type: "email", data: { subject: " ", body: "x" } },
          ...SEED_WORKFLOW.nodes.slice(2),
        ],
      },
    ],
    [
      "a delay of zero",
      {
        ...SEED_WORKFLOW,
        nodes: [...SEED_WORKFLOW.nodes.slice(0, 2), { id: "node_3", type: "delay", data: { days: 0 } }, ...SEED_WORKFLOW.nodes.slice(3)],
      },
    ],
    [
      "a negative delay",
      {
        ...SEED_WORKFLOW,
        nodes: [...SEED_WORKFLOW.nodes.slice(0, 2), { id: "node_3", type: "delay", data: { days: -1 } }, ...SEED_WORKFLOW.nodes.slice(3)],
      },
    ],
    ["an unknown node type", { ...SEED_WORKFLOW, nodes: [...SEED_WORKFLOW.nodes, { id: "x", type: "sms" }] }],
  ])("rejects %s by shape", (_, input) => {
    expect(v.safeParse(Workflow.schema, input).success).toBe(false);
  });
});
