import * as v from "valibot";
import type { ErrorDetail } from "../error";
import * as Template from "../template";
import { wholeNumber } from "../util/schema";
import * as Variants from "./variants";

export * as Variants from "./variants";

/**
 * A campaign's sequence: a directed acyclic graph from one start to ends, through emails, delays
 * and conditions. Every node but a condition and an end has one outgoing edge; a condition has two,
 * `when: "yes"` and `when: "no"`, taken on what the contact did (opened, clicked, replied) within
 * its days. Walking it is in ./graph.ts (order, steps, paths); the rules are `graphErrors`.
 */

const nodeId = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("is required"),
  v.maxLength(64, "must be at most 64 characters"),
  v.regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ or -"),
);

const integer = (max: number) => wholeNumber(0, max);

export const emailData = v.object({
  /** Required, except on a threaded follow-up: that one goes out as `Re: <previous subject>`. */
  subject: v.optional(Variants.subject),
  /** Required unless the node has `variants` (each then has its own). */
  body: v.optional(Variants.body),
  trackOpens: v.optional(v.boolean("must be true or false"), true),
  trackClicks: v.optional(v.boolean("must be true or false"), true),
  /**
   * Answer the contact's previous email (same account, `Re:` subject unless set here,
   * `In-Reply-To`/`References`). Default: true on every email after the first.
   */
  thread: v.optional(v.boolean("must be true or false")),
  /** A/B variants (2–5): each contact gets one, chosen deterministically (see ./variants.ts). */
  variants: v.optional(
    v.pipe(
      Variants.variants,
      v.description(
        "A/B variants (2–5), each with its own subject and body (then not set on the node); weights on all or none, default equal. A contact's variant is drawn from a hash of campaign, contact and node: the same on every retry.",
      ),
    ),
  ),
  /** Pick a winner among the variants by this metric; later contacts get the winner. */
  abTest: v.optional(
    v.pipe(
      Variants.abTest,
      v.description(
        "Pick a winner by `metric` once every variant has `minSentPerVariant` sent and one beats each other with `confidence` (one-sided two-proportion z-test, rates over sent); every later contact at this node gets the winner.",
      ),
    ),
  ),
});

export const delayData = v.pipe(
  v.object({
    days: integer(365),
    hours: v.optional(integer(24 * 365), 0),
    businessDays: v.optional(v.boolean("must be true or false"), false),
  }),
  v.check((d) => d.days > 0 || d.hours > 0, "a delay must last more than 0 (days or hours)"),
);

/** What a condition waits for: one of these on an email of the sequence already sent to the contact. */
export const CONDITION_EVENTS = ["opened", "clicked", "replied"] as const;
export type ConditionEvent = (typeof CONDITION_EVENTS)[number];

export const conditionData = v.object({
  event: v.picklist(CONDITION_EVENTS, 'must be "opened", "clicked" or "replied"'),
  /** "no" once this many days (business days with `businessDays`) pass from when the contact reached the node. */
  withinDays: v.pipe(integer(365), v.minValue(1, "must be 1 or more")),
  businessDays: v.optional(v.boolean("must be true or false"), false),
});

const nodeSchema = v.variant(
  "type",
  [
    v.object({ id: nodeId, type: v.literal("start") }),
    v.object({ id: nodeId, type: v.literal("email"), data: emailData }),
    v.object({ id: nodeId, type: v.literal("delay"), data: delayData }),
    v.object({ id: nodeId, type: v.literal("condition"), data: conditionData }),
    v.object({ id: nodeId, type: v.literal("end") }),
  ],
  'must be "start", "email", "delay", "condition" or "end"',
);

export const ANSWERS = ["yes", "no"] as const;
export type Answer = (typeof ANSWERS)[number];

export const schema = v.object({
  nodes: v.pipe(
    v.array(nodeSchema, "must be an array of nodes"),
    v.minLength(2, "needs at least a start and an end"),
    v.maxLength(100, "at most 100 nodes"),
  ),
  edges: v.pipe(
    v.array(
      v.object({ from: nodeId, to: nodeId, when: v.optional(v.picklist(ANSWERS, 'must be "yes" or "no"')) }),
      "must be an array of edges",
    ),
    v.maxLength(200, "at most 200 edges"),
  ),
});

