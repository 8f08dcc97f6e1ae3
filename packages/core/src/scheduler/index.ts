import type { SendWindow } from "../schedule";
import { port } from "../util/port";

/**
 * The scheduler port: one schedule per active campaign that ticks it every minute of its send
 * window. EventBridge Scheduler in AWS (scheduler/eventbridge.ts); in-process locally and in tests
 * (scheduler/memory.ts). Every call is idempotent: creating an existing schedule replaces it and
 * removing a missing one succeeds.
 */
export interface CampaignSchedule {
  campaignId: string;
  window: SendWindow;
  enabled: boolean;
}

export interface Scheduler {
  put(schedule: CampaignSchedule): Promise<void>;
  remove(campaignId: string): Promise<void>;
  /** The campaign's schedule as the scheduler has it, if any. */
  get(campaignId: string): Promise<{ enabled: boolean; expression: string; timezone: string } | undefined>;
  /** Every campaign schedule: campaign id → enabled (the sweeper reconciles them). */
  list(): Promise<Map<string, boolean>>;
}

export const { install, use } = port<Scheduler>("Scheduler");

export const scheduleName = (campaignId: string) => `campaign-${campaignId}`;
export const campaignOfSchedule = (name: string) => (name.startsWith("campaign-") ? name.slice("campaign-".length) : undefined);

const CRON_DAYS = { monday: "MON", tuesday: "TUE", wednesday: "WED", thursday: "THU", friday: "FRI", saturday: "SAT", sunday: "SUN" };

/**
 * Every minute of the window, evaluated in the campaign's timezone: `cron(* 9-17 ? * MON-FRI *)`
 * for 09:00–18:00 on weekdays. The tick re-checks the window itself (DST edges, late ticks).
 * A campaign in `contact` timezone mode ticks every minute of every day.
 */
export function cronExpression(window: SendWindow): string {
  // In `contact` mode the windows present are the campaign's days and hours in any contact's
  // timezone: every minute covers their union (the tick claims only contacts due, by the index).
  if (window.timezoneMode === "contact") return "cron(* * ? * * *)";
  const last = window.sendHoursEnd - 1;
  const hours = last === window.sendHoursStart ? `${last}` : `${window.sendHoursStart}-${last}`;
  const days = window.sendDays.map((d) => CRON_DAYS[d]).join(",");
  return `cron(* ${hours} ? * ${days} *)`;
}
