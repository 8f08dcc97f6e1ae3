import * as Activity from "@fluenzr/core/activity";
import * as Database from "@fluenzr/core/database";
import * as Message from "@fluenzr/core/message";
import { Machine } from "@fluenzr/core/message";
import * as Stats from "@fluenzr/core/stats";
import { runs, useTestDatabase } from "@fluenzr/testing";
import { campaignWithContacts, type StatsCampaign } from "@fluenzr/testing/stats";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * The two ways a milestone is counted, held to one rule: the single-statement fast path
 * (`applyMilestone`, most of SES's deliveries, opens and clicks) and the general path (`reach`
 * inside the event's transaction, as tracking applies an event to an email it had to settle
 * first). The same random event sequence — duplicates, late earlier occurrences, hour and bucket
 * boundaries, human and machine opens and clicks (user agents, too soon after sending, bursts
 * of clicks on several links) — is applied to one campaign's emails by each path, and both must
 * end with the same milestones, counters and buckets as a plain model of the rules.
 */

useTestDatabase();

const EMAILS = 4;
const START = new Date("2026-03-02T09:00:00Z").getTime();
const MILESTONES = ["delivered", "opened", "clicked"] as const;
/** Every milestone column the events move: the human and machine ones beside opened and clicked. */
const TRACKED = ["delivered", "opened", "clicked", "human_opened", "machine_opened", "human_clicked", "machine_clicked"] as const;
/** The emails were sent at START − 60 s: the first seconds are "too fast" for the timing rules. */
const SENT = START - 60_000;
const AGENTS = {
  reader: {
    userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    ipAddress: "198.51.100.7",
  },
  mpp: { userAgent: "Mozilla/5.0", ipAddress: "17.58.101.12" },
  scanner: { userAgent: "python-requests/2.31.0", ipAddress: "203.0.113.9" },
} as const;
const LINKS = ["https://example.com/demo", "https://example.com/pricing"] as const;

interface Occurrence {
  email: number;
  milestone: (typeof MILESTONES)[number];
  /** Seconds after sending: the too-fast seconds, a burst window, several 15-minute buckets, in any order. */
  second: number;
  agent: keyof typeof AGENTS;
  link: 0 | 1;
}

let fast: StatsCampaign;
let general: StatsCampaign;
let batched: StatsCampaign;
const ids = new Map<StatsCampaign, string[]>();

/** Sent emails (node_2) to each contact of the campaign, through the Message module. */
async function sendAll(c: StatsCampaign): Promise<string[]> {
  const reservations = c.contacts.map((contact, i) => ({
    id: `msg_${c.campaign.id}_${i}`,
    contactId: contact.id,
    nodeId: "node_2",
    emailAccountId: c.campaign.emailAccountId,
    toEmail: contact.email,
    subject: "Hello",
    claimId: null,
    unsubscribeTokenHash: `${c.campaign.id}-${i}`,
  }));
  const at = new Date(START - 60_000);
  await Message.reserve({ id: c.campaign.id, workspaceId: c.ws.id }, reservations, at);
  const sent = await Message.markSent(reservations.map((r) => ({ messageId: r.id, sesMessageId: `ses-${r.id}`, at })));
  expect(sent).toHaveLength(EMAILS);
  return reservations.map((r) => r.id);
}

beforeAll(async () => {
  fast = await campaignWithContacts({ contacts: EMAILS });
  general = await campaignWithContacts({ contacts: EMAILS });
  batched = await campaignWithContacts({ contacts: EMAILS });
  for (const c of [fast, general, batched]) ids.set(c, await sendAll(c));
});

async function reset(c: StatsCampaign) {
  const id = c.campaign.id;
  await Database.rows(sql`DELETE FROM campaign_stat WHERE campaign_id = ${id}`);
  await Database.rows(sql`DELETE FROM campaign_stat_bucket WHERE campaign_id = ${id}`);
  await Database.rows(sql`DELETE FROM event WHERE campaign_id = ${id}`);
  await Database.rows(sql`
    UPDATE message SET delivered_at = NULL, opened_at = NULL, clicked_at = NULL, human_opened_at = NULL, machine_opened_at = NULL,
                       human_clicked_at = NULL, machine_clicked_at = NULL
    WHERE campaign_id = ${id}`);
}

const key = (c: StatsCampaign, o: Occurrence) => `prop:${c.campaign.id}:${o.email}:${o.milestone}:${o.second}:${o.agent}:${o.link}`;
const at = (o: Occurrence) => new Date(SENT + o.second * 1000);
const metadataOf = (o: Occurrence) => (o.milestone === "clicked" ? { link: LINKS[o.link] } : {});
const verdictOf = (o: Occurrence) =>
  o.milestone === "opened"
    ? Machine.classifyOpen(AGENTS[o.agent])
    : o.milestone === "clicked"
      ? Machine.classifyClick(AGENTS[o.agent])
      : undefined;

