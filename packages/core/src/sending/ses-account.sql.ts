import { boolean, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "../database/columns";

/**
 * The SES account's sending status as the sweeper last read it (`GetAccount`), one row per SES
 * account the deployment sends through (`default`). While `sending_enabled` is false nothing is
 * dispatched, in any campaign (sending/ses-account.ts).
 */
export const sesAccountTable = pgTable("ses_account", {
  id: text("id").primaryKey(),
  sendingEnabled: boolean("sending_enabled").notNull(),
  /** SES's `EnforcementStatus`: HEALTHY, PROBATION or SHUTDOWN. */
  enforcementStatus: text("enforcement_status"),
  checkedAt: timestamptz("checked_at").notNull(),
  /** When `sending_enabled` last changed. */
  changedAt: timestamptz("changed_at").notNull(),
});
