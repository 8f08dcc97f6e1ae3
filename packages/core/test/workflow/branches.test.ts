import * as Workflow from "@fluenzr/core/workflow";
import { type PlainWorkflow, prng, randomDag } from "@fluenzr/testing";
import * as v from "valibot";
import { describe, expect, it } from "vitest";

/** Condition branches: the graph rules (each error naming its node) and the walk over a DAG. */

const email = (id: string, subject?: string) => ({ id, type: "email", data: { ...(subject ? { subject } : {}), body: "Hello" } });
const condition = (id: string, event = "opened", withinDays = 2) => ({ id, type: "condition", data: { event, withinDays } });

/** start → e1 → c1 (opened within 2 days) → yes: e2 → end; no: wait 1 day → e3 → e4 → end2. */
const BRANCHING = {
  nodes: [
    { id: "start", type: "start" },
    email("e1", "Hello {{firstName}}"),
    condition("c1"),
    email("e2", "Glad you looked"),
    { id: "d1", type: "delay", data: { days: 1 } },
    email("e3"),
    email("e4", "Last one"),
    { id: "end", type: "end" },
    { id: "end2", type: "end" },
  ],
  edges: [
    ...Workflow.along("start", "e1", "c1"),
    ...Workflow.branch("c1", { yes: "e2", no: "d1" }),
    ...Workflow.along("d1", "e3", "e4"),
    ...Workflow.along("e2", "end"),
    ...Workflow.along("e4", "end2"),
  ],
};

const parse = (input: unknown) => v.parse(Workflow.schema, input);
const errorsOf = (input: unknown) => Workflow.graphErrors(parse(input));

