import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as Message from "@fluenzr/core/message";
import { SendBatch, tick } from "@fluenzr/core/sending";
import * as Stats from "@fluenzr/core/stats";
import { Replies } from "@fluenzr/core/tracking";
import {
  ALWAYS_OPEN,
  campaignContactRows,
  engineSuite,
  expectedVariant,
  FULL,
  factory,
  fork,
  type PlainWorkflow,
  prng,
  randomDag,
  roundTripCounter,
  type TestEngine,
  type TestWorkspace,
} from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * Condition branches through the real engine (tick, queue, sender, the SES fast path for opens
 * and clicks, reported replies) against an oracle written from the rules alone: which node each
 * contact reaches, with which answer, when, and at A/B nodes which variant it gets.
 */

const startEngine = engineSuite();

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Event = "opened" | "clicked" | "replied";
/** What a contact does with each email: events, each some minutes after the email was sent. */
type Behaviour = Map<string, Array<{ type: Event; afterMs: number }>>;

interface Visit {
  nodeId: string;
  at: number;
  answer?: "yes" | "no";
}

/** Whole days after `from` in UTC; business days skip Saturdays and Sundays. */
function plusDays(from: number, days: number, business: boolean): number {
  if (!business) return from + days * DAY;
  let at = from;
  let left = days;
  while (left > 0) {
    at += DAY;
    const weekday = new Date(at).getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  return at;
}

/**
 * The oracle: a contact starting at `start` in a campaign whose window never closes. Emails go
 * when due; a condition reached at `since` answers yes at the later of `since` and the first time
 * its event happened to an email already sent, if that is within its days, else no at the
 * deadline; a reply stops the contact unless it waits at a condition on replied (and marks it
 * replied after its sequence ended too).
 */
function oracle(wf: PlainWorkflow, behaviour: Behaviour, start: number): { visits: Visit[]; status: "completed" | "replied" } {
  const byId = new Map(wf.nodes.map((n) => [n.id, n]));
  const next = (id: string, when?: string) => wf.edges.find((e) => e.from === id && (when === undefined || e.when === when))!.to;
  const visits: Visit[] = [];
  const sent: Array<{ id: string; at: number }> = [];
  const eventTimes = (type: Event) =>
    sent.flatMap((s) => (behaviour.get(s.id) ?? []).filter((e) => e.type === type).map((e) => s.at + e.afterMs));
  let t = start;
  let left = start;
  let id = next("start");
  for (;;) {
    let node = byId.get(id)!;
    while (node.type === "delay") {
      t += (node.data!.hours as number) * HOUR + (node.data!.days as number) * DAY;
      node = byId.get(next(node.id))!;
    }
    // A reply after the sequence ended still marks the contact (replied ranks above completed).
    if (node.type === "end") return { visits, status: eventTimes("replied").some((r) => r > left) ? "replied" : "completed" };
    const stopsBy = (until: number) =>
      node.type === "condition" && node.data!.event === "replied" ? false : eventTimes("replied").some((r) => r > left && r <= until);
    if (node.type === "email") {
      if (stopsBy(t)) return { visits, status: "replied" };
      visits.push({ nodeId: node.id, at: t });
      sent.push({ id: node.id, at: t });
      left = t;
      id = next(node.id);
      continue;
    }
    const since = t;
    const deadline = plusDays(since, node.data!.withinDays as number, node.data!.businessDays === true);
    const happened = Math.min(...eventTimes(node.data!.event as Event));
    const answer = happened <= deadline ? "yes" : "no";
    const at = answer === "yes" ? Math.max(happened, since) : deadline;
    if (stopsBy(at)) return { visits, status: "replied" };
    visits.push({ nodeId: node.id, at, answer });
    t = at;
    left = at;
    id = next(node.id, answer);
  }
}

function randomBehaviour(random: () => number, wf: PlainWorkflow): Behaviour {
  const behaviour: Behaviour = new Map();
  for (const node of wf.nodes.filter((n) => n.type === "email")) {
    // Half-hour offsets: never on a whole-hour boundary of the delays and deadlines.
    const after = () => (Math.floor(random() * 80) + 0.5) * HOUR;
    const events: Array<{ type: Event; afterMs: number }> = [];
    const roll = random();
    if (roll < 0.45) events.push({ type: "opened", afterMs: after() });
    if (roll < 0.2) events.push({ type: "clicked", afterMs: after() });
    if (random() < 0.08) events.push({ type: "replied", afterMs: after() });
    behaviour.set(node.id, events);
  }
  return behaviour;
}

interface Run {
  campaignId: string;
  ws: TestWorkspace;
  wf: PlainWorkflow;
  contacts: Array<{ id: string; firstName: string; behaviour: Behaviour }>;
}

/**
 * Drive the engine: jump the clock to the next due step or event (at least a minute on), record
 * the events then due (opens and clicks through SES's fast path, replies as reported), tick.
 */
async function drive(engine: TestEngine, runs: Run[], until: number) {
  const pending: Array<{ at: number; run: Run; contactId: string; type: Event; messageId: string; sesId: string }> = [];
  let seen = 0;
  const runOf = new Map(runs.map((r) => [r.campaignId, r]));
  for (let guard = 0; guard < 20_000; guard++) {
    const [due] = await Database.rows<{ at: Date | string | null }>(sql`
      SELECT min(next_run_at) AS at FROM campaign_contact
      WHERE campaign_id = ANY(${Database.array(
        runs.map((r) => r.campaignId),
        "text",
      )}) AND claimed_at IS NULL AND status IN ('pending', 'in_progress')`);
    const candidates = [due?.at ? Database.toDate(due.at).getTime() : Number.POSITIVE_INFINITY, ...pending.map((p) => p.at)];
    const nextAt = Math.max(Math.min(...candidates), engine.clock.now() + MINUTE);
    if (!Number.isFinite(nextAt) || nextAt > until) return;
    engine.clock.set(new Date(nextAt));
    pending.sort((a, b) => a.at - b.at);
    while (pending.length && pending[0]!.at <= nextAt) {
      const e = pending.shift()!;
      const at = new Date(e.at);
      if (e.type === "replied") {
        await e.run.ws.as(() =>
          Replies.report(e.run.campaignId, { contactId: e.contactId, receivedAt: at.toISOString(), automatic: false }),
        );
      } else {
        const applied = await Message.applyMilestone({
          messageId: e.messageId,
          sesMessageId: e.sesId,
          milestone: e.type,
          at,
          metadata: {},
          providerKey: `${e.type}:${e.messageId}`,
        });
        expect(applied).toBe("applied");
      }
    }
    for (const run of runs) await tick(run.campaignId);
    await engine.queue.drain(SendBatch.handle);
    for (const email of engine.mailer.sent.slice(seen)) {
      const run = runOf.get(email.tags.campaign!)!;
      const contact = run.contacts.find((c) => c.id === email.tags.contact)!;
      for (const e of contact.behaviour.get(email.tags.node!) ?? []) {
        pending.push({
          at: email.at + e.afterMs,
          run,
          contactId: contact.id,
          type: e.type,
          messageId: email.tags.message!,
          sesId: email.messageId,
        });
      }
    }
    seen = engine.mailer.sent.length;
  }
  throw new Error("the drive did not settle");
}

describe("condition branches in the engine", () => {
  const SEED = Number(process.env.BRANCH_SEED ?? 20261204);
  const WORKFLOWS = FULL ? 12 : 5;
  const CONTACTS = FULL ? 12 : 6;

  it(`takes each contact where the oracle says, when it says (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const start = Date.parse("2026-03-02T00:00:00Z"); // a Monday
    const engine = startEngine({ start: new Date(start) });
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws, { dailyLimit: 1000 });
    const runs: Run[] = [];
    for (let i = 0; i < WORKFLOWS; i++) {
      const wf = randomDag(random, { variants: 0.4 });
      const campaign = await ws.as(() =>
        Campaign.create({
          name: `branches ${i}`,
          emailAccountId: account.id,
          settings: {
            timezone: "UTC",
            ...ALWAYS_OPEN,
            maxEmailsPerHour: 600,
          },
          workflow: wf as never,
        }),
      );
      const contacts: Run["contacts"] = [];
      for (let k = 0; k < CONTACTS; k++) {
        const contact = await factory.contact(ws, { firstName: `C${k}` });
        contacts.push({ id: contact.id, firstName: `C${k}`, behaviour: randomBehaviour(random, wf) });
      }
      await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: contacts.map((c) => c.id) }));
      await ws.as(() => Campaign.transition(campaign.id, "start"));
      runs.push({ campaignId: campaign.id, ws, wf, contacts });
    }

    await drive(engine, runs, start + 60 * DAY);

    let conditions = 0;
    const answers = { yes: 0, no: 0 };
    for (const run of runs) {
      const rows = await Database.rows<{
        contact_id: string;
        status: string;
        path: Array<{ nodeId: string; answer: "yes" | "no"; at: string }>;
      }>(sql`SELECT contact_id, status, path FROM campaign_contact WHERE campaign_id = ${run.campaignId}`);
      for (const contact of run.contacts) {
        const expected = oracle(run.wf, contact.behaviour, start);
        const row = rows.find((r) => r.contact_id === contact.id)!;
        const emails: Visit[] = engine.mailer.sent
          .filter((e) => e.tags.campaign === run.campaignId && e.tags.contact === contact.id)
          .map((e) => ({ nodeId: e.tags.node!, at: e.at }));
        const answered: Visit[] = row.path.map((p) => ({ nodeId: p.nodeId, at: Date.parse(p.at), answer: p.answer }));
        const actual = [...emails, ...answered].sort((a, b) => a.at - b.at || (a.answer ? 1 : -1));
        const context = JSON.stringify({ wf: run.wf, behaviour: [...contact.behaviour], expected, actual });
        expect(
          actual.map((v) => `${v.nodeId}${v.answer ? `:${v.answer}` : ""}`),
          context,
        ).toEqual(expected.visits.map((v) => `${v.nodeId}${v.answer ? `:${v.answer}` : ""}`));
        expect(row.status, context).toBe(expected.status);
        // When: never early; late only by the minutes the tick takes after an answer (a few per step).
        actual.forEach((v, k) => {
          const drift = v.at - expected.visits[k]!.at;
          expect(drift, context).toBeGreaterThanOrEqual(0);
          expect(drift, context).toBeLessThanOrEqual((k + 1) * 3 * MINUTE);
        });
        conditions += answered.length;
        for (const a of answered) answers[a.answer!]++;
      }
    }
    // The random runs exercised both answers (the test could fail).
    expect(conditions).toBeGreaterThan(10);

    // A/B nodes: each email went out as the variant the documented hash gives its contact (an
    // oracle apart from the engine's code), recorded on the message, with that variant's subject
    // and body; a follow-up without a subject answers the previous email as the contact got it.
    const variantOf = new Map(
      (
        await Database.rows<{ id: string; variant_id: string | null }>(sql`
          SELECT id, variant_id FROM message WHERE campaign_id = ANY(${Database.array(
            runs.map((r) => r.campaignId),
            "text",
          )})`)
      ).map((m) => [m.id, m.variant_id]),
    );
    const drawn = new Map<string, number>();
    let threadedVariants = 0;
    for (const run of runs) {
      const nodes = new Map(run.wf.nodes.map((n) => [n.id, n]));
      for (const contact of run.contacts) {
        // The test's own rendering of the generator's templates (`{{firstName}}`, `{{firstName|there}}`).
        const render = (template: string) => template.replace(/\{\{firstName(\|there)?\}\}/g, contact.firstName);
        let previous: string | undefined;
        for (const email of engine.mailer.sent.filter((e) => e.tags.campaign === run.campaignId && e.tags.contact === contact.id)) {
          const node = nodes.get(email.tags.node!)!;
          const variants = node.data!.variants as Array<{ id: string; subject?: string; body: string }> | undefined;
          const key = { campaignId: run.campaignId, contactId: contact.id, nodeId: node.id };
          const expected = expectedVariant(key, variants);
          const context = `${JSON.stringify(key)}: ${email.subject} / ${email.text}`;
          expect(variantOf.get(email.tags.message!), context).toBe(expected);
          const content = (variants?.find((x) => x.id === expected) ?? node.data!) as { subject?: string; body: string };
          expect(email.text, context).toBe(render(content.body));
          const subject = content.subject === undefined ? `Re: ${previous!.replace(/^Re: /, "")}` : render(content.subject);
          expect(email.subject, context).toBe(subject);
          if (expected) drawn.set(expected, (drawn.get(expected) ?? 0) + 1);
          if (content.subject === undefined && previous && /^Re: S\d+\.\d/.test(subject)) threadedVariants++;
          previous = email.subject;
        }
      }
    }
    // A threaded follow-up answered a variant's subject (the `Re:` follows the variant got).
    expect(threadedVariants).toBeGreaterThan(0);
    // Several variants went out (not always the first).
    expect(drawn.size).toBeGreaterThanOrEqual(3);
    expect(answers.yes).toBeGreaterThan(2);
    expect(answers.no).toBeGreaterThan(2);

    // Per-email statistics follow the graph: every email listed once, in order, with its path.
    const stats = await ws.as(() => Stats.byEmail(runs[0]!.campaignId));
    expect(stats.map((s) => s.emailNumber)).toEqual(stats.map((_, i) => i + 1));
    expect(stats.length).toBe(runs[0]!.wf.nodes.filter((n) => n.type === "email").length);
    const sentByNode = new Map<string, number>();
    for (const e of engine.mailer.sent.filter((x) => x.tags.campaign === runs[0]!.campaignId)) {
      sentByNode.set(e.tags.node!, (sentByNode.get(e.tags.node!) ?? 0) + 1);
    }
    for (const s of stats) expect(s.sent).toBe(sentByNode.get(s.nodeId) ?? 0);
  }, 600_000);
});

/** start → e1 → c (event within 3 days) → yes: e2 → end; no: e3 → end. */
function oneCondition(event: Event) {
  const email = (id: string) => ({ id, email: { subject: `${id} {{firstName}}`, body: "Hi {{firstName}}" } });
  return fork(email("e1"), { id: "c", condition: { event, withinDays: 3 } }, { yes: email("e2"), no: email("e3") });
}

describe("a contact waiting at a condition", () => {
  const ALWAYS = {
    timezone: "UTC",
    ...ALWAYS_OPEN,
    maxEmailsPerHour: 600,
  };
  async function setup(event: Event) {
    const engine = startEngine({ start: "2026-03-02T09:00:00Z" });
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    const contacts = [await factory.contact(ws), await factory.contact(ws)];
    const campaign = await ws.as(() =>
      Campaign.create({ name: "c", emailAccountId: account.id, settings: ALWAYS, workflow: oneCondition(event) }),
    );
    await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: contacts.map((c) => c.id) }));
    await ws.as(() => Campaign.transition(campaign.id, "start"));
    await engine.run(3); // e1 to both, then each reaches the condition and waits (nothing happened yet)
    return { engine, ws, campaign, contacts };
  }

  it("moves on as soon as the email is opened (one statement), not at the deadline", async () => {
    const { engine, ws, campaign, contacts } = await setup("opened");
    expect(engine.mailer.sent.map((e) => e.tags.node)).toEqual(["e1", "e1"]);
    let rows = await campaignContactRows(campaign.id);
    // Waiting: due at the deadline, 3 days after reaching the node (09:00 + the minute e1 took).
    expect(rows.map((r) => [r.current_node_id, Database.toDate(r.next_run_at).toISOString()])).toEqual([
      ["c", "2026-03-05T09:00:00.000Z"],
      ["c", "2026-03-05T09:00:00.000Z"],
    ]);
    engine.clock.set(new Date("2026-03-03T14:00:00Z"));
    const opened = engine.mailer.sent.find((e) => e.tags.contact === contacts[0]!.id)!;
    const trips = roundTripCounter();
    const applied = await Message.applyMilestone({
      messageId: opened.tags.message!,
      sesMessageId: opened.messageId,
      milestone: "opened",
      at: new Date("2026-03-03T13:59:00Z"),
      metadata: {},
      providerKey: `open:${opened.tags.message}`,
    });
    expect(applied).toBe("applied");
    expect(trips.count()).toBe(1);
    await engine.run(2);
    rows = await campaignContactRows(campaign.id);
    const byContact = new Map(rows.map((r) => [r.contact_id, r]));
    expect(byContact.get(contacts[0]!.id)).toMatchObject({ status: "completed", current_node_id: null });
    expect(byContact.get(contacts[1]!.id)).toMatchObject({ status: "in_progress", current_node_id: "c" });
    expect(engine.mailer.sent.filter((e) => e.tags.node === "e2").map((e) => [e.tags.contact, new Date(e.at).toISOString()])).toEqual([
      [contacts[0]!.id, "2026-03-03T14:01:00.000Z"],
    ]);
    // The listing shows each contact's path and where it waits.
    const listed = await ws.as(() => Campaign.Enrolment.list(campaign.id, { page: 1, perPage: 10 } as never));
    const first = listed.data.find((c) => c.contactId === contacts[0]!.id)!;
    const second = listed.data.find((c) => c.contactId === contacts[1]!.id)!;
    expect(first.path).toEqual([{ nodeId: "c", answer: "yes", at: "2026-03-03T13:59:00.000Z" }]);
    expect(second).toMatchObject({ currentNodeId: "c", waitingFor: "opened", path: [] });
    // The other one answers no at its deadline and gets the other email.
    engine.clock.set(new Date("2026-03-05T09:00:00Z"));
    await engine.run(2);
    expect(engine.mailer.sent.filter((e) => e.tags.node === "e3").map((e) => e.tags.contact)).toEqual([contacts[1]!.id]);
    const after = await ws.as(() => Campaign.Enrolment.list(campaign.id, { page: 1, perPage: 10 } as never));
    expect(after.data.find((c) => c.contactId === contacts[1]!.id)!.path).toEqual([
      { nodeId: "c", answer: "no", at: "2026-03-05T09:00:00.000Z" },
    ]);
  });

  it("a reply answers a condition on replied (the sequence goes on), and stops one waiting on opened", async () => {
    for (const event of ["replied", "opened"] as const) {
      const { engine, ws, campaign, contacts } = await setup(event);
      engine.clock.set(new Date("2026-03-03T10:00:00Z"));
      await ws.as(() => Replies.report(campaign.id, { contactId: contacts[0]!.id, automatic: false }));
      await engine.run(2);
      const row = (await campaignContactRows(campaign.id)).find((r) => r.contact_id === contacts[0]!.id)!;
      const e2 = engine.mailer.sent.filter((e) => e.tags.node === "e2");
      if (event === "replied") {
        expect(row.status).toBe("completed");
        expect(e2.map((e) => e.tags.contact)).toEqual([contacts[0]!.id]);
      } else {
        expect(row.status).toBe("replied");
        expect(e2).toEqual([]);
      }
      engine.restore();
    }
  });
});
