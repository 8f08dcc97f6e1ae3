import { type BlockList, isIP } from "node:net";
import { isbot } from "isbot";
import { subnets } from "../util/net";

/**
 * Machine opens and clicks (docs/machine-events.md): each open and click SES reports is `human`
 * or `machine`, with a reason. What the event alone shows (user agent, IP address) is judged here,
 * in plain TypeScript, before the event's statement; what needs the email's past (how long after
 * it was sent, the other clicks of the same email) is judged in SQL inside that same statement
 * (`reasonSql`), so the fast path stays one statement per event.
 */

export const MACHINE_REASONS = ["apple-mpp", "image-prefetch", "security-scanner", "too-fast", "burst"] as const;
export type MachineReason = (typeof MACHINE_REASONS)[number];

/** What the event alone decides, and which timing rule applies when it decides nothing. */
export interface Verdict {
  /** A machine reason the event alone proves, or null: then the timing rules decide. */
  reason: MachineReason | null;
  /** Within this many seconds of the email's sending, the event is a machine's, for `timedReason`. */
  withinSeconds: number;
  timedReason: MachineReason;
}

/** Opens less than this long after the email was sent: no reader is that fast. */
export const TOO_FAST_OPEN_SECONDS = 10;
/** Clicks less than this long after sending: link scanners follow links as the email arrives. */
export const TOO_FAST_CLICK_SECONDS = 30;
/** Image proxies fetching this soon after sending are prefetching, not showing the email to a reader. */
export const PREFETCH_SECONDS = 60;
/** Two clicks on different links of one email within this many seconds: a scanner following every link. */
export const BURST_SECONDS = 2;

/** Apple's own network (ARIN NET-17-0-0-0-1): Mail Privacy Protection's fetches come from it. */
const APPLE = subnets([["17.0.0.0", 8]]);

/**
 * Link-scanning mail gateways: Microsoft Exchange Online Protection (Defender for Office 365
 * Safe Links), per Microsoft's "Microsoft 365 URLs and IP address ranges" (Exchange Online, ID 2).
 */
const SCANNERS = subnets([
  ["40.92.0.0", 15],
  ["40.107.0.0", 16],
  ["52.100.0.0", 14],
  ["104.47.0.0", 17],
  ["2a01:111:f400::", 48],
  ["2a01:111:f403::", 48],
]);

/** Mail providers' image proxies: they fetch when the reader opens the email, and some as it arrives. */
const IMAGE_PROXY = /GoogleImageProxy|ggpht\.com|YahooMailProxy|Yahoo! Slurp/i;
/** Gateways whose user agents isbot does not know. */
const SCANNER_AGENT = /Mimecast|Proofpoint|Barracuda|Symantec|Trend ?Micro|Forcepoint|Sophos|Cisco|IronPort|MessageLabs|Safe ?Links/i;

function within(list: BlockList, ip: string | undefined): boolean {
  const family = ip ? isIP(ip) : 0;
  if (!ip || !family) return false;
  return list.check(ip, family === 4 ? "ipv4" : "ipv6");
}

export interface Seen {
  userAgent?: string | undefined;
  ipAddress?: string | undefined;
}

export function classifyOpen({ userAgent, ipAddress }: Seen): Verdict {
  const ua = userAgent?.trim() ?? "";
  const timed = (withinSeconds: number, timedReason: MachineReason) => ({ withinSeconds, timedReason });
  // MPP fetches with a bare "Mozilla/5.0" through Apple's proxies; Apple Mail showing images
  // itself sends a full WebKit user agent from the reader's address.
  if (ua === "Mozilla/5.0" || within(APPLE, ipAddress)) return { reason: "apple-mpp", ...timed(TOO_FAST_OPEN_SECONDS, "too-fast") };
  if (IMAGE_PROXY.test(ua)) return { reason: null, ...timed(PREFETCH_SECONDS, "image-prefetch") };
  if (!ua || isbot(ua) || SCANNER_AGENT.test(ua) || within(SCANNERS, ipAddress))
    return { reason: "security-scanner", ...timed(TOO_FAST_OPEN_SECONDS, "too-fast") };
  return { reason: null, ...timed(TOO_FAST_OPEN_SECONDS, "too-fast") };
}

export function classifyClick({ userAgent, ipAddress }: Seen): Verdict {
  const ua = userAgent?.trim() ?? "";
  const timed = { withinSeconds: TOO_FAST_CLICK_SECONDS, timedReason: "too-fast" as const };
  // A browser always names itself; a click with no user agent, a bare "Mozilla/5.0", a known
  // bot or gateway, or a gateway's address is a program following the link.
  if (!ua || ua === "Mozilla/5.0" || isbot(ua) || SCANNER_AGENT.test(ua) || within(SCANNERS, ipAddress))
    return { reason: "security-scanner", ...timed };
  return { reason: null, ...timed };
}

/**
 * The final reason, in SQL, for one open or click of an email (`m`: a row of `message` with
 * `id`, `campaign_id`, `contact_id`, `sent_at`): the event's own reason, else too fast after
 * sending, else (clicks) a burst with a click on another link of the same email already
 * recorded. NULL means human. Parameters are SQL expressions (placeholders).
 */
export function reasonSql(
  kind: "opened" | "clicked",
  p: { at: string; reason: string; withinSeconds: string; timedReason: string; link: string },
): string {
  const burst =
    kind === "clicked"
      ? `, (SELECT 'burst' FROM event e
           WHERE e.campaign_id = m.campaign_id AND e.contact_id = m.contact_id
             AND e.occurred_at BETWEEN ${p.at} - interval '${BURST_SECONDS} seconds' AND ${p.at} + interval '${BURST_SECONDS} seconds'
             AND e.message_id = m.id AND e.type = 'clicked' AND e.metadata->>'link' IS DISTINCT FROM ${p.link}
           LIMIT 1)`
      : "";
  return `coalesce(${p.reason},
      CASE WHEN ${p.at} < m.sent_at + make_interval(secs => ${p.withinSeconds}) THEN ${p.timedReason} END${burst})`;
}
