import { createHmac, timingSafeEqual } from "node:crypto";
import * as Clock from "@fluenzr/core/clock";
import { Address, Deliverer, DeliveryQueue } from "@fluenzr/core/webhook";
import { createApp } from "@fluenzr/functions/api/app";
import {
  type ApiClient,
  apiWorkspaces,
  expectAuthFailures,
  expectError,
  expectOk,
  expectPage,
  expectValidation,
  type factory,
  freshApi,
  ISO_UTC,
  type Received,
  type Receiver,
  startReceiver,
  useTestDatabase,
} from "@fluenzr/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

/** /v1/webhooks: subscriptions, secrets, the test event and the delivery log. */

useTestDatabase();

const app = createApp();
let ws: factory.TestWorkspace;
let other: factory.TestWorkspace;
let api: ApiClient;
let receiver: Receiver;

let restoreClock: () => void;

beforeAll(async () => {
  // Test files share processes: whatever an earlier file left installed (a virtual clock, a queue) is replaced.
  restoreClock = Clock.install(() => Date.now());
  DeliveryQueue.install(undefined);
  ({ ws, other, api } = await apiWorkspaces(app));
  Address.install("local");
  receiver = await startReceiver();
});
afterAll(async () => {
  Address.install("deployed");
  restoreClock();
  await receiver.close();
});
afterEach(() => {
  Address.install("local");
  receiver.respond(200);
});

