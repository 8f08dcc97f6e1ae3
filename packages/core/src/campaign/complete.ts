import { sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Scheduler from "../scheduler";

/**
 * Active → completed once no contact has a step to go. Called after each final transition (the
 * sender, tracking, removal) and by the sweeper as a backstop. It is its own statement, run after
 * the caller committed, so of two contacts finishing at once the later one sees the other's work.
 */
export async function completeIfDone(campaignId: string): Promise<boolean> {
  const now = Clock.now();
  const rows = await Database.rows<{ id: string }>(sql`
    UPDATE campaign SET status = 'completed', completed_at = ${now}, updated_at = ${now}
    WHERE id = ${campaignId} AND status = 'active'
      AND NOT EXISTS (SELECT 1 FROM campaign_contact WHERE campaign_id = ${campaignId} AND status IN ('pending', 'in_progress'))
    RETURNING id`);
  if (!rows.length) return false;
  // Never a Scheduler call inside a transaction: if a caller runs this in one, it waits for commit.
  await Database.afterCommit(() => Scheduler.use().remove(campaignId));
  return true;
}
