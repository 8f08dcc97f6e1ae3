import { lambda, logLevel } from "./config";
import { databaseUrl } from "./database";
import { scheduling } from "./scheduler";

/**
 * Every 5 minutes, repair what a crash can leave behind: claims whose queue message never
 * arrived, active campaigns without a schedule, finished campaigns still active.
 */
export const sweeper = new sst.aws.CronV2("Sweeper", {
  function: {
    ...lambda,
    handler: "packages/functions/src/sweeper.handler",
    timeout: "2 minutes",
    link: [databaseUrl, scheduling],
    environment: { LOG_LEVEL: logLevel },
  },
  schedule: "rate(5 minutes)",
});
