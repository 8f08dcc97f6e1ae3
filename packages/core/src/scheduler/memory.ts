import { type CampaignSchedule, cronExpression, type Scheduler } from ".";

/** The scheduler in one process: what the local runner ticks and tests inspect. */
export class MemoryScheduler implements Scheduler {
  readonly schedules = new Map<string, CampaignSchedule>();
  /** Every call, in order (tests check the lifecycle). */
  readonly calls: Array<{ op: "put" | "remove"; campaignId: string; enabled?: boolean }> = [];

  async put(schedule: CampaignSchedule) {
    this.calls.push({ op: "put", campaignId: schedule.campaignId, enabled: schedule.enabled });
    this.schedules.set(schedule.campaignId, structuredClone(schedule));
  }

  async remove(campaignId: string) {
    this.calls.push({ op: "remove", campaignId });
    this.schedules.delete(campaignId);
  }

  async get(campaignId: string) {
    const schedule = this.schedules.get(campaignId);
    return schedule && { enabled: schedule.enabled, expression: cronExpression(schedule.window), timezone: schedule.window.timezone };
  }

  async list() {
    return new Map([...this.schedules.values()].map((s) => [s.campaignId, s.enabled]));
  }

  enabled(): CampaignSchedule[] {
    return [...this.schedules.values()].filter((s) => s.enabled);
  }
}
