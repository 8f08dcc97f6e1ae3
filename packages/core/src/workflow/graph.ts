import type { Answer, ConditionEvent, ConditionNode, Delay, EmailNode, Workflow, WorkflowNode } from "./index";

/**
 * Walking a valid workflow (a DAG: see `graphErrors`). Everything here reads the graph only;
 * nothing depends on a contact.
 *
 * Order: the reverse postorder of a depth-first walk from the start in which a condition's "yes"
 * branch is listed before its "no" branch. It is a topological order (an email comes after every
 * email that can precede it), a chain keeps its order, and the emails of a "yes" branch come before
 * those of the "no" branch; a node where branches meet comes after both.
 */

interface Out {
  to: string;
  when?: Answer;
}

/** Each node's outgoing edges, a condition's "yes" before its "no" (other nodes: in edge order). */
function successors(workflow: Workflow): Map<string, Out[]> {
  const out = new Map<string, Out[]>();
  for (const { from, to, when } of workflow.edges) out.set(from, [...(out.get(from) ?? []), { to, when }]);
  const rank = (o: Out) => (o.when === "yes" ? 0 : o.when === "no" ? 1 : 2);
  for (const list of out.values()) list.sort((a, b) => rank(a) - rank(b));
  return out;
}

/** The nodes reachable from the start, in the order above (valid workflows only). */
export function order(workflow: Workflow): WorkflowNode[] {
  const byId = new Map(workflow.nodes.map((n) => [n.id, n]));
  const next = successors(workflow);
  const start = workflow.nodes.find((n) => n.type === "start");
  if (!start) return [];
  const seen = new Set<string>();
  const post: string[] = [];
  // Iterative depth-first walk; children pushed so that "yes" is visited last, hence listed first.
  const stack: Array<{ id: string; children: string[] }> = [];
  const enter = (id: string) => {
    seen.add(id);
    stack.push({ id, children: (next.get(id) ?? []).map((o) => o.to) });
  };
  enter(start.id);
  while (stack.length) {
    const top = stack.at(-1)!;
    const child = top.children.pop();
    if (child === undefined) {
      post.push(top.id);
      stack.pop();
    } else if (!seen.has(child) && byId.has(child)) enter(child);
  }
  return post.reverse().map((id) => byId.get(id)!);
}

/** The email nodes, in order: the order of per-email statistics (`emailNumber`). */
export function emailNodes(workflow: Workflow): EmailNode[] {
  return order(workflow).filter((n): n is EmailNode => n.type === "email");
}

/** Each email's subject as written; a follow-up without one shows `Re: <the previous email's>` (on its first route). */
export function subjects(workflow: Workflow): string[] {
  const nodes = order(workflow);
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  const firstPredecessor = new Map<string, string>();
  for (const { from, to } of workflow.edges) {
    const current = firstPredecessor.get(to);
    if (position.has(from) && (current === undefined || position.get(from)! < position.get(current)!)) firstPredecessor.set(to, from);
  }
  const carried = new Map<string, string>();
  const out: string[] = [];
  for (const node of nodes) {
    const from = firstPredecessor.get(node.id);
    const previous = (from && carried.get(from)) ?? "";
    if (node.type === "email") {
      // A node with A/B variants shows its first variant's subject.
      const own = node.data.subject ?? node.data.variants?.[0]?.subject;
      const subject = own ?? (/^re:/i.test(previous) ? previous : `Re: ${previous}`);
      out.push(subject);
      carried.set(node.id, subject);
    } else carried.set(node.id, previous);
  }
  return out;
}

export interface Step {
  /** Where the contact waits next (an email to send, or a condition to answer), or null when the sequence ends. */
  nodeId: string | null;
  /** The delays to wait first, in order. */
  delays: Delay[];
  /** Set when `nodeId` is a condition. */
  condition?: ConditionNode;
}

/**
 * What follows `afterNodeId` (the start node when omitted; a condition takes the edge of `answer`):
 * delays, then an email, a condition, or the end.
 */
export function nextStep(workflow: Workflow, afterNodeId?: string, answer?: Answer): Step {
  const byId = new Map(workflow.nodes.map((n) => [n.id, n]));
  const next = successors(workflow);
  let node = afterNodeId ? byId.get(afterNodeId) : workflow.nodes.find((n) => n.type === "start");
  const delays: Delay[] = [];
  const seen = new Set<string>();
  while (node && !seen.has(node.id)) {
    seen.add(node.id);
    const edges = next.get(node.id) ?? [];
    const edge = node.type === "condition" ? edges.find((e) => e.when === answer) : edges[0];
    node = edge ? byId.get(edge.to) : undefined;
    if (!node || node.type === "end") break;
    if (node.type === "email") return { nodeId: node.id, delays };
    if (node.type === "condition") return { nodeId: node.id, delays, condition: node };
    if (node.type === "delay") delays.push(node.data);
  }
  return { nodeId: null, delays };
}

/** A condition's answer on the way to a node. */
export interface PathAnswer {
  nodeId: string;
  event: ConditionEvent;
  answer: Answer;
}

/**
 * For each node, the condition answers that lead to it: those shared by every route from the
 * start (an email after two branches meet lists only what both agree on), in route order.
 */
export function paths(workflow: Workflow): Map<string, PathAnswer[]> {
  const nodes = order(workflow);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  const incoming = new Map<string, Array<{ from: string; when?: Answer }>>();
  for (const { from, to, when } of workflow.edges) {
    if (position.has(from)) incoming.set(to, [...(incoming.get(to) ?? []), { from, when }]);
  }
  const out = new Map<string, PathAnswer[]>();
  const key = (a: PathAnswer) => `${a.nodeId}:${a.answer}`;
  for (const node of nodes) {
    const routes = (incoming.get(node.id) ?? [])
      .sort((a, b) => position.get(a.from)! - position.get(b.from)!)
      .map(({ from, when }) => {
        const before = out.get(from) ?? [];
        const pred = byId.get(from);
        return pred?.type === "condition" && when ? [...before, { nodeId: from, event: pred.data.event, answer: when }] : before;
      });
    if (!routes.length) {
      out.set(node.id, []);
      continue;
    }
    const [first, ...others] = routes;
    const shared = others.map((r) => new Set(r.map(key)));
    out.set(
      node.id,
      first!.filter((a) => shared.every((s) => s.has(key(a)))),
    );
  }
  return out;
}
