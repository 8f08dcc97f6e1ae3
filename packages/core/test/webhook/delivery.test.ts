import { createHmac, timingSafeEqual } from "node:crypto";
import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import { MemoryQueue } from "@fluenzr/core/queue/memory";
import { applySesEvent, Replies, SesQueue } from "@fluenzr/core/tracking";
import { Address, Deliverer, Deliveries, DeliveryQueue, Subscriptions } from "@fluenzr/core/webhook";
import { memoryDeliveryQueue } from "@fluenzr/core/webhook/memory";
import { factory, type Received, type Receiver, startReceiver, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { about, fixture, sentCampaign } from "../tracking/sent-campaign";

/**
 * Outbound webhooks end to end against a real HTTP receiver that checks every signature with its
 * own code (node:crypto on the raw body): the outbox, the deliverer and its rules, the sweeper.
 */

useTestDatabase();

let receiver: Receiver;
let queue: MemoryQueue;
let clockNow = () => Date.now();

let restoreClock: () => void;

beforeAll(async () => {
  // Test files share processes: a virtual clock an earlier file left installed is replaced.
  restoreClock = (await import("@fluenzr/core/clock")).install(() => Date.now());
  Address.install("local");
  receiver = await startReceiver();
});
afterAll(async () => {
  restoreClock();
  Address.install("deployed");
  DeliveryQueue.install(undefined);
  await receiver.close();
});
beforeEach(async () => {
  // The sweeper looks at every workspace: what earlier tests left pending is put out of its way.
  await Database.rows(sql`UPDATE webhook_delivery SET status = 'failed' WHERE status = 'pending'`);
  receiver.received.length = 0;
  receiver.respond(200);
  queue = new MemoryQueue({ now: () => clockNow() });
  DeliveryQueue.install(memoryDeliveryQueue(queue));
});
afterEach(() => {
  clockNow = () => Date.now();
});

const deliver = () => queue.drain(Deliverer.handle, { concurrency: 4 });

function verifies(request: Received, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(`${request.headers["x-fluenzr-timestamp"]}.${request.raw}`).digest();
  return String(request.headers["x-fluenzr-signature"])
    .split(",")
    .some((value) => {
      const given = Buffer.from(value.replace(/^sha256=/, ""), "hex");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const outbox = (workspaceId: string) =>
  Database.rows<{ type: string; n: number }>(
    sql`SELECT type, count(*)::int AS n FROM webhook_event WHERE workspace_id = ${workspaceId} GROUP BY type ORDER BY type`,
  );
const deliveries = (subscriptionId: string) =>
  Database.rows<{ status: string; attempts: number; last_status_code: number | null; event_type: string }>(
    sql`SELECT status, attempts, last_status_code, event_type FROM webhook_delivery WHERE subscription_id = ${subscriptionId} ORDER BY created_at, id`,
  );

async function subscribed(events: string[] = ["*"]) {
  const ws = await factory.workspace();
  const hook = await ws.as(() => Subscriptions.create({ url: receiver.url, events }));
  return { ws, hook };
}

/** A subscription to contact.created whose endpoint answered 503 to 20 deliveries: as many failures as can disable it. */
async function failedTwentyTimes() {
  const { ws, hook } = await subscribed(["contact.created"]);
  receiver.respond(503);
  for (let i = 0; i < 20; i++) await factory.contact(ws);
  await deliver();
  return { ws, hook };
}

describe("events, once each, signed", () => {
  it("a campaign's emails and their SES events reach the endpoint once; replayed notifications add nothing", async () => {
    const { ws, hook } = await subscribed();
    clockNow = () => 0; // the engine's clock starts in January: every message queued so far is visible
    const { sent, campaign } = await sentCampaign(2, ws);
    const email = sent[0]!;
    const delivery = about("delivery", email, "2026-01-12T09:00:05.000Z");
    const open = about("open", email, "2026-01-12T10:00:00.000Z");
    const bounce = about("bounce-permanent", sent[1]!, "2026-01-12T09:00:06.000Z");
    for (let i = 0; i < 3; i++) {
      await applySesEvent(delivery);
      await applySesEvent(open);
      await applySesEvent(bounce);
    }
    const reply = fixture("ses-inbound-reply.json");
    reply.content = reply.content.replaceAll("0100018d1a2b3c4d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000", email.sesMessageId);
    reply.mail.messageId = `reply-${email.messageId}`;
    expect(await Replies.applyInbound(reply)).toBe("replied");
    expect(await Replies.applyInbound(reply)).toBe("duplicate");

    // The bounce and the reply end both sequences: the campaign completes.
    expect(await outbox(ws.id)).toEqual([
      { type: "campaign.completed", n: 1 },
      { type: "campaign.started", n: 1 },
      { type: "contact.created", n: 2 },
      { type: "email.bounced", n: 1 },
      { type: "email.delivered", n: 1 },
      { type: "email.opened", n: 1 },
      { type: "email.replied", n: 1 },
      { type: "email.sent", n: 2 },
    ]);
    await deliver();
    const got = receiver.received;
    expect(got).toHaveLength(10);
    for (const request of got) {
      expect(verifies(request, hook.secret)).toBe(true);
      const body = JSON.parse(request.raw);
      expect(request.headers["x-fluenzr-event-id"]).toBe(body.id);
      expect(request.headers["x-fluenzr-event-type"]).toBe(body.type);
      expect(body.workspaceId).toBe(ws.id);
    }
    expect(new Set(got.map((r) => r.headers["x-fluenzr-event-id"])).size).toBe(10);
    const opened = got.map((r) => JSON.parse(r.raw)).find((b) => b.type === "email.opened");
    expect(opened).toMatchObject({
      timestamp: "2026-01-12T10:00:00.000Z",
      data: {
        campaign: { id: campaign.id },
        contact: { id: email.contactId, email: expect.stringContaining("@") },
        emailNodeId: "node_2",
        messageId: email.messageId,
        details: { ip: "198.51.100.7" },
      },
    });
    const bounced = got.map((r) => JSON.parse(r.raw)).find((b) => b.type === "email.bounced");
    expect(bounced.data.details).toMatchObject({ bounceType: "hard" });
    expect((await deliveries(hook.id)).every((d) => d.status === "succeeded" && d.attempts === 1)).toBe(true);
    // A second drain, a sweep: nothing is sent again.
    expect(await Deliverer.sweep({ freshMs: 0 })).toBe(0);
    await deliver();
    expect(receiver.received).toHaveLength(10);
  });

  it("SES events from the queue in a batch: each reaches the endpoint once, queued as the batch commits", async () => {
    const { ws } = await subscribed(["email.delivered", "email.opened", "email.clicked"]);
    clockNow = () => 0;
    const { sent } = await sentCampaign(3, ws);
    const records = sent.flatMap((email) => [
      about("delivery", email, "2026-01-12T09:00:05.000Z"),
      about("open", email, "2026-01-12T10:00:00.000Z"),
      about("click", email, "2026-01-12T10:01:00.000Z"),
    ]);
    const batch = (suffix: string) => records.map((r, i) => ({ messageId: `${suffix}${i}`, body: JSON.stringify(r) }));
    expect(await SesQueue.handle(batch("a"))).toEqual({ batchItemFailures: [] });
    // Redelivered by SQS: duplicates, nothing more to send.
    expect(await SesQueue.handle(batch("b"))).toEqual({ batchItemFailures: [] });
    await deliver();
    const types = receiver.received.map((r) => JSON.parse(r.raw).type).sort();
    expect(types).toEqual([...Array(3).fill("email.clicked"), ...Array(3).fill("email.delivered"), ...Array(3).fill("email.opened")]);
    // Every delivery was queued by the batch itself: the sweeper finds none left pending.
    expect(await Deliverer.sweep({ freshMs: 0 })).toBe(0);
  });

  it("only the types subscribed to; a subscription of another workspace sees nothing", async () => {
    const { ws, hook } = await subscribed(["contact.deleted"]);
    const { hook: theirs } = await subscribed(["*"]);
    const contact = await factory.contact(ws);
    await ws.as(() => Contact.update(contact.id, { firstName: "Grace" }));
    await ws.as(() => Contact.remove(contact.id));
    await deliver();
    expect(receiver.received.map((r) => JSON.parse(r.raw))).toEqual([
      {
        id: expect.stringMatching(/^evt_/),
        type: "contact.deleted",
        timestamp: expect.any(String),
        workspaceId: ws.id,
        data: { contact: { id: contact.id, email: contact.email } },
      },
    ]);
    expect(await deliveries(theirs.id)).toEqual([]);
    expect(await deliveries(hook.id)).toHaveLength(1);
  });

  it("a rolled-back change emits nothing", async () => {
    const { ws } = await subscribed();
    await expect(
      ws.as(() =>
        Database.transaction(async () => {
          await Contact.create({ email: "rolled@example.org" });
          throw new Error("boom");
        }),
      ),
    ).rejects.toThrow("boom");
    expect(await outbox(ws.id)).toEqual([]);
    await deliver();
    expect(receiver.received).toHaveLength(0);
  });

  it("a crash between commit and queue still delivers: the sweeper finds the pending delivery", async () => {
    const { ws, hook } = await subscribed(["contact.created"]);
    // The queue is unreachable when the change commits (the process dies before queueing, in effect).
    DeliveryQueue.install({
      send: async () => {
        throw new Error("process killed before queueing (injected)");
      },
    });
    await factory.contact(ws);
    expect(await deliveries(hook.id)).toMatchObject([{ status: "pending", attempts: 0 }]);
    DeliveryQueue.install(memoryDeliveryQueue(queue));
    // Too fresh for the sweeper (it may still be on its way through the queue): left alone.
    expect(await Deliverer.sweep()).toBe(0);
    expect(await Deliverer.sweep({ freshMs: 0 })).toBe(1);
    await deliver();
    expect(receiver.received).toHaveLength(1);
    expect(await deliveries(hook.id)).toMatchObject([{ status: "succeeded", attempts: 1 }]);
  });

  it("a deliverer that dies mid-attempt: its lease runs out and the delivery is attempted again", async () => {
    const { ws, hook } = await subscribed(["contact.created"]);
    let now = Date.now();
    clockNow = () => now;
    const restore = (await import("@fluenzr/core/clock")).install(() => now);
    try {
      DeliveryQueue.install(undefined);
      await factory.contact(ws);
      // Claimed (leased) but never recorded: what a crash mid-attempt leaves.
      await Database.rows(sql`UPDATE webhook_delivery SET leased_until = ${new Date(now + 60_000)} WHERE subscription_id = ${hook.id}`);
      DeliveryQueue.install(memoryDeliveryQueue(queue));
      expect(await Deliverer.sweep({ freshMs: 0 })).toBe(0);
      now += 61_000;
      expect(await Deliverer.sweep({ freshMs: 0 })).toBe(1);
      await deliver();
      expect(await deliveries(hook.id)).toMatchObject([{ status: "succeeded", attempts: 1 }]);
    } finally {
      restore();
    }
  });
});

describe("delivery rules", () => {
  async function withClock<T>(cb: (advance: (ms: number) => void) => Promise<T>): Promise<T> {
    let now = Date.parse("2026-03-02T09:00:00Z");
    clockNow = () => now;
    const restore = (await import("@fluenzr/core/clock")).install(() => now);
    try {
      return await cb((ms) => {
        now += ms;
      });
    } finally {
      restore();
    }
  }

  it("5xx is retried after 1 min, 5 min, 30 min and 2 h, then failed; every attempt signed the same event", async () => {
    await withClock(async (advance) => {
      const { ws, hook } = await subscribed(["contact.created"]);
      receiver.respond(500);
      await factory.contact(ws);
      await deliver();
      expect(receiver.received).toHaveLength(1);
      let [row] = await deliveries(hook.id);
      expect(row).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500 });
      // Not before its time.
      advance(50_000);
      await deliver();
      await Deliverer.sweep({ freshMs: 0 }).then(deliver);
      expect(receiver.received).toHaveLength(1);
      for (const [wait, attempts] of [
        [70_000, 2],
        [5.6 * 60_000, 3],
        [33 * 60_000, 4],
        [2.2 * 3600_000, 5],
      ] as const) {
        advance(wait);
        await Deliverer.sweep({ freshMs: 0 });
        await deliver();
        expect(receiver.received).toHaveLength(attempts);
      }
      [row] = await deliveries(hook.id);
      expect(row).toMatchObject({ status: "failed", attempts: 5, last_status_code: 500 });
      advance(24 * 3600_000);
      await Deliverer.sweep({ freshMs: 0 });
      await deliver();
      expect(receiver.received).toHaveLength(5);
      expect(new Set(receiver.received.map((r) => r.headers["x-fluenzr-event-id"])).size).toBe(1);
      expect(receiver.received.every((r) => verifies(r, hook.secret))).toBe(true);
    });
  });

  it("a 400 is final: no retry; the answer's first 1 KB is kept", async () => {
    await withClock(async (advance) => {
      const { ws, hook } = await subscribed(["contact.created"]);
      receiver.respond(() => ({ status: 400, body: "x".repeat(5000) }));
      await factory.contact(ws);
      await deliver();
      advance(3 * 3600_000);
      await Deliverer.sweep({ freshMs: 0 });
      await deliver();
      expect(receiver.received).toHaveLength(1);
      const page = await ws.as(() => Deliveries.list(hook.id, { page: 1, perPage: 20 }));
      expect(page.data[0]).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 400, nextAttemptAt: null, deliveredAt: null });
      expect(page.data[0]!.responseBodyPreview).toHaveLength(1024);
    });
  });

  it("a 410 disables the subscription, with the reason; nothing more is written for it", async () => {
    const { ws, hook } = await subscribed(["contact.created"]);
    receiver.respond(410);
    await factory.contact(ws);
    await deliver();
    const after = await ws.as(() => Subscriptions.mustExist(hook.id));
    expect(after).toMatchObject({ enabled: false, disabledReason: expect.stringContaining("410 Gone") });
    expect(await deliveries(hook.id)).toMatchObject([{ status: "failed", attempts: 1, last_status_code: 410 }]);
    await factory.contact(ws);
    await deliver();
    expect(receiver.received).toHaveLength(1);
    expect(await deliveries(hook.id)).toHaveLength(1);
  });

  it("only failures for 24 hours, 20 or more: disabled", async () => {
    await withClock(async (advance) => {
      const { ws, hook } = await failedTwentyTimes();
      expect((await ws.as(() => Subscriptions.mustExist(hook.id))).enabled).toBe(true);
      advance(24 * 3600_000 + 1000);
      await Deliverer.sweep({ freshMs: 0 });
      await deliver();
      const after = await ws.as(() => Subscriptions.mustExist(hook.id));
      expect(after).toMatchObject({ enabled: false, disabledReason: expect.stringContaining("24 hours") });
    });
  });

  it("a success in between resets the count", async () => {
    await withClock(async (advance) => {
      const { ws, hook } = await failedTwentyTimes();
      advance(12 * 3600_000);
      receiver.respond(200);
      await factory.contact(ws);
      await deliver();
      receiver.respond(503);
      advance(12 * 3600_000 + 1000);
      await Deliverer.sweep({ freshMs: 0 });
      await deliver();
      expect((await ws.as(() => Subscriptions.mustExist(hook.id))).enabled).toBe(true);
    });
  });

  it("at most 8 attempts in flight to one endpoint, however many are queued", async () => {
    const { ws, hook } = await subscribed(["contact.created"]);
    receiver.respond(() => ({ status: 200, delayMs: 50 }));
    receiver.maxInFlight = 0;
    for (let i = 0; i < 40; i++) await factory.contact(ws);
    await queue.drain(Deliverer.handle, { concurrency: 4, batchSize: 10 });
    expect(receiver.received).toHaveLength(40);
    expect(receiver.maxInFlight).toBe(8);
    expect((await deliveries(hook.id)).every((d) => d.status === "succeeded")).toBe(true);
  });

  it("redirects are not followed; timeouts and refused connections are retried", async () => {
    const { ws, hook } = await subscribed(["contact.created"]);
    receiver.respond(() => ({ status: 302, body: "moved" }));
    await factory.contact(ws);
    await deliver();
    expect(await deliveries(hook.id)).toMatchObject([{ status: "failed", last_status_code: 302 }]);

    const dead = await ws.as(() => Subscriptions.create({ url: "http://127.0.0.1:9/hook", events: ["contact.created"] }));
    await factory.contact(ws);
    await deliver();
    const [row] = await Database.rows<{ status: string; last_error: string }>(
      sql`SELECT status, last_error FROM webhook_delivery WHERE subscription_id = ${dead.id}`,
    );
    expect(row).toMatchObject({ status: "pending", last_error: expect.stringMatching(/^connection failed/) });
  });

  it("deployed, a subscription's URL that now points at a private address is refused at delivery, not called", async () => {
    const { ws, hook } = await subscribed(["contact.created"]);
    Address.install("deployed");
    try {
      await factory.contact(ws);
      await deliver();
    } finally {
      Address.install("local");
    }
    expect(receiver.received).toHaveLength(0);
    const [row] = await Database.rows<{ status: string; last_error: string }>(
      sql`SELECT status, last_error FROM webhook_delivery WHERE subscription_id = ${hook.id}`,
    );
    expect(row).toMatchObject({ status: "failed", last_error: expect.stringContaining("URL refused") });
  });

  it("the connection's own lookup refuses names resolving to private addresses (DNS rebinding)", async () => {
    Address.install("deployed");
    try {
      const error = await new Promise<Error | null>((resolve) =>
        Address.guardedLookup("localhost", { family: 0 }, (err) => resolve(err as Error | null)),
      );
      expect(error?.message).toMatch(/refused: localhost resolves to .*(private|loopback)/);
    } finally {
      Address.install("local");
    }
  });
});
