import { and, eq } from "drizzle-orm";
import * as Actor from "../actor";
import * as Database from "../database";
import { notFound } from "../error";
import { campaignTable } from "./campaign.sql";
import type { Settings } from "./schema";

export type Row = typeof campaignTable.$inferSelect;

export const ownRow = (workspaceId: string, id: string) => and(eq(campaignTable.workspaceId, workspaceId), eq(campaignTable.id, id));

/** Lock the workspace's campaign row for the rest of the transaction: status changes serialize on it. */
export async function lock(id: string): Promise<Row> {
  const workspaceId = Actor.workspaceId();
  const [row] = await Database.use((db) => db.select().from(campaignTable).where(ownRow(workspaceId, id)).for("update"));
  if (!row) throw notFound("Campaign", id);
  return row;
}

/** The columns that hold a campaign's settings (`settingsOf`). */
export const SETTINGS_COLUMNS = [
  "sendDays",
  "sendHoursStart",
  "sendHoursEnd",
  "timezone",
  "maxEmailsPerHour",
  "timezoneMode",
  "maxBounceRate",
  "maxComplaintRate",
  "stopOnCompanyReply",
  "holidays",
  "skipDates",
  "outOfOfficeHoldDays",
] as const satisfies ReadonlyArray<keyof Row>;

export function settingsOf(row: Pick<Row, (typeof SETTINGS_COLUMNS)[number]>): Settings {
  return {
    sendDays: row.sendDays,
    sendHoursStart: row.sendHoursStart,
    sendHoursEnd: row.sendHoursEnd,
    timezone: row.timezone,
    maxEmailsPerHour: row.maxEmailsPerHour,
    timezoneMode: row.timezoneMode,
    maxBounceRate: row.maxBounceRate,
    maxComplaintRate: row.maxComplaintRate,
    stopOnCompanyReply: row.stopOnCompanyReply,
    holidays: row.holidays ?? null,
    skipDates: row.skipDates,
    outOfOfficeHoldDays: row.outOfOfficeHoldDays,
  };
}
