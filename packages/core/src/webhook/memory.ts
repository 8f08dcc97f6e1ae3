import type { MemoryQueue } from "../queue/memory";
import { type DeliveryQueue, encode } from "./queue";

/** The delivery queue in one process (local mode, tests): a MemoryQueue of its own, delays honoured. */
export function memoryDeliveryQueue(queue: MemoryQueue): DeliveryQueue {
  return {
    async send(deliveryIds, delaySeconds = 0) {
      for (const id of deliveryIds) queue.enqueueRaw(encode(id), delaySeconds * 1000);
    },
  };
}
