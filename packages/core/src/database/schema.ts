/** Every table, for drizzle-kit. Tables live beside their concept (`<concept>/<concept>.sql.ts`). */

export * from "../activity/activity.sql";
export * from "../auth/auth.sql";
export * from "../campaign/campaign.sql";
export * from "../contact/contact.sql";
export * from "../email-account/email-account.sql";
export * from "../group/group.sql";
export * from "../idempotency/idempotency.sql";
export * from "../message/message.sql";
export * from "../stats/stats.sql";
export * from "../tracking/tracking.sql";
export * from "../workspace/workspace.sql";
