import * as Campaign from "@fluenzr/core/campaign";
import type * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { applySesEvent, Replies } from "@fluenzr/core/tracking";
import * as Records from "@fluenzr/local/records";
import { factory, linear, prng, testEngine, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

useTestDatabase();

const WORKFLOW = linear([
  { id: "e1", email: { subject: "Hi {{firstName}}", body: "See https://example.com/a and https://example.com/b" } },
  { id: "wait", delay: { days: 2, businessDays: false } },
  { id: "e2", email: { subject: "Again", body: "Hello" } },
]);

type Step = { index: number; make: (email: Records.SentEmail) => { kind: "ses" | "inbound"; record: unknown } };

/**
 * A day of recorded events for 60 emails (deliveries, repeated opens and clicks, soft and hard
 * bounces, complaints, replies and out-of-offices), at random times. Applying it once in order to
 * one campaign, and twice in shuffled order to an identical campaign, must end the same.
 */
describe("replaying events", () => {
  it("twice, shuffled, ends exactly where one ordered pass does", async () => {
    const engine = testEngine({ start: "2026-02-02T09:00:00Z" });
    const random = prng(Number(process.env.REPLAY_SEED ?? 42));
    const contacts = 60;
    const campaigns: Array<{ id: string; ws: Awaited<ReturnType<typeof factory.workspace>>; emails: Records.SentEmail[] }> = [];
    try {
      for (let c = 0; c < 2; c++) {
        const ws = await factory.workspace();
        // The account's guard likewise (#13: it counts the same emails).
        const account = await factory.emailAccount(ws, { maxBounceRate: 100, maxComplaintRate: 100 });
        const people: Contact.Contact[] = [];
        for (let i = 0; i < contacts; i++) people.push(await factory.contact(ws, { email: `p${i}.${c}@example.org`, firstName: `P${i}` }));
        const campaign = await ws.as(() =>
          // The deliverability guard is off (100%): pausing acts at the moment a rate crosses, so
          // it depends on the order of events by design (tracking/guard.test.ts covers it).
          Campaign.create({
            name: `r${c}`,
            emailAccountId: account.id,
            settings: { maxEmailsPerHour: 6000, maxBounceRate: 100, maxComplaintRate: 100 },
            workflow: WORKFLOW,
          }),
        );
        await ws.as(() => Campaign.Enrolment.add(campaign.id, { contactIds: people.map((p) => p.id) }));
        await ws.as(() => Campaign.transition(campaign.id, "start"));
        await engine.runMinute();
        const sent = engine.mailer.sent.filter((e) => e.tags.campaign === campaign.id);
        const emails = await Promise.all(sent.map(async (e) => (await Records.sentEmail(e.tags.message!))!));
        const byContact = new Map(emails.map((e) => [e.to, e]));
        campaigns.push({ id: campaign.id, ws, emails: people.map((p) => byContact.get(p.email)!) });
      }

      const day = Date.parse("2026-02-02T09:00:00Z");
      const at = (minutes: number) => new Date(day + minutes * 60_000);
      const steps: Array<Step & { minute: number }> = [];
      const ses = (index: number, minute: number, type: Records.Simulated, link?: string) =>
        steps.push({ index, minute, make: (email) => ({ kind: "ses", record: Records.sesRecord(type, email, at(minute), { link }) }) });
      for (let i = 0; i < contacts; i++) {
        const roll = random();
        if (roll < 0.08) {
          ses(i, 1, "bounce");
          continue;
        }
        ses(i, 1 + Math.floor(random() * 5), "delivery");
        if (roll < 0.14) ses(i, 30 + Math.floor(random() * 60), "soft-bounce");
        const opens = Math.floor(random() * 5);
        for (let o = 0; o < opens; o++) ses(i, 10 + Math.floor(random() * 900), "open");
        const clicks = Math.floor(random() * 3);
        for (let k = 0; k < clicks; k++)
          ses(i, 20 + Math.floor(random() * 900), "click", random() < 0.5 ? "https://example.com/a" : "https://example.com/b");
        if (roll > 0.95) ses(i, 200 + Math.floor(random() * 600), "complaint");
        else if (roll > 0.82) {
          const minute = 60 + Math.floor(random() * 900);
          const automatic = roll > 0.9;
          steps.push({
            index: i,
            minute,
            make: (email) => ({
              kind: "inbound",
              record: Records.inboundReply(email, at(minute), { automatic, id: `r${email.messageId}-${minute}` }),
            }),
          });
        }
      }
      expect(steps.length).toBeGreaterThan(150);

      const apply = async (c: number, list: Step[]) => {
        for (const step of list) {
          const { kind, record } = step.make(campaigns[c]!.emails[step.index]!);
          if (kind === "ses") await applySesEvent(record);
          else await Replies.applyInbound(record);
        }
      };
      const ordered = [...steps].sort((a, b) => a.minute - b.minute);
      await apply(0, ordered);
      const twice = [...steps, ...steps];
      for (let i = twice.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [twice[i], twice[j]] = [twice[j]!, twice[i]!];
      }
      await apply(1, twice);

      const snapshot = async (c: number) => {
        const { id, emails } = campaigns[c]!;
        const indexOf = new Map(emails.map((e, i) => [e.contactId, i]));
        const totals = await Database.rows(sql`
          SELECT node_id, sum(sent)::int sent, sum(delivered)::int delivered, sum(opened)::int opened, sum(clicked)::int clicked,
                 sum(replied)::int replied, sum(bounced)::int bounced, sum(unsubscribed)::int unsubscribed, sum(complained)::int complained,
                 sum(failed)::int failed
          FROM campaign_stat WHERE campaign_id = ${id} GROUP BY node_id ORDER BY node_id`);
        const buckets = await Database.rows(sql`
          SELECT bucket, sum(delivered)::int delivered, sum(opened)::int opened, sum(clicked)::int clicked, sum(replied)::int replied,
                 sum(bounced)::int bounced, sum(complained)::int complained
          FROM campaign_stat_bucket WHERE campaign_id = ${id} GROUP BY bucket
          HAVING sum(delivered) + sum(opened) + sum(clicked) + sum(replied) + sum(bounced) + sum(complained) <> 0 ORDER BY bucket`);
        const messages = await Database.rows<Record<string, unknown> & { contact_id: string }>(sql`
          SELECT contact_id, status, delivered_at, opened_at, clicked_at, replied_at, bounced_at, complained_at FROM message WHERE campaign_id = ${id}`);
        const people = await Database.rows<{
          contact_id: string;
          status: string;
          contact_status: string;
          current_node_id: string | null;
        }>(sql`
          SELECT cc.contact_id, cc.status, c.status AS contact_status, cc.current_node_id FROM campaign_contact cc JOIN contact c ON c.id = cc.contact_id
          WHERE cc.campaign_id = ${id}`);
        const feed = await Database.rows<{ contact_id: string; type: string; n: number }>(sql`
          SELECT contact_id, type, count(*)::int n FROM event WHERE campaign_id = ${id} GROUP BY contact_id, type`);
        const byIndex = <T extends { contact_id: string }>(rows: T[]) =>
          rows
            .map(({ contact_id, ...rest }) => ({ i: indexOf.get(contact_id), ...rest }))
            .sort((a, b) => a.i! - b.i! || JSON.stringify(a).localeCompare(JSON.stringify(b)));
        const [campaign] = await Database.rows(sql`SELECT status FROM campaign WHERE id = ${id}`);
        return { totals, buckets, messages: byIndex(messages), people: byIndex(people), feed: byIndex(feed), campaign };
      };
      const once = await snapshot(0);
      const shuffled = await snapshot(1);
      expect(shuffled).toEqual(once);
      // And the pass did something worth comparing.
      expect(once.totals[0]).toMatchObject({ node_id: "e1", sent: contacts });
      for (const counter of ["delivered", "opened", "clicked", "replied", "bounced", "complained"]) {
        expect((once.totals[0] as Record<string, number>)[counter], counter).toBeGreaterThan(0);
      }
      expect(once.people.filter((p) => p.status === "bounced").length).toBeGreaterThan(0);
      expect(once.people.filter((p) => p.status === "replied").length).toBeGreaterThan(0);
    } finally {
      engine.restore();
    }
  }, 120_000);
});
