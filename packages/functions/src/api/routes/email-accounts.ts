import * as EmailAccount from "@fluenzr/core/email-account";
import { notFound } from "@fluenzr/core/error";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { pathId } from "../ids";
import { idempotent } from "../middleware/idempotency";
import { body, doc, query } from "../openapi";
import { ok, okPage } from "../respond";
import * as Out from "../schemas";

const tag = "Email accounts";

export const emailAccounts = new Hono<ApiEnv>()
  .get("/", doc({ tag, summary: "List email accounts", data: Out.EmailAccount, paged: true }), query(EmailAccount.listQuery), async (c) =>
    okPage(c, await EmailAccount.list(c.req.valid("query"))),
  )
  .post(
    "/",
    doc({
      tag,
      summary: "Add an email account",
      description: "`status` reflects the SES identity of the address or its domain (locally, every account is verified).",
      data: Out.EmailAccount,
      status: 201,
      errors: [409],
    }),
    idempotent,
    body(EmailAccount.createSchema),
    async (c) => ok(c, await EmailAccount.create(c.req.valid("json")), 201),
  )
  .get("/:id", doc({ tag, summary: "Get an email account", data: Out.EmailAccount, errors: [404] }), async (c) => {
    const id = pathId(c, "emailAccount");
    const account = await EmailAccount.fromID(id);
    if (!account) throw notFound("Email account", id);
    return ok(c, await EmailAccount.refreshStatus(account));
  })
  .put(
    "/:id",
    doc({ tag, summary: "Update an email account", data: Out.EmailAccount, errors: [404] }),
    body(EmailAccount.updateSchema),
    async (c) => ok(c, await EmailAccount.update(pathId(c, "emailAccount"), c.req.valid("json"))),
  );
