import { lookup as dnsLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { subnets } from "../util/net";

/**
 * Where webhooks may go (SSRF). Deployed, only `https` URLs whose every resolved address is
 * public: loopback, private, shared, link-local (cloud metadata: 169.254.169.254, fd00:ec2::254),
 * multicast and reserved ranges are refused, at creation and at delivery, and at delivery on the
 * address actually connected to (the check runs inside the connection's DNS lookup, so a name
 * that resolves to a public address when created and a private one later is still refused).
 * Local mode (`npm start`) also allows `http` and loopback addresses, so a developer can receive
 * events on their own machine.
 */
export type Policy = "deployed" | "local";

let policy: Policy = "deployed";

export function install(next: Policy): void {
  policy = next;
}

export function current(): Policy {
  return policy;
}

const blocked = subnets([
  // IPv4: this network, private, shared, loopback, link-local, documentation, benchmarking, multicast, reserved
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
  // IPv6
  ["::", 96], // unspecified, loopback and the deprecated IPv4-compatible form (::127.0.0.1)
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const);

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address. */
function normalize(address: string): { address: string; family: "ipv4" | "ipv6" } | undefined {
  const bare = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return { address: mapped[1]!, family: "ipv4" };
  const version = isIP(bare);
  if (!version) return undefined;
  return { address: bare, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Why this address may not be called, or undefined when it may. */
export function refusal(address: string, under: Policy = policy): string | undefined {
  const ip = normalize(address);
  if (!ip) return `${address} is not an IP address`;
  if (under === "local" && loopback.check(ip.address, ip.family)) return undefined;
  if (blocked.check(ip.address, ip.family)) return `${address} is a private, loopback, link-local or reserved address`;
  return undefined;
}

/** Why this URL may not be subscribed or called (by its form: scheme, host), or undefined. */
export function urlRefusal(raw: string, under: Policy = policy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  const local = under === "local";
  if (url.protocol !== "https:" && !(local && url.protocol === "http:"))
    return local ? "must be an http or https URL" : "must be an https URL";
  const host = url.hostname.toLowerCase();
  if (local && (host === "localhost" || host.endsWith(".localhost"))) return undefined;
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal") || host.endsWith(".local")) {
    return `host ${host} is not public`;
  }
  if (normalize(host)) return refusal(host, under);
  if (!host.includes(".")) return `host ${host} is not a public domain name`;
  return undefined;
}

/** Resolve a name as the connection will, refusing it when any address is not public. */
export async function resolveRefusal(raw: string, under: Policy = policy): Promise<string | undefined> {
  const form = urlRefusal(raw, under);
  if (form) return form;
  const host = new URL(raw).hostname;
  if (normalize(host)) return undefined;
  const addresses = await new Promise<string[]>((resolve) =>
    dnsLookup(host, { all: true }, (error, found) => resolve(error ? [] : found.map((a) => a.address))),
  );
  if (!addresses.length) return `host ${host} does not resolve`;
  for (const address of addresses) {
    const why = refusal(address, under);
    if (why) return `host ${host} resolves to ${why}`;
  }
  return undefined;
}

export class RefusedAddressError extends Error {
  readonly code = "EWEBHOOKREFUSED";
}

/**
 * The connection's DNS lookup: the addresses it returns are the ones connected to, so they are
 * the ones checked. Refuses (the connection fails) when any is not allowed.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "", 0);
    const list = addresses as unknown as Array<{ address: string; family: number }>;
    for (const entry of list) {
      const why = refusal(entry.address);
      if (why) return callback(new RefusedAddressError(`refused: ${hostname} resolves to ${why}`), "", 0);
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
};
