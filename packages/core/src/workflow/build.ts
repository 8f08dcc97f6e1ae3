import type { Edge } from "./index";

/** Writing a workflow's edges as its paths read (examples and tests; the API takes edges as data). */

/** The edges of a path through these nodes, in order: `along("a", "b", "c")` is a → b and b → c. */
export function along(...ids: string[]): Edge[] {
  return ids.slice(1).map((to, i) => ({ from: ids[i]!, to }));
}

/** A condition's two edges: to `yes` when it holds, to `no` when it does not. */
export function branch(condition: string, to: { yes: string; no: string }): Edge[] {
  return [
    { from: condition, to: to.yes, when: "yes" },
    { from: condition, to: to.no, when: "no" },
  ];
}

/** A workflow without conditions: its nodes, each followed by the next. */
export function straight<N extends { id: string }>(nodes: N[]): { nodes: N[]; edges: Edge[] } {
  return { nodes, edges: along(...nodes.map((node) => node.id)) };
}