function fastEvent(c: StatsCampaign, o: Occurrence): Message.FastEvent {
  const messageId = ids.get(c)![o.email]!;
  return {
    messageId,
    sesMessageId: `ses-${messageId}`,
    milestone: o.milestone,
    at: at(o),
    metadata: metadataOf(o),
    providerKey: key(c, o),
    verdict: verdictOf(o),
  };
}

async function applyFast(c: StatsCampaign, o: Occurrence) {
  expect(["applied", "duplicate"]).toContain(await Message.applyMilestone(fastEvent(c, o)));
}

/** The occurrences in batches of the given sizes (the last size repeats), each in one round trip. */
async function applyBatched(c: StatsCampaign, occurrences: Occurrence[], sizes: number[]) {
  for (let i = 0, n = 0; i < occurrences.length; i += sizes[Math.min(n++, sizes.length - 1)]!) {
    const batch = occurrences.slice(i, i + sizes[Math.min(n, sizes.length - 1)]!);
    const before = Database.roundTrips();
    const results = await Message.applyMilestones(batch.map((o) => fastEvent(c, o)));
    for (const result of results) expect(["applied", "duplicate"]).toContain(result);
    // One round trip a batch, besides each statement's PREPARE the first time on a connection.
    if (batch.length > 1) expect(Database.roundTrips() - before).toBeLessThanOrEqual(1 + 6);
  }
}

/** As tracking's general path applies a delivery, open or click: record it once, then `reach`. */
async function applyGeneral(c: StatsCampaign, o: Occurrence) {
  const messageId = ids.get(c)![o.email]!;
  await Database.transaction(async () => {
    const kind = o.milestone === "delivered" ? undefined : o.milestone;
    const reason = kind ? await Message.judge(messageId, kind, at(o), verdictOf(o)!, metadataOf(o).link) : null;
    const judged = kind ? (reason ? { machine: true, machineReason: reason } : { machine: false }) : {};
    const recorded = await Activity.record({
      workspaceId: c.ws.id,
      campaignId: c.campaign.id,
      contactId: c.contacts[o.email]!.id,
      messageId,
      nodeId: "node_2",
      type: o.milestone,
      occurredAt: at(o),
      metadata: { ...metadataOf(o), ...judged },
      providerKey: key(c, o),
    });
    if (!recorded) return;
    const ref = { id: messageId, campaignId: c.campaign.id, contactId: c.contacts[o.email]!.id, nodeId: "node_2" };
    await Message.reach(ref, o.milestone, at(o));
    if (kind) await Message.reach(ref, reason ? `machine_${kind}` : `human_${kind}`, at(o));
  });
}

/**
 * The judgement of an open or click as it arrives, written again from the rules of
 * docs/machine-events.md (the statements compute it in SQL): its own reason, else too soon after
 * sending, else (clicks) another link of the email clicked within two seconds before it arrived.
 */
function judgeModel(o: Occurrence, earlier: Occurrence[]): string | null {
  const verdict = verdictOf(o)!;
  if (verdict.reason) return verdict.reason;
  if (at(o).getTime() < SENT + verdict.withinSeconds * 1000) return verdict.timedReason;
  const burst = earlier.some(
    (e) =>
      o.milestone === "clicked" &&
      e.milestone === "clicked" &&
      e.email === o.email &&
      e.link !== o.link &&
      Math.abs(at(e).getTime() - at(o).getTime()) <= Machine.BURST_SECONDS * 1000,
  );
  return burst ? "burst" : null;
}

/** What both must end with: each email's earliest time per milestone, counted once in its bucket. */
function model(occurrences: Occurrence[], c: StatsCampaign = fast) {
  const earliest = new Map<string, number>();
  const reach = (email: number, milestone: string, time: number) => {
    const k = `${email}|${milestone}`;
    earliest.set(k, Math.min(earliest.get(k) ?? Number.POSITIVE_INFINITY, time));
  };
  const recorded = new Map<string, Occurrence>();
  for (const o of occurrences) {
    if (recorded.has(key(c, o))) continue;
    const reason = o.milestone === "delivered" ? null : judgeModel(o, [...recorded.values()]);
    recorded.set(key(c, o), o);
    reach(o.email, o.milestone, at(o).getTime());
    if (o.milestone !== "delivered") reach(o.email, `${reason ? "machine" : "human"}_${o.milestone}`, at(o).getTime());
  }
  const totals: Record<string, number> = Object.fromEntries(TRACKED.map((m) => [m, 0]));
  const buckets: Record<string, Record<string, number>> = {};
  for (const [k, time] of earliest) {
    const milestone = k.split("|")[1]!;
    totals[milestone]!++;
    const bucket = Stats.bucketOf(new Date(time)).toISOString();
    buckets[bucket] ??= {};
    buckets[bucket][milestone] = (buckets[bucket][milestone] ?? 0) + 1;
  }
  const milestones = Array.from({ length: EMAILS }, (_, email) =>
    Object.fromEntries(
      TRACKED.map((m) => [m, earliest.has(`${email}|${m}`) ? new Date(earliest.get(`${email}|${m}`)!).toISOString() : null]),
    ),
  );
  return { totals, buckets, milestones };
}