/** Independent of the code under test: node:crypto on the raw body, as a receiver would. */
function verify(request: Received, secret: string): boolean {
  const timestamp = request.headers["x-fluenzr-timestamp"] as string;
  const expected = createHmac("sha256", secret).update(`${timestamp}.${request.raw}`).digest();
  const values = String(request.headers["x-fluenzr-signature"]).split(",");
  return values.some((value) => {
    const hex = value.trim().replace(/^sha256=/, "");
    const given = Buffer.from(hex, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const FIELDS = ["createdAt", "description", "disabledReason", "enabled", "events", "id", "updatedAt", "url"];

describe("POST /v1/webhooks", () => {
  it("subscribes a URL: 201 with the secret, shown only here", async () => {
    const { api } = await freshApi(app);
    const created = expectOk(
      await api.post("/v1/webhooks", { url: receiver.url, events: ["email.replied", "*"], description: " CRM " }),
      201,
    );
    expect(Object.keys(created).sort()).toEqual([...FIELDS, "secret"].sort());
    expect(created).toMatchObject({
      id: expect.stringMatching(/^whk_[0-9a-z]{26}$/),
      url: receiver.url,
      events: ["email.replied", "*"],
      description: "CRM",
      enabled: true,
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{32}$/),
      createdAt: expect.stringMatching(ISO_UTC),
    });
    const got = expectOk(await api.get(`/v1/webhooks/${created.id}`));
    expect(Object.keys(got).sort()).toEqual(FIELDS);
    const [listed] = expectPage(await api.get("/v1/webhooks"), { page: 1, perPage: 20, total: 1, totalPages: 1 });
    expect(listed).toEqual(got);
  });

  it("refuses unknown event types, naming them, and other invalid fields with their path", async () => {
    expectValidation(await api.post("/v1/webhooks", { url: receiver.url, events: ["email.sent", "email.exploded", "nope"] }), {
      events: expect.stringContaining("unknown event types: email.exploded, nope"),
    });
    expectValidation(await api.post("/v1/webhooks", { events: ["*"] }), { url: "is required" });
    expectValidation(await api.post("/v1/webhooks", { url: receiver.url, events: [] }), { events: "must list at least one event type" });
    expectValidation(await api.post("/v1/webhooks", { url: receiver.url, events: "email.sent" }), ["events"]);
    expectValidation(await api.post("/v1/webhooks", { url: "not a url", events: ["*"] }), { url: "must be an absolute URL" });
    expectValidation(await api.post("/v1/webhooks", { url: receiver.url, events: ["*"], description: 5 }), ["description"]);
  });

  it("deployed, only https to public addresses: loopback, private, link-local and metadata addresses are refused", async () => {
    Address.install("deployed");
    for (const url of [
      receiver.url,
      "https://127.0.0.1/hook",
      "https://10.1.2.3/hook",
      "https://192.168.1.10/",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/hook",
      "https://[fd00:ec2::254]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[::ffff:a9fe:a9fe]/latest",
      "https://[::127.0.0.1]/hook",
      "https://2130706433/hook",
      "https://localhost/hook",
      "http://93.184.216.34/hook",
    ]) {
      const res = await api.post("/v1/webhooks", { url, events: ["*"] });
      expect(res.status, url).toBe(400);
      expect(res.body.error.details[0].path, url).toBe("url");
    }
    expectOk(await api.post("/v1/webhooks", { url: "https://93.184.216.34/hook", events: ["*"] }), 201);
  });

  it("401 without a valid key", async () => {
    await expectAuthFailures(api, "POST", "/v1/webhooks", {
      ws: ws,
      body: { url: receiver.url, events: ["*"] },
    });
    await expectAuthFailures(api, "GET", "/v1/webhooks", { ws: ws });
  });
});

describe("/v1/webhooks/:id", () => {
  it("PUT changes url, events, description and enabled; disabling by hand says so", async () => {
    const hook = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["email.sent"] }), 201);
    const updated = expectOk(await api.put(`/v1/webhooks/${hook.id}`, { events: ["campaign.started"], description: "x", enabled: false }));
    expect(updated).toMatchObject({
      events: ["campaign.started"],
      description: "x",
      enabled: false,
      disabledReason: "disabled by the user",
    });
    const again = expectOk(await api.put(`/v1/webhooks/${hook.id}`, { enabled: true }));
    expect(again).toMatchObject({ enabled: true, disabledReason: null });
    expectValidation(await api.put(`/v1/webhooks/${hook.id}`, { events: ["bogus"] }), { events: expect.stringContaining("bogus") });
    expectValidation(await api.put(`/v1/webhooks/${hook.id}`, { enabled: "yes" }), { enabled: "must be true or false" });
  });

  it("DELETE removes it", async () => {
    const hook = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["*"] }), 201);
    expect(expectOk(await api.delete(`/v1/webhooks/${hook.id}`))).toEqual({ id: hook.id, deleted: true });
    expectError(await api.get(`/v1/webhooks/${hook.id}`), 404, "NOT_FOUND");
  });

  it("another workspace's webhook and deliveries are 404 on every operation", async () => {
    const theirs = await other.as(() =>
      import("@fluenzr/core/webhook").then((m) => m.Subscriptions.create({ url: receiver.url, events: ["*"] })),
    );
    const test = await other.as(() => Deliverer.test(theirs.id));
    const base = `/v1/webhooks/${theirs.id}`;
    for (const [method, path, body] of [
      ["GET", base],
      ["PUT", base, { enabled: false }],
      ["DELETE", base],
      ["POST", `${base}/rotate-secret`],
      ["POST", `${base}/test`],
      ["GET", `${base}/deliveries`],
      ["GET", `${base}/deliveries/${test.deliveryId}`],
      ["POST", `${base}/deliveries/${test.deliveryId}/retry`],
    ] as const) {
      expectError(await api.request(method, path, { body }), 404, "NOT_FOUND");
    }
    // Their delivery under one of our webhooks is not found either.
    const mine = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["*"] }), 201);
    expectError(await api.get(`/v1/webhooks/${mine.id}/deliveries/${test.deliveryId}`), 404, "NOT_FOUND");
    expectError(await api.get("/v1/webhooks/whk_nope"), 404, "NOT_FOUND");
    expectError(await api.get("/v1/webhooks/con_abc"), 404, "NOT_FOUND");
  });

  it("401 on each operation", async () => {
    const hook = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["*"] }), 201);
    for (const [method, path] of [
      ["GET", `/v1/webhooks/${hook.id}`],
      ["PUT", `/v1/webhooks/${hook.id}`],
      ["DELETE", `/v1/webhooks/${hook.id}`],
      ["POST", `/v1/webhooks/${hook.id}/rotate-secret`],
      ["POST", `/v1/webhooks/${hook.id}/test`],
      ["GET", `/v1/webhooks/${hook.id}/deliveries`],
    ] as const) {
      await expectAuthFailures(api, method, path, { ws: ws });
    }
  });
});

