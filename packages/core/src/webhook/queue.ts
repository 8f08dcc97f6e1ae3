import * as v from "valibot";
import * as Log from "../log";

/**
 * The delivery queue port: one message per delivery to attempt, on a queue of its own so that a
 * slow or dead endpoint never holds up sending or SES ingestion. At-least-once: the deliverer
 * claims the delivery in the database before calling anyone, so a duplicate message does nothing.
 * Installed in every process that emits events (API, sender, sweeper, deliverer); where none is,
 * the sweeper picks the deliveries up.
 */
export const messageSchema = v.object({
  v: v.literal(1),
  deliveryId: v.pipe(v.string(), v.startsWith("whd_")),
});
export type DeliveryMessage = v.InferOutput<typeof messageSchema>;

export interface DeliveryQueue {
  /** Queue these deliveries; `delaySeconds` (at most 900) holds them back, for retries. */
  send(deliveryIds: readonly string[], delaySeconds?: number): Promise<void>;
}

let current: DeliveryQueue | undefined;

export function install(next: DeliveryQueue | undefined): void {
  current = next;
}

export function installed(): DeliveryQueue | undefined {
  return current;
}

/** Queue deliveries if a queue is installed; a failure is logged (the sweeper delivers them later). */
export async function dispatch(deliveryIds: readonly string[], delaySeconds = 0): Promise<void> {
  if (!deliveryIds.length) return;
  if (!current) {
    Log.debug("no webhook delivery queue installed: the sweeper will deliver", { deliveries: deliveryIds.length });
    return;
  }
  try {
    await current.send(deliveryIds, delaySeconds);
  } catch (error) {
    Log.error("webhook delivery queue refused messages; the sweeper will deliver them", { error, deliveries: deliveryIds.length });
  }
}

export const encode = (deliveryId: string) => JSON.stringify({ v: 1, deliveryId } satisfies DeliveryMessage);
