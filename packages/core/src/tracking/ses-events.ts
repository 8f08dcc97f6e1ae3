import { sql } from "drizzle-orm";
import * as v from "valibot";
import * as Activity from "../activity";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Log from "../log";
import * as Message from "../message";
import { applyMilestone, applyMilestones, type FastEvent, type FastMilestone, type FastResult, Machine } from "../message";
import * as Evidence from "../sending/evidence";
import { settleSent } from "../sending/progress";
import * as Guard from "./guard";
import { finishSequence, type MessageRef, reach, suppress } from "./state";

/**
 * SES event records (the JSON inside an SNS notification's `Message`), applied to the email they
 * belong to: found by the `message` tag the sender set, checked against SES's message id. Each
 * is applied once (its provider identity is unique in the activity feed), in one transaction
 * with its counters, and in any order with the same result.
 */

const tags = v.optional(v.record(v.string(), v.array(v.string())), {});
const timestamp = v.pipe(v.string(), v.isoTimestamp());
const mail = v.object({ messageId: v.pipe(v.string(), v.nonEmpty()), timestamp, tags });
/** A text field SES may leave out. */
const maybe = v.optional(v.string());

export const sesEventSchema = v.variant("eventType", [
  v.object({ eventType: v.literal("Send"), mail, send: v.optional(v.unknown()) }),
  v.object({
    eventType: v.literal("Delivery"),
    mail,
    delivery: v.object({ timestamp, processingTimeMillis: v.optional(v.number()), smtpResponse: maybe, reportingMTA: maybe }),
  }),
  v.object({
    eventType: v.literal("Open"),
    mail,
    open: v.object({ timestamp, ipAddress: maybe, userAgent: maybe }),
  }),
  v.object({
    eventType: v.literal("Click"),
    mail,
    click: v.object({ timestamp, link: v.optional(v.string(), ""), ipAddress: maybe, userAgent: maybe, linkTags: v.optional(v.unknown()) }),
  }),
  v.object({
    eventType: v.literal("Bounce"),
    mail,
    bounce: v.object({
      timestamp,
      bounceType: v.string(),
      bounceSubType: maybe,
      feedbackId: maybe,
      bouncedRecipients: v.optional(v.array(v.object({ emailAddress: maybe, status: maybe, diagnosticCode: maybe, action: maybe })), []),
    }),
  }),
  v.object({
    eventType: v.literal("Complaint"),
    mail,
    complaint: v.object({ timestamp, complaintFeedbackType: maybe, feedbackId: maybe, userAgent: maybe }),
  }),
  v.object({ eventType: v.literal("Reject"), mail, reject: v.object({ reason: v.optional(v.string(), "rejected") }) }),
  v.object({
    eventType: v.literal("Rendering Failure"),
    mail,
    failure: v.object({ errorMessage: v.optional(v.string(), "rendering failure") }),
  }),
  v.object({
    eventType: v.literal("DeliveryDelay"),
    mail,
    deliveryDelay: v.object({ timestamp, delayType: maybe, expirationTime: maybe }),
  }),
  v.object({ eventType: v.literal("Subscription"), mail, subscription: v.optional(v.unknown()) }),
]);

export type SesEvent = v.InferOutput<typeof sesEventSchema>;

export type Applied = "applied" | "duplicate" | "unmatched" | "ignored";

/** The events SES stamps with when they happened, in a field named after the type (`Delivery` → `delivery`). */
const STAMPED = new Set(["Delivery", "Open", "Click", "Bounce", "Complaint", "DeliveryDelay"]);

/** The part of an event SES stamps with when it happened (`delivery`, `open`, …); Send, Reject, Rendering Failure and Subscription have none. */
function stamped(event: SesEvent): { timestamp: string; feedbackId?: string } | undefined {
  if (!STAMPED.has(event.eventType)) return undefined;
  const field = event.eventType[0]!.toLowerCase() + event.eventType.slice(1);
  return (event as unknown as Record<string, { timestamp: string; feedbackId?: string } | undefined>)[field];
}

/**
 * The provider's identity of an event: the same event delivered again has the same key. The type
 * and the moment; a click also its link; a bounce or complaint its feedback id when SES gives one.
 */
export function providerKey(event: SesEvent): string {
  const key = `ses:${event.mail.messageId}:${event.eventType}`;
  const part = stamped(event);
  if (!part) return key;
  if (event.eventType === "Click") return `${key}:${part.timestamp}:${event.click.link}`;
  return `${key}:${part.feedbackId ?? part.timestamp}`;
}

/** The email an event is about: by our tag, confirmed by SES's id; or by SES's id alone. */
function findMessage(event: SesEvent): Promise<Message.Found | undefined> {
  const tagged = event.mail.tags.message?.[0];
  const sesMessageId = event.mail.messageId;
  return Message.find(tagged ? { id: tagged, sesMessageId } : { sesMessageId });
}

