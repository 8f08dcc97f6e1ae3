import * as Campaign from "../campaign";
import * as Clock from "../clock";
import * as EmailAccount from "../email-account";
import * as Message from "../message";
import { rate } from "../stats";
import * as Budget from "./budget";

/** A campaign's figures for one of its sending accounts (`GET /campaigns/:id/stats/accounts`). */
export interface AccountStats {
  emailAccountId: string;
  email: string;
  sent: number;
  delivered: number;
  bounced: number;
  /** Over `sent`. */
  bounceRate: number;
  replied: number;
  /** Over `delivered`. */
  replyRate: number;
  /** The account's emails since 00:00 UTC, across all campaigns. */
  todaySent: number;
  /** The account's cap for today (daily limit, or the warm-up's). */
  todayCap: number;
}

/**
 * The campaign's accounts in its order, then any account that sent for it before leaving the
 * list: what each sent for this campaign, and where it stands today across all campaigns.
 */
export async function byAccount(campaignId: string): Promise<AccountStats[]> {
  const campaign = await Campaign.mustExist(campaignId);
  const counts = new Map((await Message.countsByAccount(campaignId)).map((c) => [c.emailAccountId, c]));
  const ids = [...new Set([...campaign.emailAccountIds, ...counts.keys()])];
  const accounts = new Map((await EmailAccount.fromIDs(ids)).map((a) => [a.id, a]));
  const now = Clock.now();
  const out: AccountStats[] = [];
  for (const id of ids) {
    const account = accounts.get(id);
    if (!account) continue;
    const c = counts.get(id) ?? { sent: 0, delivered: 0, bounced: 0, replied: 0 };
    const today = await Budget.today(account, now);
    out.push({
      emailAccountId: id,
      email: account.email,
      sent: c.sent,
      delivered: c.delivered,
      bounced: c.bounced,
      bounceRate: rate(c.bounced, c.sent),
      replied: c.replied,
      replyRate: rate(c.replied, c.delivered),
      todaySent: today.sent,
      todayCap: today.cap,
    });
  }
  return out;
}
