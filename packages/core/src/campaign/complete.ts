import { sql } from "drizzle-orm";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Scheduler from "../scheduler";
import { derivedId } from "../util/id";
import { Outbox } from "../webhook";

/**
 * Active → completed once no contact has a step to go. Called after each final transition (the
 * sender, tracking, removal) and by the sweeper as a backstop. It is its own statement, run after
 * the caller committed, so of two contacts finishing at once the later one sees the other's work.
 */
export async function completeIfDone(campaignId: string): Promise<boolean> {
  const now = Clock.now();
  // `campaign.completed` goes to the webhook outbox in the same statement (the id derived from the completion).
  const eventId = derivedId("event", `campaign.completed:${campaignId}:${now.getTime()}`, now.getTime());
  const rows = await Database.rows<{ id: string; deliveries: string[] | null }>(sql`
    WITH done AS (
      UPDATE campaign SET status = 'completed', completed_at = ${now}, updated_at = ${now}
      WHERE id = ${campaignId} AND status = 'active'
        AND NOT EXISTS (SELECT 1 FROM campaign_contact WHERE campaign_id = ${campaignId} AND status IN ('pending', 'in_progress'))
      RETURNING id, workspace_id, name
    ), source AS (
      SELECT ${eventId}::text AS id, workspace_id, 'campaign.completed'::text AS type, ${now}::timestamptz AS occurred_at,
        json_build_object('id', ${eventId}::text, 'type', 'campaign.completed', 'timestamp', ${now.toISOString()}::text,
          'workspaceId', workspace_id, 'data', json_build_object('campaign', json_build_object('id', id, 'name', name, 'status', 'completed'))
        )::text AS body
      FROM done
    ), ${sql.raw(Outbox.fanOut("source"))}
    SELECT id, ARRAY(SELECT id FROM wh_delivery) AS deliveries FROM done`);
  if (!rows.length) return false;
  await Outbox.queueAfterCommit(rows[0]!.deliveries);
  // Never a Scheduler call inside a transaction: if a caller runs this in one, it waits for commit.
  await Database.afterCommit(() => Scheduler.use().remove(campaignId));
  return true;
}
