import * as Activity from "@fluenzr/core/activity";
import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Stats from "@fluenzr/core/stats";
import * as Workflow from "@fluenzr/core/workflow";
import { SEED_WORKFLOW } from "@fluenzr/functions/api/examples";
import { sql } from "drizzle-orm";
import * as v from "valibot";
import type { TestWorkspace } from "./factories";
import * as factory from "./factories";

/**
 * Statistics fixtures: a campaign with enrolled contacts, and the history of its emails written
 * the way the sender and the tracking side write it: every event recorded, and each email's
 * first `opened`, `clicked`, ... counted once, in the same transaction.
 */

/** The seed's two-email sequence, as stored (defaults filled in: tracking on, `hours: 0`). */
export const TWO_EMAILS: Workflow.Workflow = v.parse(Workflow.schema, SEED_WORKFLOW);

/**
 * Every counter of a campaign's stats and of a timeline point (and at zero), in the order the
 * API writes them. Written here, not read from the source: tests hold the source to it.
 */
export const COUNTERS = [
  // The seed's counters, then the human and machine ones (docs/machine-events.md).
  ...["sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed"],
  ...["humanOpened", "machineOpened", "humanClicked", "machineClicked"],
] as const;
export const ZERO_COUNTERS = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<(typeof COUNTERS)[number], 0>;

export interface StatsCampaign {
  ws: TestWorkspace;
  campaign: Campaign.Campaign;
  contacts: Array<{ id: string; email: string }>;
}

/** A draft campaign of `ws` with `contacts` contacts enrolled (created in one bulk import). */
export async function campaignWithContacts(
  options: { ws?: TestWorkspace; contacts?: number; workflow?: Workflow.Workflow | null; timezone?: string } = {},
): Promise<StatsCampaign> {
  const ws = options.ws ?? (await factory.workspace());
  const account = await factory.emailAccount(ws);
  const n = options.contacts ?? 0;
  const tag = factory.unique("c");
  const emails = Array.from({ length: n }, (_, i) => `${tag}-${i}@example.org`);
  return ws.as(async () => {
    for (let i = 0; i < n; i += 1000) {
      await Contact.bulk({ contacts: emails.slice(i, i + 1000).map((email, j) => ({ email, firstName: `P${i + j}` })) });
    }
    const found = n
      ? await Database.rows<{ id: string; email: string }>(
          sql`SELECT id, email FROM contact WHERE workspace_id = ${ws.id} AND email = ANY(${Database.array(emails, "text")})`,
        )
      : [];
    const byEmail = new Map(found.map((c) => [c.email, c.id]));
    const contacts = emails.map((email) => ({ email, id: byEmail.get(email)! }));
    const created = await Campaign.create({
      name: factory.unique("Stats "),
      emailAccountId: account.id,
      workflow: options.workflow === undefined ? TWO_EMAILS : options.workflow,
      settings: { timezone: options.timezone ?? "UTC" },
    });
    for (let i = 0; i < contacts.length; i += 10_000) {
      await Campaign.Enrolment.add(created.id, { contactIds: contacts.slice(i, i + 10_000).map((c) => c.id) });
    }
    return { ws, campaign: (await Campaign.fromID(created.id))!, contacts };
  });
}

export interface HistoryEvent {
  contactId: string;
  nodeId: string;
  type: Activity.EventType;
  at: Date;
  metadata?: Record<string, unknown>;
  /** The A/B variant of the node the email was. */
  variantId?: string;
}

/**
 * Writes a campaign's history like the sending and tracking sides do: an event row for every
 * event (ten opens are ten rows), and the counters bumped at each email's first occurrence of a
 * milestone, in the transaction that records it.
 */
export class History {
  private readonly seen = new Set<string>();
  constructor(
    readonly workspaceId: string,
    readonly campaignId: string,
  ) {}

  /** Record events, a batch per transaction. */
  async record(events: HistoryEvent[], batch = 200): Promise<void> {
    for (let i = 0; i < events.length; i += batch) {
      await Database.transaction(async () => {
        for (const e of events.slice(i, i + batch)) {
          await Activity.record({
            workspaceId: this.workspaceId,
            campaignId: this.campaignId,
            contactId: e.contactId,
            nodeId: e.nodeId,
            type: e.type,
            occurredAt: e.at,
            metadata: e.metadata,
          });
          const key = `${e.contactId}|${e.nodeId}|${e.type}`;
          if (this.seen.has(key) || e.type === "delayed") continue;
          this.seen.add(key);
          await Stats.bump(this.campaignId, e.nodeId, e.at, { [e.type]: 1 }, e.variantId);
        }
      });
    }
  }
}

/**
 * The emails of one node: the first `sent` contacts got it, the first `delivered` of those were
 * delivered and the next `bounced` bounced; the first `opened` were opened (`opensEach` times each),
 * and so on. Times advance by a minute per email from `start`.
 */
export function emailEvents(
  contacts: Array<{ id: string }>,
  nodeId: string,
  counts: {
    sent: number;
    delivered?: number;
    bounced?: number;
    opened?: number;
    clicked?: number;
    replied?: number;
    unsubscribed?: number;
  },
  options: { start?: Date; opensEach?: number } = {},
): HistoryEvent[] {
  const start = (options.start ?? new Date("2025-01-16T09:00:00Z")).getTime();
  const events: HistoryEvent[] = [];
  const minute = 60_000;
  for (let i = 0; i < counts.sent; i++) {
    const contactId = contacts[i]!.id;
    const t = start + i * minute;
    const add = (type: Activity.EventType, offset: number, metadata?: Record<string, unknown>) =>
      events.push({ contactId, nodeId, type, at: new Date(t + offset), metadata });
    add("sent", 0);
    if (i < (counts.delivered ?? 0)) add("delivered", 5_000);
    else if (i < (counts.delivered ?? 0) + (counts.bounced ?? 0)) add("bounced", 5_000, { bounceType: "hard" });
    if (i < (counts.opened ?? 0)) {
      for (let k = 0; k < (options.opensEach ?? 1 + (i % 3)); k++)
        add("opened", 3_600_000 + k * 600_000, { ip: "192.168.1.1", userAgent: "Mozilla/5.0" });
    }
    if (i < (counts.clicked ?? 0)) {
      add("clicked", 7_200_000, { link: "https://example.com/a" });
      add("clicked", 7_300_000, { link: "https://example.com/b" });
    }
    if (i < (counts.replied ?? 0)) add("replied", 86_400_000);
    if (i < (counts.unsubscribed ?? 0)) add("unsubscribed", 90_000_000);
  }
  return events;
}
