import * as Campaign from "@fluenzr/core/campaign";
import * as Database from "@fluenzr/core/database";
import * as EmailAccount from "@fluenzr/core/email-account";
import * as Message from "@fluenzr/core/message";
import * as Privacy from "@fluenzr/core/privacy";
import { nextOpening, type SendWindow } from "@fluenzr/core/schedule";
import { dueSchedules } from "@fluenzr/core/scheduler/ticker";
import { Budget, Evidence, Fault, type Mailer, Progress, SendBatch, sweep, tick } from "@fluenzr/core/sending";
import { applySesEvents, Replies } from "@fluenzr/core/tracking";
import { Subscriptions } from "@fluenzr/core/webhook";
import { along, branch } from "@fluenzr/core/workflow";
import * as Records from "@fluenzr/local/records";
import { FakeMailer, FULL, factory, prng, type TestWorkspace, testEngine, useTestDatabase } from "@fluenzr/testing";
import Holidays from "date-holidays";
import { sql } from "drizzle-orm";
import { DateTime } from "luxon";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Weeks of simulated time: the real tick, queue semantics and sender against a real database,
 * many campaigns in four timezones across the March DST changes, with random pauses and resumes,
 * duplicate and late deliveries, SES throttling and unknown outcomes, and crashes injected at
 * every point between two steps; public holidays (Good Friday in Brazil, Easter Monday in France)
 * and a skipped date per campaign; out-of-office replies in four languages (and some "no longer
 * with the company"). What SES accepted is then checked against the rules. Every other
 * campaign's first email is an A/B test on opens (variant "b" opened four times as often). One
 * in four sends in each contact's own timezone (six zones, New York across its DST change).
 */

useTestDatabase();

const SEED = Number(process.env.SIM_SEED ?? 20260305);
/**
 * Full scale, 12 campaigns × 600 contacts × 3 emails (over 20,000 sends), runs in CI and in
 * `npm run test:full`. The default inner loop runs 4 campaigns (one per timezone, both DST
 * changes) × 150 contacts. The clock steps minute by minute only while something happens (a
 * tick claims, a job is queued) and skips to the next moment anything can (`nextClaim`): the cost
 * is the minutes in which emails go out. SIM_CAMPAIGNS and SIM_CONTACTS override both; SIM_SEED
 * the seed; SIM_DEBUG prints what a run did (steps, pauses, crashes injected).
 */

const CAMPAIGNS = Number(process.env.SIM_CAMPAIGNS ?? (FULL ? 12 : 4));
const CONTACTS = Number(process.env.SIM_CONTACTS ?? (FULL ? 600 : 150));
const random = prng(SEED);
/** The campaigns whose first email is an A/B test (filled as they are created). */
const abCampaigns = new Set<string>();
const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;

const TIMEZONES = ["Europe/Paris", "America/New_York", "America/Sao_Paulo", "Asia/Kathmandu"] as const;
/**
 * Contact-timezone campaigns (#14, one in four, `i % 4 === 0`): their contacts' own zones, by
 * contact number (+05:45, two southern-hemisphere zones, New York across its DST change on
 * March 8; null: the campaign's, Paris). They start on Friday 6 March, so first emails go out
 * before New York's change and follow-ups after it.
 */
const CONTACT_ZONES = ["Asia/Kathmandu", "Australia/Sydney", "America/Sao_Paulo", "Europe/Paris", "America/New_York", null] as const;
const NY_DST = Date.parse("2026-03-08T07:00:00Z");
/** The zone the oracle gave contact `c<n>.…` (null: none). */
const contactZone = (email: string) => CONTACT_ZONES[Number(/^c(\d+)\./.exec(email)![1]) % CONTACT_ZONES.length]!;

/** The holiday calendar of each zone's campaigns (Kathmandu's have skipped dates only). */
const COUNTRIES: Record<string, string | undefined> = { "Europe/Paris": "FR", "America/New_York": "US", "America/Sao_Paulo": "BR" };

/** The oracle's holidays: the package's public ones, as local dates, read here independently of the engine. */
const publicDays = (country: string | undefined, year: number) =>
  new Set(
    country ? (new Holidays(country).getHolidays(year) || []).filter((h) => h.type === "public").map((h) => h.date.slice(0, 10)) : [],
  );

/** Out-of-office texts in four languages, for a return date (local, `YYYY-MM-DD`). */
const MONTHS = {
  en: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
  fr: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
  es: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
};
const awayUntil = (date: string, language: number) => {
  const [day, month] = [Number(date.slice(8, 10)), Number(date.slice(5, 7))];
  return [
    `Thank you for your message. I am out of the office and back on ${day} ${MONTHS.en[month - 1]}.`,
    `Bonjour, je suis absent et serai de retour le ${day} ${MONTHS.fr[month - 1]}. Cordialement`,
    `Vielen Dank. Ich bin im Urlaub und zurück am ${date.slice(8, 10)}.${date.slice(5, 7)}.`,
    `Gracias. Estoy fuera de la oficina hasta el ${day} de ${MONTHS.es[month - 1]}.`,
  ][language]!;
};
const LEFT = [
  "Jane is no longer with the company. Please write to info@example.org.",
  "Cette personne ne fait plus partie de la société.",
  "Herr Beispiel hat das Unternehmen verlassen.",
  "Ya no trabaja en nuestra empresa.",
];
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"] as const;

interface Delay {
  days: number;
  hours: number;
  businessDays: boolean;
}

/** The A/B campaigns' first email: two subjects, a decision on opens after 30 sent each. */
const AB_VARIANTS = [
  { id: "a", subject: "#1 {{firstName}}", body: "Hi {{firstName}}, {{company|there}}" },
  { id: "b", subject: "#1 {{firstName}}!", body: "Hello {{firstName}}, {{company|there}}" },
];
const OPEN_RATE: Record<string, number> = { a: 0.1, b: 0.4 };

interface Plan {
  id: string;
  /** The first email is an A/B test. */
  ab: boolean;
  ws: TestWorkspace;
  window: SendWindow;
  maxPerHour: number;
  delays: Delay[];
  startAt: number;
  started: boolean;
  /** Local dates with no email: the skipped date and the country's public holidays. */
  closedDays: Set<string>;
  pausedUntil?: number;
  /** A branching workflow (#14): e1 → opened within 2 business days? yes: y2, no: n2 → delay → e3. */
  branching?: boolean;
  /** `timezoneMode: "contact"` (#14): each contact's window, closed days and delays are in its own zone. */
  contactMode?: boolean;
}

/** The zone an email to `to` is judged in: the contact's own in contact mode (the campaign's when it has none). */
const zoneFor = (plan: Plan, to: string) => (plan.contactMode ? (contactZone(to) ?? plan.window.timezone) : plan.window.timezone);

/** SES as the simulation sees it: throttles, unknown outcomes (sometimes accepted), and Send events. */
class SimulatedSes extends FakeMailer {
  readonly sendEvents: Array<{ at: number; messageId?: string; probeId?: string; sesId: string; campaignId?: string; variantId?: string }> =
    [];
  /** Opens of first emails (every campaign's: only branching ones answer to them), some days later. */
  readonly opens: Array<{ at: number; messageId: string; sesId: string }> = [];
  constructor(private readonly now: () => number) {
    super();
  }
  override async send(email: Mailer.OutgoingEmail) {
    const roll = random();
    let outcome: Mailer.MailerErrorKind | "ok" | "accepted-unknown" = "ok";
    if (roll < 0.02) outcome = "throttled";
    else if (roll < 0.025) outcome = "unknown";
    else if (roll < 0.03) outcome = "accepted-unknown";
    if (outcome === "throttled" || outcome === "unknown") {
      this.next(outcome);
      return super.send(email);
    }
    const accepted = await super.send(email);
    if (email.tags.node === "e1" && email.tags.message && random() < 0.4) {
      this.opens.push({ at: this.now() + Math.floor(random() * 4 * 86_400_000), messageId: email.tags.message, sesId: accepted.messageId });
    }
    // SES publishes a Send event for every email it accepts, a little later.
    this.sendEvents.push({
      at: this.now() + Math.floor(random() * 120_000),
      messageId: email.tags.message,
      probeId: email.tags.probe,
      sesId: accepted.messageId,
      campaignId: email.tags.campaign,
      // The A/B campaigns' variant "b" is the subject ending in "!".
      variantId: email.tags.node === "e1" && abCampaigns.has(email.tags.campaign!) ? (email.subject.endsWith("!") ? "b" : "a") : undefined,
    });
    if (outcome === "accepted-unknown") {
      this.next("unknown");
      return super.send({ ...email, to: "__never__" }).then(() => accepted);
    }
    return accepted;
  }
}

describe("sending simulation", () => {
  const points = ["tick.afterClaim", "tick.afterEnqueue", "sender.afterReserve", "sender.afterSes", "sender.afterRecord"] as const;
  const injected = new Map<string, number>(points.map((p) => [p, 0]));
  afterAll(() => Fault.inject(undefined));

  it(`keeps every rule over weeks of simulated sending (seed ${SEED})`, async () => {
    const start = Date.parse("2026-03-04T00:00:00Z");
    const engine = testEngine({ start: new Date(start), queue: { faults: { duplicate: 0.03 }, random, visibilityTimeoutMs: 180_000 } });
    const ses = new SimulatedSes(engine.clock.now);
    (await import("@fluenzr/core/sending")).Mailer.install(ses);

    // Campaigns: four timezones, staggered starts (some before the US DST change on March 8,
    // some before the EU one on March 29), various limits and delays.
    const plans: Plan[] = [];
    const campaigns = CAMPAIGNS;
    // Mailboxes (#12): campaigns come four to a workspace, which has three sending accounts with
    // small daily caps (one warming up, one with a minimum gap), each shared by several campaigns.
    const workspaces: Array<{ ws: TestWorkspace; accounts: EmailAccount.EmailAccount[] }> = [];
    for (let i = 0; i < campaigns; i++) {
      if (i % 4 === 0) {
        const ws = await factory.workspace();
        // Every workspace has a webhook wanting every event (no deliverer runs: the outbox is checked below).
        await ws.as(() => Subscriptions.create({ url: "https://93.184.216.34/hook", events: ["*"] }));
        const accounts = [
          await factory.emailAccount(ws, { email: `a@ws${i}.example`, dailyLimit: CONTACTS }),
          await factory.emailAccount(ws, {
            email: `b@ws${i}.example`,
            dailyLimit: CONTACTS,
            warmup: { enabled: true, startPerDay: 20, incrementPerDay: 20 },
          }),
          await factory.emailAccount(ws, { email: `c@ws${i}.example`, dailyLimit: CONTACTS / 2, minSecondsBetweenEmails: 60 }),
        ];
        workspaces.push({ ws, accounts });
      }
      const { ws, accounts } = workspaces.at(-1)!;
      const [a, b, c] = accounts as [EmailAccount.EmailAccount, EmailAccount.EmailAccount, EmailAccount.EmailAccount];
      const emailAccountIds = [[a, b, c], [b, c], [c, a], [b]][i % 4]!.map((x) => x.id);
      const timezone = TIMEZONES[i % TIMEZONES.length]!;
      const contactMode = i % 4 === 0;
      const startAt = contactMode
        ? Date.parse("2026-03-06T00:00:00Z") + Math.floor(random() * 10) * 3_600_000
        : start + (i % 2 === 0 ? 0 : 21 * 24 * 3_600_000) + Math.floor(random() * 48) * 3_600_000;
      // A skipped date: the first weekday after the day it starts (in its own zone), when it is
      // still sending its first emails or its first follow-ups.
      let skip = DateTime.fromMillis(startAt, { zone: timezone }).startOf("day").plus({ days: 1 });
      while (skip.weekday > 5) skip = skip.plus({ days: 1 });
      const country = COUNTRIES[timezone];
      const window: SendWindow = {
        sendDays: [...WEEKDAYS],
        sendHoursStart: 8 + (i % 3),
        sendHoursEnd: 17 + (i % 2),
        timezone,
        holidays: country ? { country } : null,
        skipDates: [skip.toISODate()!],
      };
      const maxPerHour = pick([120, 180, 240, 300]);
      const emails = 3;
      const delays: Delay[] = Array.from({ length: emails - 1 }, () =>
        pick([
          { days: 1, hours: 0, businessDays: true },
          { days: 2, hours: 0, businessDays: true },
          { days: 1, hours: 0, businessDays: false },
          { days: 0, hours: 20, businessDays: false },
        ]),
      );
      // Every other campaign's first email is an A/B test on opens.
      const ab = i % 2 === 1;
      const nodes: unknown[] = [{ id: "start", type: "start" }];
      const edges: Array<{ from: string; to: string }> = [];
      let last = "start";
      for (let e = 1; e <= emails; e++) {
        if (e > 1) {
          nodes.push({ id: `d${e}`, type: "delay", data: delays[e - 2] });
          edges.push({ from: last, to: `d${e}` });
          last = `d${e}`;
        }
        const tracking = { trackOpens: e !== 2, trackClicks: e === 1 };
        // Follow-ups answer the first email in its thread (`Re: #1 …`); the second of every
        // other campaign sets its own subject (threaded all the same).
        const subject = e === 1 || (e === 2 && i % 2 === 0) ? { subject: `#${e} {{firstName}}` } : {};
        const content =
          e === 1 && ab
            ? { variants: AB_VARIANTS, abTest: { metric: "openRate", minSentPerVariant: 30, confidence: 0.95 } }
            : { ...subject, body: `Hi {{firstName}}, {{company|there}}` };
        nodes.push({ id: `e${e}`, type: "email", data: { ...content, ...tracking } });
        edges.push({ from: last, to: `e${e}` });
        last = `e${e}`;
      }
      nodes.push({ id: "end", type: "end" });
      edges.push({ from: last, to: "end" });
      // One campaign in four branches on opens (the rest of the rules hold for it all the same).
      const branching = i % 4 === 2;
      const workflow = branching ? branchingWorkflow(delays[1]!) : { nodes, edges };
      const campaign = await ws.as(() =>
        Campaign.create({
          name: `sim ${i}`,
          emailAccountIds,
          settings: {
            ...window,
            sendDays: [...window.sendDays],
            skipDates: [...(window.skipDates ?? [])],
            maxEmailsPerHour: maxPerHour,
            ...(contactMode ? { timezoneMode: "contact" as const } : {}),
          },
          workflow: workflow as never,
        }),
      );
      const contacts = CONTACTS;
      const rows = Array.from({ length: contacts }, (_, n) => ({
        email: `c${n}.${campaign.id}@example.org`,
        // One contact in fifty has no first name: {{firstName}} has no fallback, so it must fail.
        ...(n % 50 === 7 ? {} : { firstName: `F${n}` }),
        ...(contactMode && CONTACT_ZONES[n % CONTACT_ZONES.length] ? { timezone: CONTACT_ZONES[n % CONTACT_ZONES.length]! } : {}),
      }));
      const group = await factory.group(ws);
      for (let r = 0; r < rows.length; r += 1000) {
        await ws.as(async () => (await import("@fluenzr/core/contact")).bulk({ contacts: rows.slice(r, r + 1000), groupIds: [group.id] }));
      }
      await ws.as(() => Campaign.Enrolment.add(campaign.id, { groupIds: [group.id] }));
      const closedDays = new Set([skip.toISODate()!, ...publicDays(country, 2026)]);
      if (ab) abCampaigns.add(campaign.id);
      plans.push({ id: campaign.id, ab, ws, window, maxPerHour, delays, startAt, started: false, closedDays, branching, contactMode });
    }

    Fault.inject((at) => {
      const hit = random() < 0.01;
      if (hit) injected.set(at, injected.get(at)! + 1);
      return hit;
    });

    // Addresses put on the suppression list while their sequences run (some with steps queued),
    // and when that committed: no email may go to one of them afterwards.
    const suppressedAt = new Map<string, number>();
    const maxSuppressed = Math.max(3, Math.floor((CAMPAIGNS * CONTACTS) / 100));
    const late: string[] = [];
    /** First emails whose open was recorded, and when it happened. */
    const openedAt = new Map<string, number>();
    // Emails of unknown fate that evidence settled as never sent (and so were sent again).
    let resent = 0;
    // A/B opens applied, by campaign and variant.
    const opens = new Map<string, number>();
    const sweepAndCount = async () => {
      resent += (await sweep()).unknownResent;
    };
    // Room for the late starters (day 21–23) to finish three emails past holidays and out-of-office holds.
    const end = start + 60 * 24 * 3_600_000;
    const ooo = new Map<string, { at: number; left: boolean; holdUntil: number }>();
    const maxOoo = Math.max(8, Math.floor((CAMPAIGNS * CONTACTS) / 40));
    let minute = 0;
    const allDone = async () => {
      const [row] = await Database.rows<{ open: number }>(sql`SELECT count(*)::int AS open FROM campaign WHERE status <> 'completed'`);
      return row!.open === 0;
    };
    const loopStarted = performance.now();
    while (engine.clock.now() < end) {
      const now = engine.clock.now();
      for (const plan of plans) {
        if (!plan.started && now >= plan.startAt) {
          await plan.ws.as(() => Campaign.transition(plan.id, "start"));
          plan.started = true;
        }
        // Random pauses of 10 minutes to 3 hours: a chance per step, and steps are mostly the
        // minutes in which emails go out (a dozen pauses or so in a default run).
        if (plan.pausedUntil !== undefined && now >= plan.pausedUntil) {
          await plan.ws.as(() => Campaign.transition(plan.id, "resume")).catch(() => undefined);
          plan.pausedUntil = undefined;
        } else if (plan.started && plan.pausedUntil === undefined && random() < 0.005) {
          const paused = await plan.ws.as(() => Campaign.transition(plan.id, "pause")).catch(() => undefined);
          if (paused) plan.pausedUntil = now + (10 + Math.floor(random() * 170)) * 60_000;
        }
      }
      // Out-of-office replies (now and then, to a contact whose first email went out): the oracle
      // computes the hold from the return date it wrote, by hand below; one in five says the
      // person left the company.
      if (ooo.size < maxOoo && random() < 0.02) {
        const plan = pick(plans.filter((p) => p.started));
        const waiting = plan
          ? await Database.rows<{ contact_id: string; email: string }>(sql`
              SELECT cc.contact_id, k.email FROM campaign_contact cc JOIN contact k ON k.id = cc.contact_id
              WHERE cc.campaign_id = ${plan.id} AND cc.status = 'in_progress' AND cc.last_sent_at IS NOT NULL
              ORDER BY cc.contact_id`)
          : [];
        const chosen = waiting.length ? pick(waiting) : undefined;
        const contactId = chosen?.contact_id;
        if (plan && contactId && !ooo.has(`${plan.id}/${contactId}`)) {
          const language = Math.floor(random() * 4);
          // The return date is read in the contact's zone in contact mode.
          const today = DateTime.fromMillis(now, { zone: zoneFor(plan, chosen!.email) }).startOf("day");
          const back = today.plus({ days: 1 + Math.floor(random() * 12) });
          const left = random() < 0.2;
          await plan.ws.as(() =>
            Replies.report(plan.id, {
              contactId,
              text: left ? LEFT[language]! : awayUntil(back.toISODate()!, language),
              receivedAt: new Date(now).toISOString(),
              automatic: true,
            }),
          );
          let first = back.plus({ days: 1 });
          while (first.weekday > 5 || plan.closedDays.has(first.toISODate()!)) first = first.plus({ days: 1 });
          ooo.set(`${plan.id}/${contactId}`, { at: now, left, holdUntil: first.set({ hour: plan.window.sendHoursStart }).toMillis() });
        }
      }
      if (suppressedAt.size < maxSuppressed && random() < 0.01) {
        const plan = pick(plans.filter((p) => p.started));
        // Not a contact without a first name: those must fail on their own (checked below).
        const n = Math.floor(random() * CONTACTS);
        const email = `c${n}.${plan?.id}@example.org`;
        if (plan && n % 50 !== 7 && !suppressedAt.has(email)) {
          await plan.ws.as(() => Privacy.Suppressions.create({ email, note: "simulation" }));
          suppressedAt.set(email, engine.clock.now());
        }
      }
      // Whether a tick claimed a step this minute (or crashed, having perhaps claimed some).
      let claimed = false;
      for (const id of dueSchedules(engine.scheduler, new Date(now))) {
        const result = await tick(id).catch(expectCrash);
        if (!result || result.claimed > 0) claimed = true;
      }
      await engine.queue.drain(async (records) => {
        const result = await SendBatch.handle(records);
        // Now and then a job comes back much later, as SQS may deliver it.
        if (random() < 0.05) late.push(pick(records).body);
        return result;
      });
      if (late.length && random() < 0.1) engine.queue.enqueueRaw(late.splice(0, 1)[0]!);
      for (let i = ses.sendEvents.length - 1; i >= 0; i--) {
        const event = ses.sendEvents[i]!;
        if (event.at > now) continue;
        ses.sendEvents.splice(i, 1);
        // What tracking does with a Send event: settle the email, note when the evidence came.
        if (event.probeId) await Evidence.probeSeen(event.probeId);
        else {
          await Progress.settleSent(event.messageId!, event.sesId, new Date(event.at), new Date(now));
          await Message.sawSendEvent(event.messageId!, new Date(now));
          // A/B: the contact opens it (SES's Open event, the fast path), at its variant's rate.
          const variant = event.variantId;
          if (variant && random() < OPEN_RATE[variant]!) {
            const applied = await Message.applyMilestone({
              messageId: event.messageId,
              sesMessageId: event.sesId,
              milestone: "opened",
              at: new Date(now),
              metadata: {},
              providerKey: `sim-open:${event.messageId}`,
            });
            if (applied === "applied") opens.set(`${event.campaignId}/${variant}`, (opens.get(`${event.campaignId}/${variant}`) ?? 0) + 1);
          }
        }
      }
      for (let i = ses.opens.length - 1; i >= 0; i--) {
        const open = ses.opens[i]!;
        if (open.at > now) continue;
        ses.opens.splice(i, 1);
        // SES's open event on its fast path (an email still settling is tried again a little later).
        const result = await Message.applyMilestone({
          messageId: open.messageId,
          sesMessageId: open.sesId,
          milestone: "opened",
          at: new Date(open.at),
          metadata: {},
          providerKey: `open:${open.messageId}`,
        });
        if (result === "applied") openedAt.set(open.messageId, open.at);
        else if (result === "slow") ses.opens.push({ ...open, at: now + 5 * 60_000 });
      }
      if (minute % 5 === 0) await sweepAndCount();
      if (minute % 60 === 0 && now > start + 28 * 24 * 3_600_000 && (await allDone())) break;
      engine.clock.advance(60_000);
      minute++;
      // Skip ahead over minutes in which nothing can happen: nights and weekends, but also the
      // hours in a window when every contact waits on a delay, a daily cap or the rolling hour.
      // After a minute in which no tick claimed a step and nothing is queued, the clock goes to
      // the first moment anything can: a start, a resume, an SES event or open, the sweeper's
      // next release, or a campaign's next claim (nextClaim).
      if (claimed || engine.queue.size) continue;
      const next = engine.clock.now();
      const moments = [
        ...plans.filter((p) => !p.started).map((p) => p.startAt),
        ...plans.flatMap((p) => (p.pausedUntil !== undefined ? [p.pausedUntil] : [])),
        ...ses.sendEvents.map((e) => e.at),
        ...ses.opens.map((o) => o.at),
        ...(await sweeperWork(next)),
      ];
      for (const schedule of engine.scheduler.enabled()) moments.push(await nextClaim(schedule.campaignId, next));
      const target = Math.min(...moments, next + 6 * 3_600_000);
      if (target > next + 60_000) {
        engine.clock.set(Math.floor(target / 60_000) * 60_000);
        await sweepAndCount();
      }
    }
    Fault.inject(undefined);
    engine.restore();
    if (process.env.SIM_DEBUG)
      console.log("simulated", {
        loopSeconds: Math.round((performance.now() - loopStarted) / 1000),
        pauses: (await Database.rows(sql`SELECT count(*)::int AS n FROM webhook_event WHERE type = 'campaign.paused'`))[0],
        opens: openedAt.size,
        abOpens: opens.size,
        steps: minute,
        accepted: ses.sent.length,
        ooo: ooo.size,
        suppressed: suppressedAt.size,
        resent,
        late: late.length,
        injected: Object.fromEntries(injected),
      });

    // ---- what SES accepted, against the rules -------------------------------------------------
    const accepted = ses.sent.filter((e) => e.to !== "__never__" && e.to !== Evidence.PROBE_RECIPIENT);
    const planned = plans.length * CONTACTS * 3;
    expect(accepted.length).toBeGreaterThanOrEqual(CAMPAIGNS >= 12 && CONTACTS >= 600 ? 20_000 : planned * 0.9);
    for (const point of points) expect(injected.get(point), `crashes injected at ${point}`).toBeGreaterThan(0);
    // The suppression list: addresses listed mid-run got nothing after their entry committed.
    expect(suppressedAt.size).toBeGreaterThan(0);
    const afterSuppression = accepted.filter((e) => suppressedAt.has(e.to) && e.at >= suppressedAt.get(e.to)!);
    expect(afterSuppression.map((e) => `${e.to} at ${new Date(e.at).toISOString()}`)).toEqual([]);

    const byKey = new Map<string, number>();
    for (const e of accepted) {
      const key = `${e.tags.campaign}/${e.tags.contact}/${e.tags.node}`;
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    expect(
      [...byKey.values()].filter((n) => n > 1),
      "emails sent twice",
    ).toEqual([]);

    const planOf = new Map(plans.map((p) => [p.id, p]));
    // In the contact's own zone for contact-mode campaigns (the campaign's for contacts without one).
    const outside = accepted.filter((e) => {
      const plan = planOf.get(e.tags.campaign!)!;
      const w = plan.window;
      const local = DateTime.fromMillis(e.at, { zone: zoneFor(plan, e.to) });
      return local.weekday > 5 || local.hour < w.sendHoursStart || local.hour >= w.sendHoursEnd;
    });
    expect(
      outside.map((e) => `${e.to} ${DateTime.fromMillis(e.at, { zone: zoneFor(planOf.get(e.tags.campaign!)!, e.to) }).toISO()}`),
      "emails outside their window",
    ).toEqual([]);
    // Contact mode: every zone got emails, New York's on both sides of its DST change.
    const contactModeSent = accepted.filter((e) => planOf.get(e.tags.campaign!)!.contactMode);
    if (plans.some((p) => p.contactMode)) {
      const perZone = new Map<string, number>();
      for (const e of contactModeSent) perZone.set(contactZone(e.to) ?? "none", (perZone.get(contactZone(e.to) ?? "none") ?? 0) + 1);
      expect([...perZone.keys()].sort(), "contact-mode zones that got emails").toEqual(CONTACT_ZONES.map((z) => z ?? "none").sort());
      const newYork = contactModeSent.filter((e) => contactZone(e.to) === "America/New_York");
      expect(newYork.filter((e) => e.at < NY_DST).length, "New York emails before its DST change").toBeGreaterThan(0);
      expect(newYork.filter((e) => e.at >= NY_DST).length, "New York emails after its DST change").toBeGreaterThan(0);
      if (process.env.SIM_DEBUG)
        console.log("contact-mode emails by zone", contactModeSent.length, Object.fromEntries(perZone), {
          newYorkBeforeDst: newYork.filter((e) => e.at < NY_DST).length,
        });
    }

    for (const plan of plans) {
      const times = accepted
        .filter((e) => e.tags.campaign === plan.id)
        .map((e) => e.at)
        .sort((a, b) => a - b);
      const perMinute = Math.ceil(plan.maxPerHour / 60);
      let hourStart = 0;
      let minuteStart = 0;
      for (let i = 0; i < times.length; i++) {
        while (times[hourStart]! <= times[i]! - 3_600_000) hourStart++;
        while (times[minuteStart]! <= times[i]! - 60_000) minuteStart++;
        expect(i - hourStart + 1, `${plan.id}: sends in the hour before ${new Date(times[i]!).toISOString()}`).toBeLessThanOrEqual(
          plan.maxPerHour,
        );
        if (i - minuteStart + 1 > perMinute && process.env.SIM_DEBUG) {
          const rows = await Database.rows(
            sql`SELECT id, contact_id, node_id, status, created_at, sent_at, error FROM message WHERE campaign_id = ${plan.id} AND created_at > ${new Date(times[i]! - 120_000)} AND created_at <= ${new Date(times[i]!)} ORDER BY created_at`,
          );
          console.log(
            JSON.stringify(
              accepted
                .filter((e) => e.tags.campaign === plan.id && e.at > times[i]! - 60_000 && e.at <= times[i]!)
                .map((e) => [e.tags.contact, e.tags.node, e.tags.message, e.messageId]),
            ),
            JSON.stringify(rows),
          );
        }
        expect(i - minuteStart + 1, `${plan.id}: sends in the minute before ${new Date(times[i]!).toISOString()}`).toBeLessThanOrEqual(
          perMinute,
        );
      }
    }

    // Mailboxes: no account over its cap on any UTC day (across the campaigns sharing it, the
    // warm-up's cap while it ramps), none closer than its minimum gap, every follow-up from the
    // account of the contact's first email, answering the previous email.
    const accounts = workspaces.flatMap((w) => w.accounts);
    const byAccount = new Map(accounts.map((a) => [a.email, a]));
    const perAccountDay = new Map<string, number>();
    for (const e of accepted) {
      const key = `${e.from.email}|${Math.floor(e.at / 86_400_000)}`;
      perAccountDay.set(key, (perAccountDay.get(key) ?? 0) + 1);
    }
    const overCap = [...perAccountDay].filter(([key, n]) => {
      const [email, day] = key.split("|") as [string, string];
      const a = byAccount.get(email)!;
      const cap = EmailAccount.capOn(
        {
          dailyLimit: a.dailyLimit,
          warmupEnabled: a.warmup.enabled,
          warmupStartPerDay: a.warmup.startPerDay,
          warmupIncrementPerDay: a.warmup.incrementPerDay,
          warmupStartedAt: a.warmup.startedAt,
        },
        new Date(Number(day) * 86_400_000),
      );
      return n > cap;
    });
    expect(overCap, "accounts over their cap on a day").toEqual([]);
    expect(new Set([...perAccountDay.keys()].map((k) => k.split("|")[0])).size, "accounts that sent").toBe(accounts.length);
    const tooClose: string[] = [];
    for (const a of accounts.filter((x) => x.minSecondsBetweenEmails > 0)) {
      const times = accepted
        .filter((e) => e.from.email === a.email)
        .map((e) => e.at)
        .sort((x, y) => x - y);
      for (let i = 1; i < times.length; i++) {
        if (times[i]! - times[i - 1]! < a.minSecondsBetweenEmails * 1000)
          tooClose.push(`${a.email} at ${new Date(times[i]!).toISOString()}`);
      }
    }
    expect(tooClose, "emails closer than their account's minimum gap").toEqual([]);
    const emailOf = new Map(accepted.map((e) => [`${e.tags.campaign}/${e.tags.contact}/${e.tags.node}`, e]));
    // The follow-ups (e2, e3, ...) of the chain campaigns, each with its contact's e1 and previous email.
    const followUps = [...emailOf].flatMap(([key, e]) => {
      const [campaignId, contactId, node] = key.split("/") as [string, string, string];
      const n = Number(node.slice(1));
      if (planOf.get(campaignId)!.branching || n === 1) return [];
      const previous = emailOf.get(`${campaignId}/${contactId}/e${n - 1}`);
      return [{ key, e, n, campaignId, contactId, previous, first: emailOf.get(`${campaignId}/${contactId}/e1`) }];
    });
    let threaded = 0;
    const unthreaded: string[] = [];
    for (const { key, e, n, campaignId, previous, first } of followUps) {
      if (!previous || !first) continue;
      const inReplyTo = e.headers.find((h) => h.name === "In-Reply-To")?.value;
      const ownSubject = n === 2 && plans.findIndex((p) => p.id === campaignId) % 2 === 0;
      const subject = ownSubject
        ? `#2 ${first.subject.slice(3)}`
        : previous.subject.startsWith("Re: ")
          ? previous.subject
          : `Re: ${previous.subject}`;
      if (e.from.email !== first.from.email || inReplyTo !== `<${previous.messageId}@email.amazonses.com>` || e.subject !== subject) {
        unthreaded.push(`${key}: from ${e.from.email} (first ${first.from.email}), In-Reply-To ${inReplyTo}, subject ${e.subject}`);
      }
      threaded++;
    }
    expect(unthreaded, "follow-ups not in their thread").toEqual([]);
    // Follow-ups of the chain campaigns (the branching ones, a quarter, are checked below).
    expect(threaded).toBeGreaterThan(accepted.length * 0.4);

    // Holidays and skipped dates: no email on a closed day of the campaign's zone.
    const onClosedDays = accepted.filter((e) => {
      const plan = planOf.get(e.tags.campaign!)!;
      return plan.closedDays.has(DateTime.fromMillis(e.at, { zone: zoneFor(plan, e.to) }).toISODate()!);
    });
    expect(
      onClosedDays.map((e) => `${e.tags.campaign} ${new Date(e.at).toISOString()}`),
      "emails on a skipped date or holiday",
    ).toEqual([]);

    // Out of office: after the reply, nothing before the hold the oracle computed; nothing at all
    // to someone who left. Some held contacts got their next email after the hold.
    expect(ooo.size).toBeGreaterThan(4);
    const early = accepted.filter((e) => {
      const reply = ooo.get(`${e.tags.campaign}/${e.tags.contact}`);
      return reply && e.at > reply.at && (reply.left || e.at < reply.holdUntil);
    });
    expect(
      early.map((e) => `${e.tags.campaign}/${e.tags.contact} at ${new Date(e.at).toISOString()}`),
      "emails inside a hold",
    ).toEqual([]);
    const resumedAfterHold = accepted.filter((e) => {
      const reply = ooo.get(`${e.tags.campaign}/${e.tags.contact}`);
      return reply && !reply.left && e.at >= reply.holdUntil;
    });
    expect(resumedAfterHold.length).toBeGreaterThan(0);
    const leftRows = await Database.rows<{ n: number }>(sql`SELECT count(*)::int AS n FROM campaign_contact WHERE status = 'left_company'`);
    expect(leftRows[0]!.n).toBe([...ooo.values()].filter((r) => r.left).length);

    // Delays, checked with luxon directly: business days counted as weekdays in the campaign's
    // zone (the contact's in contact mode) that are neither its holidays nor its skipped date.
    const toOf = new Map<string, string>();
    for (const e of accepted) toOf.set(`${e.tags.campaign}/${e.tags.contact}`, e.to);
    let checkedDelays = 0;
    for (const { key, e, n, campaignId, contactId, previous } of followUps) {
      expect(previous, `${key} sent without its previous email`).toBeDefined();
      const plan = planOf.get(campaignId)!;
      const delay = plan.delays[n - 2]!;
      const zone = zoneFor(plan, toOf.get(`${campaignId}/${contactId}`)!);
      const from = DateTime.fromMillis(previous!.at, { zone });
      const to = DateTime.fromMillis(e.at, { zone });
      if (delay.businessDays) {
        let weekdays = 0;
        for (let d = from.startOf("day").plus({ days: 1 }); d <= to.startOf("day"); d = d.plus({ days: 1 }))
          if (d.weekday <= 5 && !plan.closedDays.has(d.toISODate()!)) weekdays++;
        const timeOfDay = (dt: DateTime) => dt.hour * 3600 + dt.minute * 60 + dt.second;
        const honoured = weekdays > delay.days || (weekdays === delay.days && timeOfDay(to) >= timeOfDay(from));
        expect(honoured, `${key}: ${delay.days} business days from ${from.toISO()} to ${to.toISO()}`).toBe(true);
      } else {
        expect(to.toMillis(), `${key}: delay from ${from.toISO()}`).toBeGreaterThanOrEqual(
          from.plus({ days: delay.days }).plus({ hours: delay.hours }).toMillis(),
        );
      }
      checkedDelays++;
    }
    expect(checkedDelays).toBeGreaterThan(accepted.length * 0.4);

    // Branching campaigns: each contact took one branch, the right one: "yes" (y2) only after an
    // open of e1 within 2 business days of it (in the campaign's zone, holidays and the skipped date
    // not counted), "no" (n2) only once those passed without one; e3 after either, its delay
    // counted from the branch's email.
    const branched = { yes: 0, no: 0 };
    const SLACK = 150_000;
    for (const plan of plans.filter((p) => p.branching)) {
      const contacts = new Set(accepted.filter((e) => e.tags.campaign === plan.id).map((e) => e.tags.contact!));
      for (const contactId of contacts) {
        const get = (node: string) => emailOf.get(`${plan.id}/${contactId}/${node}`);
        const [e1, y2, n2, e3] = [get("e1"), get("y2"), get("n2"), get("e3")];
        const key = `${plan.id}/${contactId}`;
        expect(!!(y2 && n2), `${key}: both branches`).toBe(false);
        if (!e1 || (!y2 && !n2)) continue;
        let deadline = DateTime.fromMillis(e1.at, { zone: plan.window.timezone });
        for (let left = 2; left > 0; ) {
          deadline = deadline.plus({ days: 1 });
          if (deadline.weekday <= 5 && !plan.closedDays.has(deadline.toISODate()!)) left--;
        }
        const opened = openedAt.get(e1.tags.message!);
        if (y2) {
          // (A Send event may settle e1 up to 2 minutes after SES took it: the engine's clock starts there.)
          expect(opened !== undefined && opened <= deadline.toMillis() + SLACK, `${key}: yes without an open in time`).toBe(true);
          expect(y2.at, `${key}: yes before the open`).toBeGreaterThanOrEqual(opened!);
          branched.yes++;
        } else {
          expect(opened === undefined || opened > deadline.toMillis() - SLACK, `${key}: no despite an open in time`).toBe(true);
          expect(n2!.at, `${key}: no before the deadline`).toBeGreaterThanOrEqual(deadline.toMillis());
          branched.no++;
        }
        const second = (y2 ?? n2)!;
        if (e3) expect(e3.at, `${key}: e3 before its delay`).toBeGreaterThan(second.at);
      }
    }
    if (plans.some((p) => p.branching)) {
      expect(branched.yes, "contacts that took the yes branch").toBeGreaterThan(0);
      expect(branched.no, "contacts that took the no branch").toBeGreaterThan(0);
    }

    // Every contact in a final state, every campaign completed, counters exact.
    const open = await Database.rows<Record<string, unknown>>(sql`
      SELECT cc.campaign_id, cc.contact_id, cc.status, cc.current_node_id, cc.next_run_at, cc.claimed_at, c.status AS campaign_status,
             (SELECT json_agg(json_build_object('node', m.node_id, 'status', m.status, 'created', m.created_at, 'error', m.error)) FROM message m
              WHERE m.campaign_id = cc.campaign_id AND m.contact_id = cc.contact_id) AS messages
      FROM campaign_contact cc JOIN campaign c ON c.id = cc.campaign_id WHERE cc.status IN ('pending', 'in_progress')`);
    expect(open, "contacts not in a final state").toEqual([]);
    const statuses = await Database.rows<{ status: string; n: number }>(
      sql`SELECT status, count(*)::int AS n FROM campaign GROUP BY status`,
    );
    expect(statuses).toEqual([{ status: "completed", n: plans.length }]);
    const failedNoName = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM campaign_contact WHERE status = 'failed' AND error LIKE '%{{firstName}}%'`,
    );
    expect(failedNoName[0]!.n).toBe(plans.length * Math.ceil((CONTACTS - 7) / 50));
    // Every email SES never took (unknown outcome, crash after the reservation) was recovered by
    // evidence and sent once: none was given up on.
    expect(resent, "emails settled as never sent and sent again").toBeGreaterThan(0);
    const givenUp = await Database.rows<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM campaign_contact WHERE status = 'failed' AND error LIKE '%outcome of an email is unknown%'`,
    );
    expect(givenUp[0]!.n, "contacts failed for an unknown outcome").toBe(0);
    // Outbound webhooks: through duplicated queue messages, crashes and replays, each email event,
    // campaign start and completion was written to the outbox exactly once, one delivery each.
    const outbox = await Database.rows<{ type: string; n: number }>(
      sql`SELECT type, count(*)::int AS n FROM webhook_event
          WHERE type LIKE 'email.%' OR type IN ('campaign.started', 'campaign.completed') GROUP BY type ORDER BY type`,
    );
    // Every campaign completed, so each pause (by the simulation, or by an account SES refused) was resumed.
    const pauses = await Database.rows<{ paused: number; resumed: number }>(
      sql`SELECT count(*) FILTER (WHERE type = 'campaign.paused')::int AS paused, count(*) FILTER (WHERE type = 'campaign.resumed')::int AS resumed
          FROM webhook_event`,
    );
    expect(pauses[0]!.paused).toBe(pauses[0]!.resumed);
    const activity = await Database.rows<{ type: string; n: number }>(
      sql`SELECT 'email.' || type AS type, count(*)::int AS n FROM event
          WHERE type IN ('sent', 'delivered', 'opened', 'clicked', 'replied', 'bounced', 'complained', 'unsubscribed') GROUP BY type ORDER BY 1`,
    );
    expect(outbox).toEqual(
      [...activity, { type: "campaign.completed", n: plans.length }, { type: "campaign.started", n: plans.length }].sort((a, b) =>
        a.type < b.type ? -1 : 1,
      ),
    );
    const [fanOut] = await Database.rows<{ events: number; deliveries: number }>(
      sql`SELECT (SELECT count(*)::int FROM webhook_event) AS events, (SELECT count(*)::int FROM webhook_delivery) AS deliveries`,
    );
    expect(fanOut!.deliveries).toBe(fanOut!.events);
    for (const plan of plans) {
      const stats = (await plan.ws.as(() => Campaign.fromID(plan.id)))!.stats;
      const sent = accepted.filter((e) => e.tags.campaign === plan.id).length;
      expect(stats.sent, `${plan.id}: counted sends`).toBe(sent);
    }

    // ---- machine opens and clicks (docs/machine-events.md) ------------------------------------
    // Half the emails get SES's opens and clicks: readers, Apple Mail Privacy Protection, Gmail's
    // proxy prefetching, link scanners, clicks too soon after sending, bursts on every link; some
    // delivered twice. The human and machine counters must be exactly the emails each class reached.
    const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
    type Classes = Record<"humanOpened" | "machineOpened" | "humanClicked" | "machineClicked", Set<string>>;
    const expected = new Map<string, Classes>();
    const setsOf = (campaignId: string): Classes => {
      const sets = expected.get(campaignId) ?? {
        humanOpened: new Set(),
        machineOpened: new Set(),
        humanClicked: new Set(),
        machineClicked: new Set(),
      };
      expected.set(campaignId, sets);
      return sets;
    };
    // The opens already recorded (the branching and A/B opens of the run, all human) are where the sets start.
    const before = await Database.rows<{ id: string; campaign_id: string; ho: boolean; mo: boolean; hc: boolean; mc: boolean }>(sql`
      SELECT id, campaign_id, human_opened_at IS NOT NULL AS ho, machine_opened_at IS NOT NULL AS mo,
             human_clicked_at IS NOT NULL AS hc, machine_clicked_at IS NOT NULL AS mc
      FROM message WHERE campaign_id = ANY(${Database.array(
        plans.map((p) => p.id),
        "text",
      )})`);
    for (const row of before) {
      const sets = setsOf(row.campaign_id);
      if (row.ho) sets.humanOpened.add(row.id);
      if (row.mo) sets.machineOpened.add(row.id);
      if (row.hc) sets.humanClicked.add(row.id);
      if (row.mc) sets.machineClicked.add(row.id);
    }
    let engaged = 0;
    const seen = new Set<string>();
    // Opens and clicks reach us as SES's queue hands them over: in batches (1 to 50), each
    // applied in one round trip (tracking/ses-queue); each record's result is checked.
    const pending: Array<{ record: unknown; expected: "applied" | "duplicate" }> = [];
    for (const email of accepted) {
      if (seen.has(email.tags.message!) || random() < 0.5) continue;
      seen.add(email.tags.message!);
      const row = await Records.sentEmail(email.tags.message!);
      if (!row) continue;
      engaged++;
      const counts = setsOf(row.campaignId);
      const after = (seconds: number) => new Date(row.sentAt.getTime() + seconds * 1000);
      const apply = async (type: "open" | "click", at: Date, extra: { userAgent: string; ip: string; link?: string }) => {
        const record = Records.sesRecord(type, row, at, extra);
        pending.push({ record, expected: "applied" });
        if (random() < 0.1) pending.push({ record, expected: "duplicate" });
      };
      const roll = random();
      if (roll < 0.3) {
        await apply("open", after(40), { userAgent: "Mozilla/5.0", ip: "17.58.101.12" });
        counts.machineOpened.add(row.messageId);
      } else if (roll < 0.45) {
        await apply("open", after(4), { userAgent: GMAIL, ip: "66.249.84.10" });
        counts.machineOpened.add(row.messageId);
      }
      if (random() < 0.4) {
        await apply("open", after(600 + Math.floor(random() * 86_400)), { userAgent: pick([CHROME, GMAIL]), ip: "198.51.100.7" });
        counts.humanOpened.add(row.messageId);
      }
      const click = random();
      if (click < 0.15) {
        await apply("click", after(3), { userAgent: CHROME, ip: "198.51.100.23", link: "https://example.com/a" });
        counts.machineClicked.add(row.messageId);
      } else if (click < 0.3) {
        await apply("click", after(90), { userAgent: "python-requests/2.31.0", ip: "203.0.113.9", link: "https://example.com/a" });
        counts.machineClicked.add(row.messageId);
      } else if (click < 0.4) {
        // A burst: the first click is judged alone (a browser, not too soon: human), the next ones are a scanner's.
        await apply("click", after(120), { userAgent: CHROME, ip: "203.0.113.80", link: "https://example.com/a" });
        await apply("click", after(120.4), { userAgent: CHROME, ip: "203.0.113.80", link: "https://example.com/b" });
        counts.humanClicked.add(row.messageId);
        counts.machineClicked.add(row.messageId);
      } else if (click < 0.55) {
        await apply("click", after(1800 + Math.floor(random() * 3600)), {
          userAgent: CHROME,
          ip: "198.51.100.7",
          link: "https://example.com/a",
        });
        counts.humanClicked.add(row.messageId);
      }
    }
    while (pending.length) {
      const batch = pending.splice(0, 1 + Math.floor(random() * 50));
      expect(await applySesEvents(batch.map((p) => p.record))).toEqual(batch.map((p) => p.expected));
    }
    expect(engaged).toBeGreaterThan(accepted.length * 0.4);
    for (const plan of plans) {
      const stats = (await plan.ws.as(() => Campaign.fromID(plan.id)))!.stats;
      const counts = expected.get(plan.id)!;
      expect(
        {
          humanOpened: stats.humanOpened,
          machineOpened: stats.machineOpened,
          humanClicked: stats.humanClicked,
          machineClicked: stats.machineClicked,
        },
        `${plan.id}: human and machine counters`,
      ).toEqual({
        humanOpened: counts.humanOpened.size,
        machineOpened: counts.machineOpened.size,
        humanClicked: counts.humanClicked.size,
        machineClicked: counts.machineClicked.size,
      });
      expect(stats.opened).toBe(new Set([...counts.humanOpened, ...counts.machineOpened]).size);
      expect(stats.clicked).toBe(new Set([...counts.humanClicked, ...counts.machineClicked]).size);
      expect(
        counts.humanOpened.size * counts.machineOpened.size * counts.machineClicked.size,
        `${plan.id}: every class seen`,
      ).toBeGreaterThan(0);
    }
    // A/B: every first email of an A/B campaign records the variant whose subject it went out
    // with; each variant's counters hold its sends and opens; once a winner is decided, every
    // email reserved after that is the winner.
    let decided = 0;
    for (const plan of plans.filter((p) => p.ab)) {
      const messages = await Database.rows<{ id: string; variant_id: string | null; status: string; created_at: Date | string }>(
        sql`SELECT id, variant_id, status, created_at FROM message WHERE campaign_id = ${plan.id} AND node_id = 'e1'`,
      );
      const firsts = accepted.filter((e) => e.tags.campaign === plan.id && e.tags.node === "e1");
      const variantOf = new Map(messages.map((m) => [m.id, m.variant_id]));
      const mismatched = firsts.filter((e) => variantOf.get(e.tags.message!) !== (e.subject.endsWith("!") ? "b" : "a"));
      expect(
        mismatched.map((e) => `${e.tags.message}: ${e.subject}`),
        `${plan.id}: emails whose recorded variant is not the one sent`,
      ).toEqual([]);
      const counters = await Database.rows<{ variant_id: string; sent: number; opened: number }>(
        sql`SELECT variant_id, sum(sent)::int AS sent, sum(opened)::int AS opened FROM campaign_variant_stat
            WHERE campaign_id = ${plan.id} AND node_id = 'e1' GROUP BY variant_id ORDER BY variant_id`,
      );
      // Opens of these emails came from the A/B readers, the branching opens and the machine-event
      // stage: each variant's counter is the number of its emails with an open.
      const openedRows = await Database.rows<{ variant_id: string; n: number }>(
        sql`SELECT variant_id, count(*)::int AS n FROM message
            WHERE campaign_id = ${plan.id} AND node_id = 'e1' AND opened_at IS NOT NULL GROUP BY variant_id`,
      );
      const openedOf = new Map(openedRows.map((r) => [r.variant_id, r.n]));
      expect(openedOf.get("b") ?? 0, `${plan.id}: the A/B readers' opens are counted`).toBeGreaterThanOrEqual(
        opens.get(`${plan.id}/b`) ?? 0,
      );
      expect(counters, `${plan.id}: per-variant counters`).toEqual(
        ["a", "b"].map((id) => ({
          variant_id: id,
          sent: firsts.filter((e) => (e.subject.endsWith("!") ? "b" : "a") === id).length,
          opened: openedOf.get(id) ?? 0,
        })),
      );
      const [winner] = await Database.rows<{ variant_id: string; decided_at: Date | string }>(
        sql`SELECT variant_id, decided_at FROM ab_test_winner WHERE campaign_id = ${plan.id}`,
      );
      if (!winner) continue;
      decided++;
      expect(winner.variant_id).toBe("b");
      const after = messages.filter((m) => Database.toDate(m.created_at) >= Database.toDate(winner.decided_at));
      expect(
        after.filter((m) => m.variant_id !== "b").map((m) => m.id),
        `${plan.id}: sent another variant after the winner`,
      ).toEqual([]);
    }
    expect(decided, "A/B tests decided").toBeGreaterThan(0);
  }, 1_800_000);
});

/** e1 → c1 (opened within 2 business days) → yes: y2 / no: n2 → `delay` → e3 → end (3 emails on every path). */
function branchingWorkflow(delay: Delay) {
  const email = (id: string, subject?: string) => ({
    id,
    type: "email",
    data: { ...(subject ? { subject } : {}), body: "Hi {{firstName}}, {{company|there}}", trackOpens: true, trackClicks: id === "e1" },
  });
  return {
    nodes: [
      { id: "start", type: "start" },
      email("e1", "#1 {{firstName}}"),
      { id: "c1", type: "condition", data: { event: "opened", withinDays: 2, businessDays: true } },
      email("y2", "Glad you looked, {{firstName}}"),
      email("n2"),
      { id: "d3", type: "delay", data: delay },
      email("e3"),
      { id: "end", type: "end" },
    ],
    edges: [
      ...along("start", "e1", "c1"),
      ...branch("c1", { yes: "y2", no: "n2" }),
      ...along("y2", "d3"),
      ...along("n2", "d3", "e3", "end"),
    ],
  };
}

function expectCrash(error: unknown) {
  if (!(error instanceof Fault.InjectedCrash)) throw error;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The first moment a tick of the campaign could claim a step, as things stand at `at` (`at`
 * itself when it could now). A step due later is claimable at its due time, inside the window
 * (contact mode: stored at the contact's window opening). Due steps the limits hold wait for the
 * limit to give way: the rolling hour when its oldest email turns an hour old, an account at its
 * daily cap the next UTC day. What else can hold them (the minute's limit, an account's minimum
 * gap, an unusable account, steps in flight) gives way within minutes: no skip. The engine's own
 * view decides (`Budget.lock`, as the tick reads it): this only says when to look again.
 */
async function nextClaim(campaignId: string, at: number): Promise<number> {
  const locked = await Database.transaction(() => Budget.lock(campaignId, new Date(at)));
  if (locked?.campaign.status !== "active") return Number.POSITIVE_INFINITY;
  // As the tick: contacts tied to a usable account that cannot send now wait for it.
  const waiting = locked.accounts.filter((a) => a.usable && a.now <= 0);
  const ids = Database.array(
    waiting.map((a) => a.account.id),
    "text",
  );
  const [due] = await Database.rows<{ free: Date | string | null; held: Date | string | null }>(sql`
    SELECT min(next_run_at) FILTER (WHERE email_account_id IS NULL OR email_account_id <> ALL(${ids})) AS free,
           min(next_run_at) FILTER (WHERE email_account_id = ANY(${ids})) AS held
    FROM campaign_contact WHERE campaign_id = ${campaignId} AND claimed_at IS NULL AND next_run_at IS NOT NULL`);
  const opening = (due: Date | string) => {
    const t = Math.max(Database.toDate(due).getTime(), at);
    return locked.window.timezoneMode === "contact" ? t : nextOpening(new Date(t), locked.window).getTime();
  };
  const accountFree = (a: Budget.AccountBudget) => (a.usable && a.now <= 0 && a.remaining <= 0 ? (Math.floor(at / DAY) + 1) * DAY : at);
  let limits = at;
  if (Math.min(Budget.room(locked), Budget.accountsRoom(locked.accounts)) - locked.inFlight <= 0 && !locked.inFlight) {
    let campaignFree = at;
    if (locked.used.lastHour >= locked.campaign.maxEmailsPerHour) {
      const [oldest] = await Database.rows<{ at: Date | string }>(
        sql`SELECT min(created_at) AS at FROM message WHERE campaign_id = ${campaignId} AND created_at > ${new Date(at - HOUR)}`,
      );
      campaignFree = Database.toDate(oldest!.at).getTime() + HOUR;
    }
    const accountsFree = Budget.accountsRoom(locked.accounts) > 0 ? at : Math.min(...locked.accounts.map(accountFree));
    limits = Math.max(campaignFree, accountsFree);
  }
  const free = due?.free ? Math.max(opening(due.free), limits) : Number.POSITIVE_INFINITY;
  const held = due?.held ? Math.max(opening(due.held), limits, Math.min(...waiting.map(accountFree))) : Number.POSITIVE_INFINITY;
  return Math.min(free, held);
}

/**
 * The sweeper's work: a claim to release or an email of unknown fate to settle (by its Send
 * event or by evidence) wants the sweeper every 5 minutes, as when the clock steps minute by minute.
 */
async function sweeperWork(at: number): Promise<number[]> {
  const [row] = await Database.rows<{ pending: boolean }>(sql`
    SELECT EXISTS (SELECT 1 FROM campaign_contact WHERE claimed_at IS NOT NULL)
        OR EXISTS (SELECT 1 FROM message WHERE status = 'sending' AND error IS NULL) AS pending`);
  return row!.pending ? [at + 5 * MINUTE] : [];
}
