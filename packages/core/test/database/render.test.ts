import * as Campaign from "@fluenzr/core/campaign";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Group from "@fluenzr/core/group";
import { factory, prng, SEED_WORKFLOW, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";

/**
 * The hot reads' answers are built by PostgreSQL (database/render.ts) and sent as they come. Each
 * must say exactly what `JSON.stringify` of the resource as Node reads it says: same keys, same
 * order, same values, absent keys absent. Rows here are drawn at random (seeded) over every
 * column: NULLs, empty text, hostile strings, microseconds, odd floats, nested jsonb.
 */

useTestDatabase();

const HOSTILE = [
  'quote " and backslash \\',
  "control \u0001\u001f and tab\tnewline\n",
  "unicode é ü 漢字 😀 \u2028\u2029",
  "</script><script>alert(1)</script>",
  "'; DROP TABLE campaign; --",
  "",
  "null",
];

/** The same value as Node serializes it: key order, values and absence compared by their JSON. */
function expectSame(rendered: string | undefined, resource: unknown) {
  expect(rendered).toBeDefined();
  expect(JSON.stringify(JSON.parse(rendered!))).toBe(JSON.stringify(resource));
}

function drawing(seed: number) {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const maybe = <T>(value: T): T | null => (random() < 0.4 ? null : value);
  // From 1970 on: before it, Node's Date truncates a sub-millisecond fraction towards zero.
  const time = () => {
    const ms = Math.floor(random() * 4_102_444_800_000);
    const micros = Math.floor(random() * 1000);
    return `${new Date(ms).toISOString().slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
  };
  const text = () => pick([...HOSTILE, `plain ${Math.floor(random() * 1e6)}`]);
  const float = () => pick([0, 5, 0.3, 0.1 + 0.2, 1e-7, 0.00001, 99.999, 1 / 3]);
  return { random, pick, maybe, time, text, float };
}

describe("a campaign rendered by PostgreSQL", () => {
  it("is its Node serialization, over random rows (seeded)", async () => {
    const ws = await factory.workspace();
    const account = await factory.emailAccount(ws);
    for (let seed = 1; seed <= 40; seed++) {
      const d = drawing(seed);
      const campaign = await ws.as(() => Campaign.create({ name: "Render", emailAccountId: account.id, workflow: SEED_WORKFLOW as never }));
      await Database.use((db) =>
        db.execute(sql`
          UPDATE campaign SET
            name = ${d.text() || "x"}, description = ${d.maybe(d.text())}, status = ${d.pick(["draft", "active", "paused", "completed", "archived"])},
            send_days = ${Database.array(d.pick([[], ["mon"], ["mon", "tue", "sat"]]), "text")},
            send_hours_start = ${Math.floor(d.random() * 24)}, timezone = ${d.pick(["UTC", "Europe/Paris", "America/New_York"])},
            max_emails_per_hour = ${Math.floor(d.random() * 1000)}, max_bounce_rate = ${d.float()}, max_complaint_rate = ${d.float()},
            stop_on_company_reply = ${d.random() < 0.5},
            holidays = ${d.maybe(JSON.stringify({ country: "FR", region: d.text() }))}::jsonb,
            skip_dates = ${Database.array(d.pick([[], ["2026-12-25"], ["2026-12-24", "2026-12-31"]]), "text")},
            workflow = ${d.random() < 0.2 ? null : JSON.stringify(SEED_WORKFLOW)}::jsonb,
            total_contacts = ${Math.floor(d.random() * 1e6)},
            pause_reason = ${d.maybe(d.text())},
            paused_reason = ${d.pick([null, "null", JSON.stringify({ reason: "bounce_rate", rate: d.float(), threshold: 5 })])}::jsonb,
            created_at = ${d.time()}, started_at = ${d.maybe(d.time())}, updated_at = ${d.time()},
            completed_at = ${d.maybe(d.time())}, archived_at = ${d.maybe(d.time())}
          WHERE id = ${campaign.id}`),
      );
      const shards = Math.floor(d.random() * 3);
      for (let shard = 0; shard < shards; shard++) {
        const n = () => Math.floor(d.random() * 1000);
        await Database.use((db) =>
          db.execute(sql`
            INSERT INTO campaign_stat (campaign_id, node_id, shard, sent, delivered, opened, clicked, replied, bounced, unsubscribed,
                                       human_opened, machine_opened, human_clicked, machine_clicked)
            VALUES (${campaign.id}, 'e1', ${shard}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()}, ${n()})`),
        );
      }
      const [rendered, node] = await ws.as(() =>
        Promise.all([Database.read(Campaign.renderedById(campaign.id)), Campaign.fromID(campaign.id)]),
      );
      expectSame(rendered, node);
    }
  });

  it("is nothing for an unknown id, or another workspace's", async () => {
    const [ws, other] = [await factory.workspace(), await factory.workspace()];
    const account = await factory.emailAccount(ws);
    const campaign = await ws.as(() => Campaign.create({ name: "Mine", emailAccountId: account.id, workflow: SEED_WORKFLOW as never }));
    expect(await other.as(() => Database.read(Campaign.renderedById(campaign.id)))).toBeUndefined();
    expect(await ws.as(() => Database.read(Campaign.renderedById("cmp_missing")))).toBeUndefined();
  });
});

describe("a contact rendered by PostgreSQL", () => {
  it("is its Node serialization, over random rows (seeded)", async () => {
    const ws = await factory.workspace();
    const groups = [await factory.group(ws, { name: 'Group "one"' }), await factory.group(ws, { name: "Ünïcode 😀" })];
    for (let seed = 1; seed <= 40; seed++) {
      const d = drawing(seed);
      const contact = await factory.contact(ws);
      const customFields = d.pick([
        {},
        { sector: d.text(), size: 12, ratio: d.float(), flag: true, none: null },
        { nested: { a: [1, "b", null] } },
      ]);
      await Database.use((db) =>
        db.execute(sql`
          UPDATE contact SET
            first_name = ${d.maybe(d.text())}, last_name = ${d.maybe(d.text())}, company = ${d.maybe(d.text())},
            job_title = ${d.maybe(d.text())}, phone = ${d.maybe(d.text())}, website = ${d.maybe(d.text())},
            status = ${d.pick(["active", "unsubscribed", "bounced"])},
            tags = ${Database.array(d.pick([[], ["a"], [d.text() || "t", "z"]]), "text")},
            custom_fields = ${JSON.stringify(customFields)}::jsonb, timezone = ${d.maybe("Europe/Paris")},
            created_at = ${d.time()}, updated_at = ${d.time()}
          WHERE id = ${contact.id}`),
      );
      const joined = groups.filter(() => d.random() < 0.5);
      if (joined.length) await ws.as(() => Group.addContacts(joined[0]!.id, { contactIds: [contact.id] }));
      if (joined.length > 1) await ws.as(() => Group.addContacts(joined[1]!.id, { contactIds: [contact.id] }));
      const [rendered, node] = await ws.as(() =>
        Promise.all([Database.read(Contact.renderedById(contact.id)), Contact.fromID(contact.id)]),
      );
      expectSame(rendered, node);
    }
  });

  it("is nothing for an unknown id, or another workspace's", async () => {
    const [ws, other] = [await factory.workspace(), await factory.workspace()];
    const contact = await factory.contact(ws);
    expect(await other.as(() => Database.read(Contact.renderedById(contact.id)))).toBeUndefined();
    expect(await ws.as(() => Database.read(Contact.renderedById("con_missing")))).toBeUndefined();
  });
});
