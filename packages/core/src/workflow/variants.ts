import { createHash } from "node:crypto";
import * as v from "valibot";
import type { ErrorDetail } from "../error";
import { noNul, wholeNumber } from "../util/schema";

/**
 * A/B variants of an email node: `data.variants` (2–5, each its own subject and body, weights
 * default equal) and `data.abTest` (the metric that picks a winner). The schema pieces, the
 * checks that need the whole node, and the deterministic choice of a contact's variant live here,
 * apart from the graph rules, so the two evolve without stepping on each other.
 */

export const MIN_VARIANTS = 2;
export const MAX_VARIANTS = 5;

export const subject = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.nonEmpty("is required"),
  v.maxLength(998, "must be at most 998 characters"),
  noNul,
);

export const body = v.pipe(
  v.string("must be a string"),
  // Not trimmed (its spacing is the email's), but a body of blanks is no body.
  v.check((body) => body.trim() !== "", "is required"),
  v.maxLength(100_000, "must be at most 100000 characters"),
  noNul,
);

const variantId = v.pipe(
  v.string("must be a string"),
  v.nonEmpty("is required"),
  v.maxLength(64, "must be at most 64 characters"),
  v.regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ or -"),
);

export const variant = v.object({
  id: variantId,
  /** Required where the node's own subject would be (see `graphErrors`); a threaded follow-up may leave it out. */
  subject: v.optional(subject),
  body,
  /** Relative share of the contacts (before a winner is decided); default: equal shares. */
  weight: v.optional(wholeNumber(1, 1000)),
});

export const METRICS = ["openRate", "clickRate", "replyRate"] as const;
export type Metric = (typeof METRICS)[number];

export const abTest = v.object({
  metric: v.picklist(METRICS, `must be ${METRICS.map((m) => `"${m}"`).join(", ")}`),
  /** No decision before every variant has this many emails sent. */
  minSentPerVariant: v.optional(wholeNumber(1, 1_000_000), 100),
  /** One-sided confidence that the winner's rate is above each other variant's. */
  confidence: v.optional(
    v.pipe(v.number("must be a number"), v.minValue(0.8, "must be at least 0.8"), v.maxValue(0.999, "must be at most 0.999")),
    0.95,
  ),
});

export const variants = v.pipe(
  v.array(variant, "must be an array of variants"),
  v.minLength(MIN_VARIANTS, `needs at least ${MIN_VARIANTS} variants`),
  v.maxLength(MAX_VARIANTS, `at most ${MAX_VARIANTS} variants`),
);

export type Variant = v.InferOutput<typeof variant>;
export type AbTest = v.InferOutput<typeof abTest>;

/** What a node with content carries, as far as variants are concerned. */
export interface Content {
  subject?: string;
  body?: string;
  variants?: Variant[];
  abTest?: AbTest;
}

/**
 * The rules that need the whole node: content either on the node or on each variant, unique
 * variant ids, weights on every variant or none, an A/B test only over variants. `path` is the
 * node's (`workflow.nodes[2]`).
 */
export function contentErrors(data: Content, path: string, nodeId: string): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  const at = (field: string, message: string) => errors.push({ path: `${path}.data.${field}`, message, nodeId });
  if (!data.variants) {
    if (data.body === undefined) at("body", "is required");
    if (data.abTest) at("abTest", "needs variants (data.variants) to compare");
    return errors;
  }
  for (const field of ["subject", "body"] as const) {
    if (data[field] !== undefined) at(field, "must not be set beside variants: each variant has its own");
  }
  const seen = new Set<string>();
  data.variants.forEach((variant, i) => {
    if (seen.has(variant.id)) at(`variants[${i}].id`, `duplicate variant id "${variant.id}"`);
    seen.add(variant.id);
  });
  const weighted = data.variants.filter((variant) => variant.weight !== undefined).length;
  if (weighted && weighted < data.variants.length) {
    data.variants.forEach((variant, i) => {
      if (variant.weight === undefined) at(`variants[${i}].weight`, "is required when another variant has a weight (all or none)");
    });
  }
  return errors;
}

/** The subject and body fields of a node to check as templates, with their paths under `data`. */
export function templateFields(data: Content): Array<{ field: string; value: string | undefined }> {
  if (!data.variants) {
    return [
      { field: "subject", value: data.subject },
      { field: "body", value: data.body },
    ];
  }
  return data.variants.flatMap((variant, i) => [
    { field: `variants[${i}].subject`, value: variant.subject },
    { field: `variants[${i}].body`, value: variant.body },
  ]);
}

/**
 * A point in [0, 1) drawn from the campaign, contact and node: the same inputs always give the
 * same point (a retry, a redelivered job, a restarted sender), and different contacts spread
 * uniformly (the first 52 bits of a SHA-256).
 */
export function draw(campaignId: string, contactId: string, nodeId: string): number {
  const digest = createHash("sha256").update(`${campaignId}\u0000${contactId}\u0000${nodeId}`).digest();
  // 52 bits: 4 bytes then 20 more bits, exact in a double.
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * 2 ** 20 + low) / 2 ** 52;
}

/** The variant a point falls in, each taking a share of [0, 1) proportional to its weight (default equal). */
export function pick(variants: readonly Pick<Variant, "id" | "weight">[], point: number): string {
  const total = variants.reduce((sum, variant) => sum + (variant.weight ?? 1), 0);
  let edge = 0;
  for (const variant of variants) {
    edge += (variant.weight ?? 1) / total;
    if (point < edge) return variant.id;
  }
  return variants[variants.length - 1]!.id;
}

/** A contact's variant at a node before any winner: deterministic, weighted. */
export function choose(
  variants: readonly Pick<Variant, "id" | "weight">[],
  key: { campaignId: string; contactId: string; nodeId: string },
): string {
  return pick(variants, draw(key.campaignId, key.contactId, key.nodeId));
}
