import { createHash } from "node:crypto";
import type * as Campaign from "@fluenzr/core/campaign";
import { along } from "@fluenzr/core/workflow";

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
  return { nodes, edges: along(ids.start, ...steps.map((s) => s.id), ids.end) } as Parameters<typeof Campaign.create>[0]["workflow"];
}

/** A workflow as plain data (the test builds it before validation sees it). */
export interface PlainWorkflow {
  nodes: Array<{ id: string; type: string; data?: Record<string, unknown> }>;
  edges: Array<{ from: string; to: string; when?: "yes" | "no" }>;
}

export interface RandomDagOptions {
  /** Deepest nesting of conditions. */
  maxDepth?: number;
  /** Delays between steps, in whole hours (calendar), so that runs land on whole minutes. */
  delayHours?: readonly number[];
  /**
   * The share of emails that carry A/B variants (default none): 2–5, weights on all or none,
   * each with its own body (`Body <n>.<variant>`), and half of them an A/B test that decides
   * nothing (its minimum sends per variant is out of reach).
   */
  variants?: number;
}

const AB_METRICS = ["openRate", "clickRate", "replyRate"] as const;

/** An email node's content: a subject and body, or 2–5 A/B variants each with its own. */
function content(random: () => number, n: number, needsSubject: boolean, share: number): Record<string, unknown> {
  const subject = needsSubject || random() < 0.5;
  if (share === 0 || random() >= share) {
    return { ...(subject ? { subject: `S${n} {{firstName}}` } : {}), body: `Body ${n} {{firstName|there}}` };
  }
  const weighted = random() < 0.5;
  const variants = Array.from({ length: 2 + Math.floor(random() * 4) }, (_, k) => ({
    id: `v${k + 1}`,
    ...(subject ? { subject: `S${n}.${k + 1} {{firstName}}` } : {}),
    body: `Body ${n}.v${k + 1} {{firstName|there}}`,
    ...(weighted ? { weight: 1 + Math.floor(random() * 9) } : {}),
  }));
  const abTest = random() < 0.5 ? { abTest: { metric: AB_METRICS[Math.floor(random() * 3)]!, minSentPerVariant: 1_000_000 } } : {};
  return { variants, ...abTest };
}

/**
 * A random valid branching workflow: segments of emails and delays, ending at an end or at a
 * condition (opened, clicked or replied within 1–3 days, sometimes business days) whose two
 * branches are segments again; a third of the conditions have branches that meet again (both go
 * on to one shared segment). Emails after the first may leave their subject out (threaded); with
 * `variants`, some emails are A/B nodes.
 */
export function randomDag(random: () => number, options: RandomDagOptions = {}): PlainWorkflow {
  const maxDepth = options.maxDepth ?? 3;
  const delayHours = options.delayHours ?? [2, 5, 24, 30, 48];
  const variantShare = options.variants ?? 0;
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const nodes: PlainWorkflow["nodes"] = [{ id: "start", type: "start" }];
  const edges: PlainWorkflow["edges"] = [];
  let n = 0;
  const add = (type: string, data?: Record<string, unknown>) => {
    const id = `${type[0]}${++n}`;
    nodes.push(data ? { id, type, data } : { id, type });
    return id;
  };
  // A segment: emails (with delays before them) in front of `tail`; returns its first node.
  const segment = (depth: number, emailed: boolean, into?: string): string => {
    let tail: string;
    if (into) tail = into;
    else if (depth >= maxDepth || random() < 0.35) tail = add("end");
    else {
      tail = add("condition", {
        event: pick(["opened", "clicked", "replied"]),
        withinDays: pick([1, 2, 3]),
        ...(random() < 0.3 ? { businessDays: true } : {}),
      });
      const merge = random() < 0.33 ? segment(depth + 1, true) : undefined;
      edges.push({ from: tail, to: segment(depth + 1, true, merge), when: "yes" });
      edges.push({ from: tail, to: segment(depth + 1, true, merge), when: "no" });
    }
    const emails = emailed ? Math.floor(random() * 3) : 1 + Math.floor(random() * 2);
    let first = tail;
    for (let i = emails; i > 0; i--) {
      const firstEver = !emailed && i === 1;
      const email = add("email", content(random, n, firstEver, variantShare));
      edges.push({ from: email, to: first });
      first = email;
      if (random() < 0.7) {
        const delay = add("delay", { days: 0, hours: pick(delayHours) });
        edges.push({ from: delay, to: first });
        first = delay;
      }
    }
    return first;
  };
  edges.push({ from: "start", to: segment(0, false) });
  return { nodes, edges };
}

type EmailStep = { id: string; email: Record<string, unknown> };

/**
 * One condition: `start → first → condition → yes: yes → end; no: no → end` (the ids of start
 * and end as given).
 */
export function fork(
  first: EmailStep,
  condition: { id: string; condition: Record<string, unknown> },
  branches: { yes: EmailStep; no: EmailStep },
  ids: { start: string; end: string } = { start: "start", end: "end" },
) {
  const { yes, no } = branches;
  const email = (s: EmailStep) => ({ id: s.id, type: "email", data: s.email });
  const nodes: unknown[] = [
    { id: ids.start, type: "start" },
    email(first),
    { id: condition.id, type: "condition", data: condition.condition },
    email(yes),
    email(no),
    { id: ids.end, type: "end" },
  ];
  const edges = [
    { from: ids.start, to: first.id },
    { from: first.id, to: condition.id },
    { from: condition.id, to: yes.id, when: "yes" },
    { from: condition.id, to: no.id, when: "no" },
    { from: yes.id, to: ids.end },
    { from: no.id, to: ids.end },
  ];
  return { nodes, edges } as Parameters<typeof Campaign.create>[0]["workflow"];
}

/**
 * The variant a contact gets at an A/B node, as docs/decisions.md states the rule, written apart
 * from the engine's code: SHA-256 of "campaign NUL contact NUL node"; its first 52 bits over 2^52
 * are a point u in [0, 1); the variants share [0, 1) in order, each in proportion to its weight
 * (1 when none is given), and u falls in one of them (null: the node has no variants).
 */
export function expectedVariant(
  key: { campaignId: string; contactId: string; nodeId: string },
  variants: ReadonlyArray<{ id: string; weight?: number }> | undefined,
): string | null {
  if (!variants?.length) return null;
  const digest = createHash("sha256").update([key.campaignId, key.contactId, key.nodeId].join("\0")).digest();
  const bits = digest.readBigUInt64BE(0) >> 12n;
  const weights = variants.map((variant) => variant.weight ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  // u < (running sum of weights) / total, with u = bits / 2^52: compared exactly, in integers.
  const scaled = bits * BigInt(total);
  let sum = 0n;
  for (const [k, variant] of variants.entries()) {
    sum += BigInt(weights[k]!);
    if (scaled < sum << 52n) return variant.id;
  }
  return variants.at(-1)!.id;
}