export async function recordUnmatched(providerKey: string, kind: string, reason: string, payload: unknown): Promise<void> {
  await Database.rows(sql`
    INSERT INTO unmatched_event (provider_key, kind, reason, payload) VALUES (${providerKey}, ${kind}, ${reason}, ${JSON.stringify(payload)}::jsonb)
    ON CONFLICT (provider_key) DO NOTHING`);
}

function eventTime(event: SesEvent): Date {
  return new Date(stamped(event)?.timestamp ?? event.mail.timestamp);
}

const MILESTONES: Partial<Record<SesEvent["eventType"], FastMilestone>> = { Delivery: "delivered", Open: "opened", Click: "clicked" };

function metadataOf(event: SesEvent): Record<string, unknown> {
  switch (event.eventType) {
    case "Delivery":
      return { smtpResponse: event.delivery.smtpResponse, processingTimeMillis: event.delivery.processingTimeMillis };
    case "Open":
      return { userAgent: event.open.userAgent, ip: event.open.ipAddress };
    case "Click":
      return { userAgent: event.click.userAgent, ip: event.click.ipAddress, link: event.click.link, linkTags: event.click.linkTags };
    default:
      return {};
  }
}

/** What an open or click shows by itself (user agent, address): the first half of its judgement. */
function verdictOf(event: SesEvent): Machine.Verdict | undefined {
  if (event.eventType === "Open") return Machine.classifyOpen(event.open);
  if (event.eventType === "Click") return Machine.classifyClick(event.click);
  return undefined;
}

/** An SES event record read: the event, or what its reading decided already. */
function read(input: unknown): SesEvent | Applied {
  const parsed = v.safeParse(sesEventSchema, input);
  if (!parsed.success) {
    const type = (input as { eventType?: unknown } | null)?.eventType;
    Log.warn("SES event not understood; acknowledged", { eventType: typeof type === "string" ? type : undefined });
    return "ignored";
  }
  if (parsed.output.eventType === "Subscription") return "ignored";
  return parsed.output;
}

/** The fast path's statement for a delivery, open or click (message/milestone), or undefined for the other types and probes. */
function fastEventOf(event: SesEvent): FastEvent | undefined {
  const milestone = MILESTONES[event.eventType];
  if (!milestone || event.mail.tags.probe?.[0]) return undefined;
  return {
    messageId: event.mail.tags.message?.[0],
    sesMessageId: event.mail.messageId,
    milestone,
    at: eventTime(event),
    metadata: metadataOf(event),
    providerKey: providerKey(event),
    verdict: verdictOf(event),
  };
}

/** Apply one SES event record (already authenticated). */
export async function applySesEvent(input: unknown): Promise<Applied> {
  const event = read(input);
  if (typeof event === "string") return event;
  const fast = fastEventOf(event);
  return applyRest(event, fast ? await applyMilestone(fast) : undefined);
}

/** One event of a batch could not be applied: what it threw (the others are not affected). */
export interface Failed {
  error: unknown;
}

/**
 * Apply SES event records delivered together (an SQS batch, functions/ses-events.ts): every
 * delivery, open and click of the batch in ONE round trip and one commit (message/milestone's
 * `applyMilestones`), then the rest one by one as `applySesEvent` would. The result of each, in
 * order; an event that throws is `Failed` alone, to be delivered again (events are idempotent).
 */
export async function applySesEvents(inputs: readonly unknown[]): Promise<Array<Applied | Failed>> {
  const events = inputs.map(read);
  const fast = events.map((event) => (typeof event === "string" ? undefined : fastEventOf(event)));
  const applied = await applyMilestones(fast.filter((f) => f !== undefined));
  let next = 0;
  const results: Array<Applied | Failed> = [];
  for (const [index, event] of events.entries()) {
    // The fast path's results come in the order of its events.
    const settled = fast[index] ? applied[next++]! : undefined;
    if (typeof event === "string") results.push(event);
    else if (typeof settled === "object") results.push(settled);
    else results.push(await applyRest(event, settled).catch((error: unknown) => ({ error })));
  }
  return results;
}

