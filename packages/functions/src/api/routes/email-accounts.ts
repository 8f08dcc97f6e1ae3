import * as Clock from "@fluenzr/core/clock";
import * as EmailAccount from "@fluenzr/core/email-account";
import { Budget } from "@fluenzr/core/sending";
import type { Context } from "hono";
import { collection } from "../collection";
import { found, pathId } from "../ids";
import { body, operations } from "../openapi";
import { ok } from "../respond";

const missing = "No email account with this id in the workspace.";
/** The operations on one account: they answer it, or 404. */
const account = { data: "EmailAccount", errors: { 404: missing } } as const;

const op = operations("Email accounts", {
  getEmailAccount: {
    summary: "Get an email account",
    description:
      "`status` is refreshed from SES when it is not verified yet. `today` counts the emails the account sent since 00:00 UTC across all campaigns (accounts count their days in UTC), against the day's cap (daily limit, or the warm-up's).",
    ...account,
  },
  updateEmailAccount: {
    summary: "Update an email account",
    description:
      "Partial: name, reply-to address, daily limit, warm-up (turning it on starts its day 0 now), minimum seconds between emails, " +
      "bounce and complaint limits.",
    ...account,
    body: true,
    requestExample: { dailyLimit: 300 },
  },
  resumeEmailAccount: {
    summary: "Resume an email account paused by the deliverability guard",
    description:
      "An account whose hard bounces or complaints over its last 200 sent emails (all campaigns, once 20 were sent) exceeded " +
      "`maxBounceRate` or `maxComplaintRate` is paused (`sendingStatus: paused`, `pausedReason`): it sends nothing in any campaign, " +
      "and campaigns rotating through several accounts skip it. Resuming clears `pausedReason` and starts a new window of 200 " +
      "emails (the bounces before no longer count). Resuming an account that is not paused changes nothing.",
    ...account,
  },
});

const accountId = (c: Context) => pathId(c, "emailAccount");

export const emailAccounts = collection("Email accounts", EmailAccount, {
  list: {
    operationId: "listEmailAccounts",
    summary: "List email accounts",
    description: "Sort on createdAt, updatedAt or email.",
    data: "EmailAccount",
  },
  create: {
    operationId: "createEmailAccount",
    summary: "Add an email account",
    description: "`status` reflects the SES identity of the address or its domain (locally, every account is verified).",
    data: "EmailAccount",
    errors: { 409: "An account with this email exists, or the `Idempotency-Key` was used for another request." },
    requestExample: {
      email: "sales@acme.example.com",
      name: "Acme Sales",
      dailyLimit: 500,
      warmup: { enabled: true, startPerDay: 5, incrementPerDay: 3 },
      minSecondsBetweenEmails: 60,
      maxBounceRate: 5,
      maxComplaintRate: 0.3,
    },
  },
})
  .get("/:id", op.getEmailAccount, async (c) => {
    const account = found(await EmailAccount.fromID(accountId(c)), "emailAccount", c);
    const refreshed = await EmailAccount.refreshStatus(account);
    return ok(c, { ...refreshed, today: await Budget.today(refreshed, Clock.now()) });
  })
  .put("/:id", op.updateEmailAccount, body(EmailAccount.updateSchema), async (c) =>
    ok(c, await EmailAccount.update(accountId(c), c.req.valid("json"))),
  )
  .post("/:id/resume", op.resumeEmailAccount, async (c) => ok(c, await EmailAccount.resume(accountId(c))));