describe("condition branches: validation", () => {
  it("accepts a branching workflow", () => {
    expect(errorsOf(BRANCHING)).toEqual([]);
    expect(parse(BRANCHING).nodes[2]).toEqual({
      id: "c1",
      type: "condition",
      data: { event: "opened", withinDays: 2, businessDays: false },
    });
  });

  it("rejects an unknown event, 0 days, and when outside yes/no (schema)", () => {
    const bad = { ...BRANCHING, nodes: BRANCHING.nodes.map((n) => (n.id === "c1" ? condition("c1", "bounced", 0) : n)) };
    const parsed = v.safeParse(Workflow.schema, bad);
    expect(parsed.success).toBe(false);
    expect(parsed.issues?.map((i) => i.message)).toEqual(
      expect.arrayContaining(['must be "opened", "clicked" or "replied"', "must be 1 or more"]),
    );
    const when = v.safeParse(Workflow.schema, { ...BRANCHING, edges: [...BRANCHING.edges, { from: "c1", to: "e2", when: "maybe" }] });
    expect(when.issues?.map((i) => i.message)).toEqual(['must be "yes" or "no"']);
  });

  const cases: Array<[string, (wf: typeof BRANCHING) => unknown, RegExp, Record<string, unknown>]> = [
    [
      "a missing no edge",
      (wf) => ({
        ...wf,
        edges: wf.edges.filter((e) => e.when !== "no"),
        nodes: wf.nodes.filter((n) => !["d1", "e3", "e4", "end2"].includes(n.id)),
      }),
      /condition node "c1" needs exactly one "no" edge \(when: "no"\), found 0/,
      { nodeId: "c1", path: "workflow.nodes[2]" },
    ],
    [
      "a doubled yes edge",
      (wf) => ({ ...wf, edges: [...wf.edges, { from: "c1", to: "e4", when: "yes" }] }),
      /condition node "c1" needs exactly one "yes" edge \(when: "yes"\), found 2/,
      { nodeId: "c1" },
    ],
    [
      "a condition edge without when",
      (wf) => ({ ...wf, edges: [...wf.edges, { from: "c1", to: "e4" }] }),
      /condition node "c1" has 1 edge without when/,
      { nodeId: "c1" },
    ],
    [
      "when on an edge that does not leave a condition",
      (wf) => ({ ...wf, edges: wf.edges.map((e) => (e.from === "e2" ? { ...e, when: "yes" } : e)) }),
      /edge e2 → end has "when" but only a condition's edges answer yes or no/,
      { path: "workflow.edges[6].when", edge: { from: "e2", to: "end" } },
    ],
    [
      "a condition before any email",
      (wf) => ({
        ...wf,
        nodes: [...wf.nodes, condition("c0")],
        edges: [
          { from: "start", to: "c0" },
          { from: "c0", to: "e1", when: "yes" },
          { from: "c0", to: "e1", when: "no" },
          ...wf.edges.slice(1),
        ],
      }),
      /condition node "c0" comes before any email on a path from the start/,
      { nodeId: "c0", path: "workflow.nodes[9]" },
    ],
    [
      "a cycle through a condition",
      (wf) => ({ ...wf, edges: wf.edges.map((e) => (e.from === "e4" ? { from: "e4", to: "c1" } : e)) }),
      /the workflow loops: .*c1/,
      {},
    ],
    [
      "a branch's first email without a subject",
      (wf) => ({
        ...wf,
        nodes: [...wf.nodes, email("e0")],
        edges: [{ from: "start", to: "e0" }, { from: "e0", to: "e1" }, ...wf.edges.slice(1)],
      }),
      /is required \(the first email needs one/,
      { nodeId: "e0", path: "workflow.nodes[9].data.subject" },
    ],
  ];

  it.each(cases)("rejects %s, naming the node", (_name, mutate, message, where) => {
    const errors = errorsOf(mutate(structuredClone(BRANCHING)));
    const error = errors.find((e) => message.test(e.message));
    expect(error, JSON.stringify(errors)).toBeDefined();
    expect(error).toMatchObject(where);
  });
});

describe("condition branches: the walk", () => {
  const wf = parse(BRANCHING);

  it("orders emails topologically, the yes branch first", () => {
    expect(Workflow.emailNodes(wf).map((n) => n.id)).toEqual(["e1", "e2", "e3", "e4"]);
    // The no branch listed first in the document does not change the order.
    const swapped = parse({ ...BRANCHING, edges: [...BRANCHING.edges].reverse() });
    expect(Workflow.emailNodes(swapped).map((n) => n.id)).toEqual(["e1", "e2", "e3", "e4"]);
  });

  it("gives the step after a condition for each answer, and stops at a condition", () => {
    expect(Workflow.nextStep(wf, "e1")).toMatchObject({ nodeId: "c1", delays: [], condition: { id: "c1" } });
    expect(Workflow.nextStep(wf, "c1", "yes")).toEqual({ nodeId: "e2", delays: [] });
    expect(Workflow.nextStep(wf, "c1", "no")).toEqual({ nodeId: "e3", delays: [{ days: 1, hours: 0, businessDays: false }] });
    expect(Workflow.nextStep(wf, "e4")).toEqual({ nodeId: null, delays: [] });
  });

  it("gives each email its path and its subject (a threaded one answers its branch's previous email)", () => {
    const paths = Workflow.paths(wf);
    expect(paths.get("e1")).toEqual([]);
    expect(paths.get("e2")).toEqual([{ nodeId: "c1", event: "opened", answer: "yes" }]);
    expect(paths.get("e4")).toEqual([{ nodeId: "c1", event: "opened", answer: "no" }]);
    expect(Workflow.subjects(wf)).toEqual(["Hello {{firstName}}", "Glad you looked", "Re: Hello {{firstName}}", "Last one"]);
  });

  it("lists on a merged email only the answers every route shares", () => {
    const merged = parse({
      ...BRANCHING,
      edges: BRANCHING.edges.map((e) => (e.from === "e2" ? { from: "e2", to: "e4" } : e)),
      nodes: BRANCHING.nodes.filter((n) => n.id !== "end"),
    });
    expect(Workflow.graphErrors(merged)).toEqual([]);
    expect(Workflow.emailNodes(merged).map((n) => n.id)).toEqual(["e1", "e2", "e3", "e4"]);
    expect(Workflow.paths(merged).get("e4")).toEqual([]);
  });
});

/** An independent reading of the rules: all routes from the start, enumerated (with the answer each condition gave). */
function routesWithAnswers(wf: PlainWorkflow): Array<Array<{ id: string; when?: string }>> {
  const out: Array<Array<{ id: string; when?: string }>> = [];
  const walk = (id: string, route: Array<{ id: string; when?: string }>) => {
    const next = wf.edges.filter((e) => e.from === id);
    if (!next.length) out.push([...route, { id }]);
    for (const e of next) walk(e.to, [...route, { id, when: e.when }]);
  };
  walk("start", []);
  return out;
}
const routes = (wf: PlainWorkflow) => routesWithAnswers(wf).map((r) => r.map((step) => step.id));

describe("condition branches: random workflows", () => {
  const SEED = Number(process.env.DAG_SEED ?? 20261204);

  it(`accepts random valid DAGs, and their walk agrees with enumerated routes (seed ${SEED})`, () => {
    const random = prng(SEED);
    for (let i = 0; i < 300; i++) {
      const plain = randomDag(random, { variants: 0.3 });
      const wf = parse(plain);
      expect(Workflow.graphErrors(wf), JSON.stringify(plain)).toEqual([]);
      const all = routes(plain);
      const type = new Map(plain.nodes.map((n) => [n.id, n.type]));
      // Every route ends at an end, and meets an email before any condition.
      for (const route of all) {
        expect(type.get(route.at(-1)!)).toBe("end");
        const firstCondition = route.findIndex((id) => type.get(id) === "condition");
        if (firstCondition >= 0) expect(route.slice(0, firstCondition).some((id) => type.get(id) === "email")).toBe(true);
      }
      // The email order is topological: on every route, emails appear in increasing order.
      const position = new Map(Workflow.emailNodes(wf).map((n, k) => [n.id, k]));
      expect(position.size).toBe(plain.nodes.filter((n) => n.type === "email").length);
      for (const route of all) {
        const order = route.filter((id) => type.get(id) === "email").map((id) => position.get(id)!);
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      // A path holds exactly the answers every route to the email shares.
      const paths = Workflow.paths(wf);
      for (const [id, path] of paths) {
        if (type.get(id) !== "email") continue;
        const answers = routesWithAnswers(plain)
          .filter((r) => r.some((step) => step.id === id))
          .map((r) => {
            const before = r.slice(
              0,
              r.findIndex((step) => step.id === id),
            );
            return new Set(before.filter((step) => type.get(step.id) === "condition").map((step) => `${step.id}:${step.when}`));
          });
        const shared = [...answers[0]!].filter((a) => answers.every((s) => s.has(a)));
        expect(new Set(path.map((a) => `${a.nodeId}:${a.answer}`))).toEqual(new Set(shared));
      }
    }
  });

  it("rejects random breakages, naming the broken node", () => {
    const random = prng(SEED + 1);
    let checked = 0;
    for (let i = 0; i < 200; i++) {
      const plain = randomDag(random);
      const conditions = plain.nodes.filter((n) => n.type === "condition");
      if (!conditions.length) continue;
      const target = conditions[Math.floor(random() * conditions.length)]!;
      const kind = Math.floor(random() * 3);
      const broken = structuredClone(plain);
      if (kind === 0) {
        // Drop one of its answers.
        const answer = random() < 0.5 ? "yes" : "no";
        broken.edges = broken.edges.filter((e) => !(e.from === target.id && e.when === answer));
      } else if (kind === 1) {
        // Double one of its answers.
        const edge = broken.edges.find((e) => e.from === target.id && e.when === "yes")!;
        broken.edges.push({ ...edge });
      } else {
        // Loop back from one of its branches' ends to it.
        const end = routes(broken)
          .find((r) => r.includes(target.id))!
          .at(-1)!;
        broken.nodes = broken.nodes.map((n) => (n.id === end ? { id: end, type: "delay", data: { days: 1 } } : n));
        broken.edges.push({ from: end, to: target.id });
      }
      const errors = Workflow.graphErrors(parse(broken));
      expect(errors.length, JSON.stringify(broken)).toBeGreaterThan(0);
      if (kind < 2) expect(errors.map((e) => e.nodeId)).toContain(target.id);
      else expect(errors.some((e) => e.message.includes("loops") && e.message.includes(target.id))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });
});