/** An event past the fast path: a probe, a type it does not take, or one it left ("unmatched", "slow"). */
async function applyRest(event: SesEvent, fast: FastResult | undefined): Promise<Applied> {
  if (fast === "applied" || fast === "duplicate") return fast;
  if (event.eventType === "Subscription") return "ignored";
  const probe = event.mail.tags.probe?.[0];
  if (probe) {
    // A probe to SES's mailbox simulator: only its `Send` matters (evidence, see sending/evidence).
    if (event.eventType !== "Send") return "ignored";
    return (await Evidence.probeSeen(probe)) ? "applied" : "unmatched";
  }
  const key = providerKey(event);
  // "unmatched" and "slow" (an email still `sending`) from the fast path take the general way.
  const found = await findMessage(event);
  if (!found) {
    await recordUnmatched(key, `ses:${event.eventType}`, "no email matches its tags and SES message id", event);
    return "unmatched";
  }
  const message: MessageRef = found;
  const at = eventTime(event);

  if (event.eventType === "Send") {
    // SES accepted the email: settles one whose fate the sender could not learn. Either way,
    // when it reached us is evidence for earlier emails of unknown fate (sending/evidence).
    const received = Clock.now();
    if (found.status === "sending") {
      const settled = await settleSent(found.id, event.mail.messageId, new Date(event.mail.timestamp), received);
      if (settled) return "applied";
    }
    return (await Message.sawSendEvent(found.id, received)) ? "applied" : "duplicate";
  }

  const touched = new Set<string>();
  const outcome = await Database.transaction(async () => {
    // A hard bounce or a complaint is checked against the campaign's limits: its row is locked
    // first (see tracking/guard).
    const guarded =
      (event.eventType === "Bounce" && event.bounce.bounceType === "Permanent") || event.eventType === "Complaint"
        ? await Guard.lock(message)
        : undefined;
    // Any event but a refusal proves SES accepted the email.
    if (found.status === "sending" && event.eventType !== "Reject" && event.eventType !== "Rendering Failure") {
      await settleSent(found.id, event.mail.messageId, new Date(event.mail.timestamp));
    }
    const record = (type: Activity.EventType, metadata: Record<string, unknown>) =>
      Activity.recordAbout(message, { type, occurredAt: at, metadata, providerKey: key });
    // A hard bounce or a complaint: the milestone, the sequence over, the address suppressed, the guard's check.
    const stop = async (milestone: "bounced" | "complained", status: "bounced" | "unsubscribed") => {
      await reach(message, milestone, at);
      await finishSequence(message.campaignId, message.contactId, status, at);
      for (const id of await suppress(message, milestone, status, at)) touched.add(id);
      touched.add(message.campaignId);
      await Guard.check(guarded, message, key);
      return "applied" as const;
    };
    switch (event.eventType) {
      case "Delivery": {
        if (!(await record("delivered", metadataOf(event)))) return "duplicate";
        await reach(message, "delivered", at);
        return "applied";
      }
      case "Open":
      case "Click": {
        const type = event.eventType === "Open" ? "opened" : "clicked";
        const metadata = metadataOf(event);
        const reason = await Message.judge(message.id, type, at, verdictOf(event)!, metadata.link as string | undefined);
        if (!(await record(type, { ...metadata, ...(reason ? { machine: true, machineReason: reason } : { machine: false }) })))
          return "duplicate";
        await reach(message, type, at);
        await reach(message, reason ? `machine_${type}` : `human_${type}`, at);
        return "applied";
      }
      case "Bounce": {
        const hard = event.bounce.bounceType === "Permanent";
        const recipient = event.bounce.bouncedRecipients[0];
        const metadata = {
          bounceType: hard ? "hard" : "soft",
          bounceSubType: event.bounce.bounceSubType,
          sesBounceType: event.bounce.bounceType,
          reason: recipient?.diagnosticCode,
          status: recipient?.status,
        };
        if (!(await record("bounced", metadata))) return "duplicate";
        // A soft bounce is recorded only: SES keeps trying, the address may well work.
        if (!hard) return "applied";
        return stop("bounced", "bounced");
      }
      case "Complaint": {
        if (!(await record("complained", { feedbackType: event.complaint.complaintFeedbackType, userAgent: event.complaint.userAgent })))
          return "duplicate";
        return stop("complained", "unsubscribed");
      }
      case "Reject":
      case "Rendering Failure": {
        const reason =
          event.eventType === "Reject"
            ? `SES rejected the email: ${event.reject.reason}`
            : `SES could not render the email: ${event.failure.errorMessage}`;
        if (!(await record("failed", { reason }))) return "duplicate";
        await Message.refused(message.id, reason);
        await reach(message, "failed", at);
        await finishSequence(message.campaignId, message.contactId, "failed", at, reason);
        touched.add(message.campaignId);
        return "applied";
      }
      case "DeliveryDelay": {
        if (!(await record("delayed", { delayType: event.deliveryDelay.delayType, expirationTime: event.deliveryDelay.expirationTime })))
          return "duplicate";
        return "applied";
      }
    }
  });
  for (const campaignId of touched) await completeIfDone(campaignId);
  return outcome;
}