describe("test event, rotation and the delivery log", () => {
  it("POST /test delivers a signed webhook.test now and answers the outcome", async () => {
    const { api } = await freshApi(app);
    const hook = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["email.opened"] }), 201);
    const before = receiver.received.length;
    const result = expectOk(await api.post(`/v1/webhooks/${hook.id}/test`));
    expect(result).toEqual({
      deliveryId: expect.stringMatching(/^whd_/),
      eventId: expect.stringMatching(/^evt_/),
      success: true,
      statusCode: 200,
      durationMs: expect.any(Number),
      error: null,
    });
    const request = receiver.received[before]!;
    expect(verify(request, hook.secret)).toBe(true);
    expect(verify(request, "whsec_wrong")).toBe(false);
    expect(request.headers["user-agent"]).toBe("FluenzR-Webhooks/1");
    expect(request.headers["x-fluenzr-event-id"]).toBe(result.eventId);
    expect(request.headers["x-fluenzr-event-type"]).toBe("webhook.test");
    expect(Math.abs(Number(request.headers["x-fluenzr-timestamp"]) - Date.now() / 1000)).toBeLessThan(10);
    const body = JSON.parse(request.raw);
    expect(body).toMatchObject({
      id: result.eventId,
      type: "webhook.test",
      timestamp: expect.stringMatching(ISO_UTC),
      data: { webhook: { id: hook.id } },
    });

    receiver.respond(503);
    const failed = expectOk(await api.post(`/v1/webhooks/${hook.id}/test`));
    expect(failed).toMatchObject({ success: false, statusCode: 503, error: null });
  });

  it("rotation: a new secret; both sign for 24 hours, newest first", async () => {
    const { api } = await freshApi(app);
    const hook = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["*"] }), 201);
    const rotated = expectOk(await api.post(`/v1/webhooks/${hook.id}/rotate-secret`));
    expect(rotated.secret).not.toBe(hook.secret);
    expect(new Date(rotated.previousSecretExpiresAt).getTime() - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    const before = receiver.received.length;
    expectOk(await api.post(`/v1/webhooks/${hook.id}/test`));
    const request = receiver.received[before]!;
    const values = String(request.headers["x-fluenzr-signature"]).split(",");
    expect(values).toHaveLength(2);
    const [newest, previous] = values.map((value) => ({ ...request, headers: { ...request.headers, "x-fluenzr-signature": value } }));
    expect(verify(newest!, rotated.secret)).toBe(true);
    expect(verify(previous!, hook.secret)).toBe(true);
  });

  it("deliveries: a contact created emits contact.created; listed newest first, filtered, with the payload, and retried", async () => {
    const { w, api } = await freshApi(app);
    const hook = expectOk(await api.post("/v1/webhooks", { url: receiver.url, events: ["contact.created", "contact.updated"] }), 201);
    const contact = expectOk(await api.post("/v1/contacts", { email: "ada@example.org", firstName: "Ada" }), 201);
    expectOk(await api.put(`/v1/contacts/${contact.id}`, { lastName: "Lovelace" }));
    expectOk(await api.delete(`/v1/contacts/${contact.id}`)); // contact.deleted: not subscribed
    await w.as(() => Deliverer.sweep({ freshMs: 0 }));
    const page = expectPage(await api.get(`/v1/webhooks/${hook.id}/deliveries`), { page: 1, perPage: 20, total: 2, totalPages: 1 });
    expect(page.map((d) => d.eventType)).toEqual(["contact.updated", "contact.created"]);
    expect(page[1]).toMatchObject({
      status: "succeeded",
      attempts: 1,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
      responseBodyPreview: "ok",
    });
    const created = expectPage(await api.get(`/v1/webhooks/${hook.id}/deliveries?eventType=contact.created&status=succeeded`), {
      page: 1,
      perPage: 20,
      total: 1,
      totalPages: 1,
    });
    const one = expectOk(await api.get(`/v1/webhooks/${hook.id}/deliveries/${created[0].id}`));
    expect(one.payload).toMatchObject({
      id: one.eventId,
      type: "contact.created",
      workspaceId: w.id,
      data: { contact: { id: contact.id, email: "ada@example.org", firstName: "Ada" } },
    });
    expectValidation(await api.get(`/v1/webhooks/${hook.id}/deliveries?status=lost`), ["status"]);
    expectValidation(await api.get(`/v1/webhooks/${hook.id}/deliveries?eventType=email.exploded`), ["eventType"]);

    const before = receiver.received.length;
    const retried = expectOk(await api.post(`/v1/webhooks/${hook.id}/deliveries/${one.id}/retry`));
    expect(retried).toMatchObject({ id: one.id, status: "succeeded", attempts: 2 });
    expect(receiver.received.length).toBe(before + 1);
    expect(receiver.received[before]!.headers["x-fluenzr-event-id"]).toBe(one.eventId);
    expectError(await api.post(`/v1/webhooks/${hook.id}/deliveries/whd_missing/retry`), 404, "NOT_FOUND");
  });
});
