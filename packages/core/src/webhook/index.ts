/**
 * Outbound webhooks: customers subscribe URLs to events (`subscription.ts`); events are written
 * to an outbox in the transaction of their change (`outbox.ts`); the deliverer signs and POSTs
 * them on a queue of its own, with retries, and keeps a delivery log (`deliverer.ts`,
 * `deliveries.ts`); `address.ts` keeps them away from private networks.
 */
export * as Address from "./address";
export * as Deliverer from "./deliverer";
export * as Deliveries from "./deliveries";
export { eraseContact } from "./erase";
export { EVENT_TYPES, type EventType } from "./events";
export * as Http from "./http";
export * as Outbox from "./outbox";
export { emit, type NewEvent } from "./outbox";
export * as DeliveryQueue from "./queue";
export * as Subscriptions from "./subscription";
export { webhookDeliveryTable, webhookEventTable, webhookSubscriptionTable } from "./webhook.sql";
