import * as Activity from "@fluenzr/core/activity";
import { AccountStats } from "@fluenzr/core/sending";
import * as Stats from "@fluenzr/core/stats";
import { type Context, Hono } from "hono";
import type { ApiEnv } from "../env";
import { found, pathId } from "../ids";
import { fused } from "../middleware/auth";
import { operations, pageOf, query } from "../openapi";
import { json, ok } from "../respond";

/** Every statistic is of one campaign, named in the path. */
const ofCampaign = { errors: { 404: "No campaign with this id in the workspace." } } as const;

const op = operations("Statistics", {
  getCampaignStats: {
    summary: "Global statistics of a campaign",
    description:
      "Counts of emails (ten opens of one email count once). `openRate`, `clickRate`, `replyRate` and `unsubscribeRate` are " +
      "over `delivered`, `bounceRate` over `sent`; percentages with one decimal, 0 when nothing was delivered or sent.",
    data: "CampaignStats",
    ...ofCampaign,
  },
  getCampaignEmailStats: {
    summary: "Statistics of each email of the sequence",
    description:
      "One row per email node, in sequence order, with the subject as written in the template; emails not sent yet show zeros. Rates are over the email's `sent`.",
    data: "EmailStats",
    list: true,
    ...ofCampaign,
  },
  getCampaignAccountStats: {
    summary: "Statistics of each sending account",
    description:
      "One row per account of the campaign, in its order, then any account that sent for it before leaving the list. `sent`, `delivered`, " +
      "`bounced` and `replied` count this campaign's emails; `bounceRate` is over `sent`, `replyRate` over `delivered`. `todaySent` and " +
      "`todayCap` are the account's day (since 00:00 UTC) across all campaigns.",
    data: "AccountStats",
    list: true,
    ...ofCampaign,
  },
  getCampaignTimeline: {
    summary: "Statistics over time",
    description:
      "Buckets of an hour, a day or an ISO week (Monday) in the campaign's timezone, every bucket present. `from`/`to` are ISO 8601 " +
      "(without an offset: in the campaign's timezone; a date alone covers its whole day); default from the campaign's start to now, " +
      `by day. At most ${Stats.MAX_BUCKETS} buckets.`,
    data: "TimelinePoint",
    list: true,
    ...ofCampaign,
  },
  listCampaignActivity: {
    summary: "The campaign's events, newest first",
    description:
      "Filters `type`, `contactId`, `from`, `to`. Page with `cursor` (`meta.nextCursor`, fast at any depth; it wins over `page`) " +
      `or with \`page\`. \`total\` and \`totalPages\` are given up to ${Activity.TOTAL_CAP} events.`,
    ...pageOf("ActivityEvent"),
    meta: "FeedMeta",
    ...ofCampaign,
  },
});

const campaignId = (c: Context) => pathId(c, "campaign");
/** The hot read: authenticated and read in one statement. */
const statsRead = fused((c) => Stats.Read.globalOf(campaignId(c)));

/** Statistics and activity of a campaign (SPEC §5), mounted under `/campaigns`. */
export const stats = new Hono<ApiEnv>()
  .get("/:id/stats", op.getCampaignStats, statsRead.middleware, (c) => ok(c, found(statsRead.value(c), "campaign", c)))
  .get("/:id/stats/emails", op.getCampaignEmailStats, async (c) => ok(c, await Stats.byEmail(campaignId(c))))
  .get("/:id/stats/accounts", op.getCampaignAccountStats, async (c) => ok(c, await AccountStats.byAccount(campaignId(c))))
  .get("/:id/stats/timeline", op.getCampaignTimeline, query(Stats.timelineQuery), async (c) =>
    ok(c, await Stats.timeline(campaignId(c), c.req.valid("query"))),
  )
  .get("/:id/activity", op.listCampaignActivity, query(Activity.feedQuery), async (c) => {
    const page = await Activity.feed(campaignId(c), c.req.valid("query"));
    return json(c, { success: true as const, data: page.data, meta: page.meta });
  });