/** The same three views, read from the database. */
async function observed(c: StatsCampaign) {
  const id = c.campaign.id;
  const sums = sql.raw(TRACKED.map((m) => `coalesce(sum(${m}), 0)::int AS ${m}`).join(", "));
  const [totals] = await Database.rows<Record<string, number>>(sql`
    SELECT ${sums} FROM campaign_stat WHERE campaign_id = ${id} AND node_id = 'node_2'`);
  const bucketRows = await Database.rows<{ bucket: Date | string } & Record<(typeof TRACKED)[number], number>>(sql`
    SELECT bucket, ${sums} FROM campaign_stat_bucket WHERE campaign_id = ${id} GROUP BY bucket`);
  const buckets: Record<string, Record<string, number>> = {};
  for (const row of bucketRows) {
    for (const m of TRACKED) {
      if (!row[m]) continue;
      const bucket = Database.toDate(row.bucket).toISOString();
      buckets[bucket] ??= {};
      buckets[bucket][m] = row[m];
    }
  }
  const columns = sql.raw(TRACKED.map((m) => `${m}_at AS ${m}`).join(", "));
  const messages = await Database.rows<Record<string, Date | string | null>>(sql`
    SELECT id, ${columns} FROM message WHERE campaign_id = ${id}`);
  const byId = new Map(messages.map((m) => [m.id as string, m]));
  const milestones = ids.get(c)!.map((messageId) =>
    Object.fromEntries(
      TRACKED.map((m) => {
        const value = byId.get(messageId)![m];
        return [m, value === null || value === undefined ? null : Database.toDate(value).toISOString()];
      }),
    ),
  );
  return { totals, buckets, milestones };
}

const occurrence = fc.record({
  email: fc.integer({ min: 0, max: EMAILS - 1 }),
  milestone: fc.constantFrom(...MILESTONES),
  // The first seconds (too fast), a few seconds where clicks burst, three hours of buckets.
  second: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 600, max: 604 }), fc.integer({ min: 60, max: 180 * 60 })),
  agent: fc.constantFrom("reader", "reader", "mpp", "scanner"),
  link: fc.constantFrom(0, 1),
});

describe("milestone counting: fast path, fast path in batches, and general path", () => {
  it("end in the same milestones, counters and buckets as the rule, on random event sequences", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Redeliveries: some occurrences come again later in the sequence.
        fc
          .array(occurrence, { minLength: 1, maxLength: 30 })
          // Bursts: some clicks come with a click on the other link a second later (or earlier).
          .chain((list) =>
            fc
              .tuple(fc.subarray(list), fc.constantFrom(1, -1))
              .map(([twins, step]) => [
                ...list,
                ...twins
                  .filter((o) => o.milestone === "clicked")
                  .map((o) => ({ ...o, link: (1 - o.link) as 0 | 1, second: o.second + step })),
              ]),
          )
          .chain((list) => fc.shuffledSubarray(list).map((again) => [...list, ...again])),
        // How an SQS batch may cut the sequence: sizes 1 to 12.
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8 }),
        async (occurrences, sizes) => {
          await reset(fast);
          await reset(general);
          await reset(batched);
          for (const o of occurrences) {
            await applyFast(fast, o);
            await applyGeneral(general, o);
          }
          await applyBatched(batched, occurrences, sizes);
          expect(await observed(fast)).toEqual(model(occurrences, fast));
          expect(await observed(general)).toEqual(model(occurrences, general));
          expect(await observed(batched)).toEqual(model(occurrences, batched));
        },
      ),
      { numRuns: runs(60) },
    );
  });

  it("the comparison can fail: a milestone counted twice is seen", async () => {
    await reset(general);
    const o: Occurrence = { email: 0, milestone: "opened", second: 300, agent: "reader", link: 0 };
    await applyGeneral(general, o);
    expect((await observed(general)).totals).toEqual(model([o], general).totals);
    await Stats.bump(general.campaign.id, "node_2", at(o), { human_opened: 1 });
    expect((await observed(general)).totals).not.toEqual(model([o], general).totals);
  });
});
