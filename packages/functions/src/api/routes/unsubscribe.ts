import { escapeHtml } from "@fluenzr/core/template";
import { Unsubscribe } from "@fluenzr/core/tracking";
import { Hono } from "hono";
import type { ApiEnv } from "../env";
import { doc } from "../openapi";

/**
 * The List-Unsubscribe URL of every email. `POST` unsubscribes at once (RFC 8058 one-click,
 * no auth); `GET` only shows a page whose button posts, so link scanners opening the URL
 * unsubscribe nobody. An unknown token gets a 404 page.
 */
const page = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${escapeHtml(title)}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #222; }
    button { font: inherit; padding: .6rem 1.2rem; border: 0; border-radius: .4rem; background: #222; color: #fff; cursor: pointer; }
  </style>
</head>
<body>${body}</body>
</html>`;

const notFound = page("Link not valid", "<h1>This link is not valid</h1><p>It may be incomplete. Nothing was changed.</p>");

const masked = (email: string) =>
  email.replace(
    /^(.)(.*)(@.*)$/,
    (_, first: string, rest: string, domain: string) => `${first}${"•".repeat(Math.min(rest.length, 6))}${domain}`,
  );

/** The link's token: random (base64url), one per email; only its SHA-256 is stored. */
const TOKEN_PARAM = {
  token: {
    description: "The token of the email's List-Unsubscribe link: random, one per email.",
    example: "q9Vv3kZ8tYw2LmN4pR7sXa1BcD6eFgHj",
  },
};

const unsubscribedPage = (email: string) =>
  page("Unsubscribed", `<h1>You are unsubscribed</h1><p>${escapeHtml(masked(email))} will not receive these emails again.</p>`);

export const unsubscribe = new Hono<ApiEnv>()
  .get(
    "/:token",
    doc({
      operationId: "showUnsubscribePage",
      tag: "Unsubscribe",
      public: true,
      html: true,
      summary: "Confirmation page",
      description: "Changes nothing: its button posts, so link scanners opening the URL unsubscribe nobody.",
      errors: { 404: "The link is not valid (an HTML page)." },
      params: TOKEN_PARAM,
    }),
    async (c) => {
      const target = await Unsubscribe.fromToken(c.req.param("token"));
      if (!target) return c.html(notFound, 404);
      if (target.alreadyUnsubscribed) return c.html(unsubscribedPage(target.email));
      return c.html(
        page(
          "Unsubscribe",
          `<h1>Unsubscribe?</h1><p>${escapeHtml(masked(target.email))} will not receive these emails again.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
        ),
      );
    },
  )
  .post(
    "/:token",
    doc({
      operationId: "unsubscribe",
      tag: "Unsubscribe",
      public: true,
      html: true,
      summary: "One-click unsubscribe (RFC 8058)",
      description: "Unsubscribes the contact at once and answers a page saying so.",
      errors: { 404: "The link is not valid (an HTML page)." },
      params: TOKEN_PARAM,
    }),
    async (c) => {
      const target = await Unsubscribe.unsubscribe(c.req.param("token"), "one-click");
      if (!target) return c.html(notFound, 404);
      return c.html(unsubscribedPage(target.email));
    },
  );
