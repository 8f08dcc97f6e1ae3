import type * as Campaign from "@fluenzr/core/campaign";

/** Workflows tests build campaigns with (plain data: no database, no app). */

/** The seed's example workflow (campaigns-api.md), as written there (also the document's example). */
export { SEED_WORKFLOW } from "@fluenzr/functions/api/examples";

/**
 * start → email1 → wait2 → email2 → … → end: `emails` emails ("Step i for {{firstName}}", with
 * the unsubscribe link) separated by `delay`.
 */
export function sequence(emails = 2, delay: Record<string, unknown> = { days: 3, businessDays: true }) {
  const nodes: unknown[] = [{ id: "start", type: "start" }];
  const edges: Array<{ from: string; to: string }> = [];
  let last = "start";
  for (let i = 1; i <= emails; i++) {
    if (i > 1) {
      nodes.push({ id: `wait${i}`, type: "delay", data: delay });
      edges.push({ from: last, to: `wait${i}` });
      last = `wait${i}`;
    }
    nodes.push({
      id: `email${i}`,
      type: "email",
      data: { subject: `Step ${i} for {{firstName}}`, body: `Hello {{firstName|there}}, step ${i}. {{unsubscribeUrl}}` },
    });
    edges.push({ from: last, to: `email${i}` });
    last = `email${i}`;
  }
  nodes.push({ id: "end", type: "end" });
  edges.push({ from: last, to: "end" });
  return { nodes, edges } as Parameters<typeof Campaign.create>[0]["workflow"];
}

type Step = { id: string; email: Record<string, unknown> } | { id: string; delay: Record<string, unknown> };

/** A straight workflow `start → steps… → end` from its emails and delays, with the ids given. */
export function linear(steps: Step[], ids: { start: string; end: string } = { start: "start", end: "end" }) {
  const nodes: unknown[] = [
    { id: ids.start, type: "start" },
    ...steps.map((s) => ("email" in s ? { id: s.id, type: "email", data: s.email } : { id: s.id, type: "delay", data: s.delay })),
    { id: ids.end, type: "end" },
  ];
  const order = [ids.start, ...steps.map((s) => s.id), ids.end];
  const edges = order.slice(1).map((to, i) => ({ from: order[i]!, to }));
  return { nodes, edges } as Parameters<typeof Campaign.create>[0]["workflow"];
}
