import { jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { timestamptz } from "../database/columns";

/**
 * Provider events that matched no email we sent (wrong tags, another sender on the same SES
 * account, mail to the reply domain that answers nothing of ours): kept for diagnosis and
 * acknowledged, so SNS does not retry them forever.
 */
export const unmatchedEventTable = pgTable(
  "unmatched_event",
  {
    providerKey: text("provider_key").notNull(),
    kind: text("kind").notNull(),
    reason: text("reason").notNull(),
    payload: jsonb("payload").notNull(),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("unmatched_event_key").on(t.providerKey)],
);
