import * as v from "valibot";
import type { ErrorDetail } from "../error";
import * as Template from "../template";
import * as Variants from "./variants";

export * as Variants from "./variants";

/**
 * A campaign's sequence: `start → email → delay → email → end`. Valid workflows are a single
 * chain (one start, one outgoing edge per inner node, all reachable, no cycles), so walking it
 * from the start gives the order of the emails.
 */

const nodeId = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("is required"),
  v.maxLength(64, "must be at most 64 characters"),
  v.regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ or -"),
);

const integer = (max: number) =>
  v.pipe(
    v.number("must be a number"),
    v.integer("must be an integer"),
    v.minValue(0, "must be 0 or more"),
    v.maxValue(max, `must be at most ${max}`),
  );

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

const nodeSchema = v.variant(
  "type",
  [
    v.object({ id: nodeId, type: v.literal("start") }),
    v.object({ id: nodeId, type: v.literal("email"), data: emailData }),
    v.object({ id: nodeId, type: v.literal("delay"), data: delayData }),
    v.object({ id: nodeId, type: v.literal("end") }),
  ],
  'must be "start", "email", "delay" or "end"',
);

export const schema = v.object({
  nodes: v.pipe(
    v.array(nodeSchema, "must be an array of nodes"),
    v.minLength(2, "needs at least a start and an end"),
    v.maxLength(100, "at most 100 nodes"),
  ),
  edges: v.pipe(v.array(v.object({ from: nodeId, to: nodeId }), "must be an array of edges"), v.maxLength(200, "at most 200 edges")),
});

export type Workflow = v.InferOutput<typeof schema>;
export type WorkflowNode = Workflow["nodes"][number];
export type EmailNode = Extract<WorkflowNode, { type: "email" }>;
export type DelayNode = Extract<WorkflowNode, { type: "delay" }>;
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
    outgoing.set(edge.from, [...(outgoing.get(edge.from) ?? []), edge.to]);
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

  // Only a threaded follow-up may leave its subject out (it answers the previous email's).
  const graphValid = !errors.length;
  const first = graphValid ? emailNodes(workflow)[0] : undefined;
  for (const node of nodes) {
    if (node.type !== "email") continue;
    const path = nodePath(node.id);
    const needsSubject = node === first || node.data.thread === false || (!first && graphValid);
    errors.push(...Variants.contentErrors(node.data, path, node.id));
    const why = node.data.thread === false ? "an email with thread: false needs one" : "the first email needs one";
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

/** The nodes from start to end, in order (valid workflows only). */
export function sequence(workflow: Workflow): WorkflowNode[] {
  const byId = new Map(workflow.nodes.map((n) => [n.id, n]));
  const next = new Map(workflow.edges.map((e) => [e.from, e.to]));
  const out: WorkflowNode[] = [];
  let node: WorkflowNode | undefined = workflow.nodes.find((n) => n.type === "start");
  const seen = new Set<string>();
  while (node && !seen.has(node.id)) {
    seen.add(node.id);
    out.push(node);
    const to = next.get(node.id);
    node = to ? byId.get(to) : undefined;
  }
  return out;
}

export function emailNodes(workflow: Workflow): EmailNode[] {
  return sequence(workflow).filter((n): n is EmailNode => n.type === "email");
}

/**
 * Each email's subject as written (a node with variants: its first variant's); a follow-up
 * without one shows `Re: <the previous one>`.
 */
export function subjects(emails: readonly EmailNode[]): string[] {
  const out: string[] = [];
  for (const node of emails) {
    const previous = out.at(-1) ?? "";
    const own = node.data.subject ?? node.data.variants?.[0]?.subject;
    out.push(own ?? (/^re:/i.test(previous) ? previous : `Re: ${previous}`));
  }
  return out;
}

/** What one contact gets at an email node: the node's own subject and body, or its variant's. */
export function contentOf(node: EmailNode, variantId: string | null): { subject?: string; body: string } {
  const variant = variantId ? node.data.variants?.find((x) => x.id === variantId) : undefined;
  if (variant) return { subject: variant.subject, body: variant.body };
  return { subject: node.data.subject, body: node.data.body ?? "" };
}

export interface Step {
  /** The next email to send, or null when the sequence ends. */
  nodeId: string | null;
  /** The delays to wait first, in order. */
  delays: Delay[];
}

/** What follows `afterNodeId` (the start node when omitted): delays, then an email or the end. */
export function nextStep(workflow: Workflow, afterNodeId?: string): Step {
  const nodes = sequence(workflow);
  let i = afterNodeId ? nodes.findIndex((n) => n.id === afterNodeId) : 0;
  if (i === -1) return { nodeId: null, delays: [] };
  const delays: Delay[] = [];
  for (i += 1; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.type === "email") return { nodeId: node.id, delays };
    if (node.type === "delay") delays.push(node.data);
    if (node.type === "end") break;
  }
  return { nodeId: null, delays };
}
