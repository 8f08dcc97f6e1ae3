export * as Guard from "./guard";
export * as InboundMail from "./inbound-mail";
export * as Replies from "./replies";
export { type Applied, applySesEvent, providerKey, type SesEvent, sesEventSchema } from "./ses-events";
export * as Sns from "./sns";
export { unmatchedEventTable } from "./tracking.sql";
export * as Unsubscribe from "./unsubscribe";
export * as Webhook from "./webhook";