export type Workflow = v.InferOutput<typeof schema>;
export type WorkflowNode = Workflow["nodes"][number];
export type EmailNode = Extract<WorkflowNode, { type: "email" }>;
export type DelayNode = Extract<WorkflowNode, { type: "delay" }>;
export type ConditionNode = Extract<WorkflowNode, { type: "condition" }>;
export type Edge = Workflow["edges"][number];
export type Delay = DelayNode["data"];

const TEMPLATE_ISSUES_SHOWN = 5;

/**
 * The graph rules of SPEC §2, each error naming its node or edge. `path` is relative to the
 * request body (`workflow.nodes[2]`), plus `nodeId` or `edge` for clients that map errors back.
 */
export function graphErrors(workflow: Workflow, prefix = "workflow"): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const { nodes, edges } = workflow;
  const index = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (index.has(node.id)) {
      errors.push({ path: `${prefix}.nodes[${i}].id`, message: `duplicate node id "${node.id}"`, nodeId: node.id });
    } else index.set(node.id, i);
  });
  const nodePath = (id: string) => `${prefix}.nodes[${index.get(id)}]`;

  const starts = nodes.filter((n) => n.type === "start");
  if (starts.length !== 1) {
    errors.push({ path: `${prefix}.nodes`, message: `needs exactly one start node, found ${starts.length}` });
  }
  if (!nodes.some((n) => n.type === "end")) errors.push({ path: `${prefix}.nodes`, message: "needs at least one end node" });

  const outgoing = new Map<string, string[]>();
  const answers = new Map<string, Array<Answer | undefined>>();
  const incoming = new Map<string, number>();
  edges.forEach((edge, i) => {
    const edgeRef = { edge: { from: edge.from, to: edge.to } };
    let ok = true;
    for (const end of ["from", "to"] as const) {
      if (index.has(edge[end])) continue;
      const where = end === "from" ? "starts at" : "points to";
      errors.push({
        path: `${prefix}.edges[${i}].${end}`,
        message: `edge ${edge.from} → ${edge.to} ${where} a node that does not exist`,
        ...edgeRef,
      });
      ok = false;
    }
    if (!ok) return;
    if (edge.when && nodes[index.get(edge.from)!]!.type !== "condition") {
      errors.push({
        path: `${prefix}.edges[${i}].when`,
        message: `edge ${edge.from} → ${edge.to} has "when" but only a condition's edges answer yes or no`,
        ...edgeRef,
      });
    }
    outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge.to]);
    answers.set(edge.from, [...(answers.get(edge.from) ?? []), edge.when]);
    incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1);
  });

  for (const node of nodes) {
    if (index.get(node.id) === undefined) continue;
    const out = outgoing.get(node.id)?.length ?? 0;
    const ref = { nodeId: node.id };
    if (node.type === "start" && (incoming.get(node.id) ?? 0) > 0) {
      errors.push({ path: nodePath(node.id), message: `start node "${node.id}" cannot have incoming edges`, ...ref });
    }
    if (node.type === "end") {
      if (out > 0) errors.push({ path: nodePath(node.id), message: `end node "${node.id}" cannot have outgoing edges`, ...ref });
    } else if (node.type === "condition") {
      const given = answers.get(node.id) ?? [];
      for (const answer of ANSWERS) {
        const n = given.filter((w) => w === answer).length;
        if (n !== 1) {
          errors.push({
            path: nodePath(node.id),
            message: `condition node "${node.id}" needs exactly one "${answer}" edge (when: "${answer}"), found ${n}`,
            ...ref,
          });
        }
      }
      const plain = given.filter((w) => w === undefined).length;
      if (plain) {
        errors.push({
          path: nodePath(node.id),
          message: `condition node "${node.id}" has ${plain} edge${plain === 1 ? "" : "s"} without when: "yes" or "no"`,
          ...ref,
        });
      }
    } else if (out !== 1) {
      errors.push({
        path: nodePath(node.id),
        message: `${node.type} node "${node.id}" needs exactly one outgoing edge, found ${out}`,
        ...ref,
      });
    }
  }

  if (starts.length === 1) {
    const reached = new Set<string>();
    const stack = [starts[0]!.id];
    while (stack.length) {
      const id = stack.pop()!;
      if (reached.has(id)) continue;
      reached.add(id);
      stack.push(...(outgoing.get(id) ?? []));
    }
    for (const node of nodes) {
      if (!reached.has(node.id)) {
        errors.push({ path: nodePath(node.id), message: `node "${node.id}" cannot be reached from the start`, nodeId: node.id });
      }
    }
  }

  const cycle = findCycle(
    nodes.map((n) => n.id),
    outgoing,
  );
  if (cycle) errors.push({ path: nodePath(cycle[0]!), message: `the workflow loops: ${cycle.join(" → ")}`, nodeId: cycle[0] });

  // Nodes some path from the start reaches before any email: a condition there has no email to
  // watch, and an email there is a first email (it needs its own subject).
  const beforeEmail = new Set<string>();
  if (starts.length === 1) {
    const stack = [starts[0]!.id];
    while (stack.length) {
      const id = stack.pop()!;
      if (beforeEmail.has(id)) continue;
      beforeEmail.add(id);
      if (nodes[index.get(id)!]?.type !== "email") stack.push(...(outgoing.get(id) ?? []));
    }
  }
  for (const node of nodes) {
    if (node.type === "condition" && beforeEmail.has(node.id)) {
      errors.push({
        path: nodePath(node.id),
        message: `condition node "${node.id}" comes before any email on a path from the start: it has no email to watch`,
        nodeId: node.id,
      });
    }
  }

  // Only a threaded follow-up may leave its subject out (it answers the previous email's).
  const graphOk = !errors.length;
  for (const node of nodes) {
    if (node.type !== "email") continue;
    const path = nodePath(node.id);
    const needsSubject = (graphOk && beforeEmail.has(node.id)) || node.data.thread === false;
    errors.push(...Variants.contentErrors(node.data, path, node.id));
    const why =
      node.data.thread === false ? "an email with thread: false needs one" : "the first email needs one (on some path from the start)";
    for (const { field, value } of Variants.templateFields(node.data)) {
      const fieldPath = `${path}.data.${field}`;
      if (field.endsWith("subject") && value === undefined && needsSubject) {
        errors.push({ path: fieldPath, message: `is required (${why})`, nodeId: node.id });
      }
      const { issues } = Template.parse(value ?? "");
      // A few per field: a body of 100,000 characters can hold 50,000 malformed variables.
      for (const issue of issues.slice(0, TEMPLATE_ISSUES_SHOWN)) errors.push({ path: fieldPath, message: issue.message, nodeId: node.id });
      if (issues.length > TEMPLATE_ISSUES_SHOWN) {
        const more = issues.length - TEMPLATE_ISSUES_SHOWN;
        errors.push({ path: fieldPath, message: `${more} more malformed variable${more === 1 ? "" : "s"}`, nodeId: node.id });
      }
    }
  }
  return errors;
}

function findCycle(ids: string[], outgoing: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, "visiting");
    path.push(id);
    for (const next of outgoing.get(id) ?? []) {
      if (state.get(next) === "visiting") return [...path.slice(path.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const id of ids) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return undefined;
}

export { along, branch, straight } from "./build";
export { emailNodes, nextStep, order, type PathAnswer, paths, type Step, subjects } from "./graph";

/** What one contact gets at an email node: the node's own subject and body, or its variant's. */
export function contentOf(node: EmailNode, variantId: string | null): { subject?: string; body: string } {
  const variant = variantId ? node.data.variants?.find((x) => x.id === variantId) : undefined;
  if (variant) return { subject: variant.subject, body: variant.body };
  return { subject: node.data.subject, body: node.data.body ?? "" };
}
