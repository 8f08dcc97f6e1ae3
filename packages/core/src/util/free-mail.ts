import providers from "email-providers/all.json" with { type: "json" };

/**
 * Free-mail domains (gmail.com, outlook.com, gmx.de, orange.fr, …): an address there says nothing
 * about the company behind it. The list is the `email-providers` package's (about 8,700 domains
 * of email providers, rebuilt from a maintained upstream list on each release; see
 * docs/decisions.md), not a hand-written one.
 */
const FREE = new Set<string>(providers.map((d) => d.toLowerCase()));

/** The domain of an address, lower-cased; undefined when it has none. */
export function domainOf(email: string): string | undefined {
  const at = email.lastIndexOf("@");
  if (at < 0 || at === email.length - 1) return undefined;
  return email
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, "");
}

export function isFreeMail(domain: string): boolean {
  return FREE.has(domain.toLowerCase());
}

/** The company domain of an address: its domain, unless that is a free-mail one. */
export function companyDomain(email: string): string | undefined {
  const domain = domainOf(email);
  return domain && !isFreeMail(domain) ? domain : undefined;
}
