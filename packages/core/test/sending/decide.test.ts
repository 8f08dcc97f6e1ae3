import type { SendJob } from "@fluenzr/core/queue";
import { answerOf } from "@fluenzr/core/sending/branch";
import { decide, type Situation, type Step } from "@fluenzr/core/sending/decide";
import { MissingVariableError } from "@fluenzr/core/template";
import type * as Workflow from "@fluenzr/core/workflow";
import { SEED_WORKFLOW } from "@fluenzr/testing/workflows";
import { describe, expect, it } from "vitest";

/** The sender's decisions, without a database: one per job, in order. */

const job = (contactId: string, over: Partial<SendJob> = {}): SendJob => ({
  v: 1,
  campaignId: "cmp_1",
  contactId,
  nodeId: "node_2",
  claimId: `claim_${contactId}`,
  ...over,
});

const step = (contactId: string, over: Partial<Step> = {}): Step => ({
  progress: { contactId, status: "pending", currentNodeId: "node_2", claimId: `claim_${contactId}`, emailAccountId: null },
  contact: {
    email: `${contactId}@example.com`,
    firstName: "Ada",
    lastName: null,
    company: null,
    jobTitle: null,
    phone: null,
    website: null,
    customFields: {},
    status: "active",
    timezone: null,
  },
  suppressed: false,
  message: null,
  previous: null,
  ...over,
});

const situation = (over: Partial<Situation> = {}): Situation => ({
  active: true,
  windowOpen: true,
  room: 10,
  accounts: [{ id: "acc_1", usable: true, remaining: 100, now: 100 }],
  workflow: SEED_WORKFLOW as Situation["workflow"],
  ...over,
});

const render = (j: SendJob) => `email to ${j.contactId}`;
const kinds = (s: Situation, jobs: SendJob[], steps: Step[], r: (j: SendJob) => string = render) =>
  decide(s, jobs, new Map(steps.map((x) => [x.progress.contactId, x])), r).map(({ decision }) => decision.kind);

describe("decide", () => {
  it("sends a due step of an active campaign in its window", () => {
    const [first] = decide(situation(), [job("a")], new Map([["a", step("a")]]), render);
    expect(first!.decision).toMatchObject({ kind: "send", email: "email to a", node: { id: "node_2", type: "email" } });
  });

  it("leaves jobs that no longer match their step (missing, another claim, another node, finished)", () => {
    const steps = [
      step("b", { progress: { contactId: "b", status: "pending", currentNodeId: "node_2", claimId: "other", emailAccountId: null } }),
      step("c", { progress: { contactId: "c", status: "pending", currentNodeId: "node_4", claimId: "claim_c", emailAccountId: null } }),
      step("d", { progress: { contactId: "d", status: "completed", currentNodeId: "node_2", claimId: "claim_d", emailAccountId: null } }),
    ];
    expect(kinds(situation(), [job("a"), job("b"), job("c"), job("d")], steps)).toEqual(["stale", "stale", "stale", "stale"]);
  });

  it("answers a condition whatever the window and the room, but not while paused, nor for a contact who left", () => {
    const workflow = {
      ...SEED_WORKFLOW,
      nodes: [...SEED_WORKFLOW.nodes, { id: "cond", type: "condition", data: { event: "opened", withinDays: 2, businessDays: false } }],
    } as Situation["workflow"];
    const at = (id: string, over: Partial<Step> = {}) =>
      step(id, {
        progress: { contactId: id, status: "in_progress", currentNodeId: "cond", claimId: `claim_${id}`, emailAccountId: null },
        ...over,
      });
    const jobs = [job("a", { nodeId: "cond" }), job("b", { nodeId: "cond" })];
    const steps = [at("a"), at("b", { suppressed: true })];
    expect(kinds(situation({ workflow, windowOpen: false, room: 0 }), jobs, steps)).toEqual(["branch", "stop"]);
    expect(kinds(situation({ workflow, active: false }), jobs, steps)).toEqual(["defer", "defer"]);
  });

  it("defers everything while paused or outside the window", () => {
    expect(kinds(situation({ active: false }), [job("a")], [step("a")])).toEqual(["defer"]);
    expect(kinds(situation({ windowOpen: false }), [job("a")], [step("a")])).toEqual(["defer"]);
  });

  it("in contact timezone mode, asks each step's own window: defers the closed ones, sends the open ones", () => {
    const tokyo = step("a", { contact: { ...step("a").contact, timezone: "Asia/Tokyo" } });
    const lima = step("b", { contact: { ...step("b").contact, timezone: "America/Lima" } });
    const windowOpen = (s: Step) => s.contact.timezone === "Asia/Tokyo";
    expect(kinds(situation({ windowOpen }), [job("a"), job("b")], [tokyo, lima])).toEqual(["send", "defer"]);
  });

  it("stops contacts that may not be emailed, with the status their sequence ends in", () => {
    const bounced = step("a", { contact: { ...step("a").contact, status: "bounced" } });
    const complained = step("b", { contact: { ...step("b").contact, status: "complained" } });
    const listed = step("c", { suppressed: true });
    const [a, b, c] = decide(
      situation(),
      [job("a"), job("b"), job("c")],
      new Map([
        ["a", bounced],
        ["b", complained],
        ["c", listed],
      ]),
      render,
    );
    expect([a!.decision, b!.decision, c!.decision]).toEqual([
      { kind: "stop", status: "bounced" },
      { kind: "stop", status: "unsubscribed" },
      { kind: "stop", status: "unsubscribed" },
    ]);
  });

  it("never sends an email of the same node twice", () => {
    const sentAt = new Date("2026-01-12T09:00:00Z");
    const sent = step("a", { message: { id: "msg_1", status: "sent", sentAt, claimId: "old" } });
    const inFlight = step("b", { message: { id: "msg_2", status: "sending", sentAt: null, claimId: "claim_b" } });
    const expired = step("c", { message: { id: "msg_3", status: "sending", sentAt: null, claimId: "an expired claim" } });
    const refused = step("d", { message: { id: "msg_4", status: "failed", sentAt: null, claimId: "claim_d" } });
    const decisions = decide(
      situation(),
      [job("a"), job("b"), job("c"), job("d")],
      new Map([sent, inFlight, expired, refused].map((s) => [s.progress.contactId, s])),
      render,
    ).map(({ decision }) => decision);
    expect(decisions).toEqual([
      { kind: "advance", sentAt },
      { kind: "held" },
      { kind: "unknown" },
      { kind: "fail", reason: "SES rejected this email" },
    ]);
  });

  it("sends only as many as the room allows, in order, and defers the rest", () => {
    const jobs = ["a", "b", "c", "d"].map((id) => job(id));
    const withRoom = (room: number) =>
      kinds(
        situation({ room }),
        jobs,
        jobs.map((j) => step(j.contactId)),
      );
    expect(withRoom(2)).toEqual(["send", "send", "defer", "defer"]);
    expect(withRoom(0)).toEqual(["defer", "defer", "defer", "defer"]);
  });

  it("fails a contact whose email has a variable without value, without using room", () => {
    const jobs = [job("a"), job("b")];
    const render = (j: SendJob) => {
      if (j.contactId === "a") throw new MissingVariableError("company");
      return "ok";
    };
    const decisions = decide(situation({ room: 1 }), jobs, new Map(jobs.map((j) => [j.contactId, step(j.contactId)])), render);
    expect(decisions.map(({ decision }) => decision.kind)).toEqual(["fail", "send"]);
    expect(decisions[0]!.decision).toMatchObject({ kind: "fail", reason: expect.stringContaining("company") });
  });

  it("fails a step on a node that is not an email, and lets other render errors through", () => {
    expect(
      kinds(situation(), [job("a", { nodeId: "node_3" })], [step("a", { progress: { ...step("a").progress, currentNodeId: "node_3" } })]),
    ).toEqual(["fail"]);
    const broken = () => {
      throw new Error("boom");
    };
    expect(() => kinds(situation(), [job("a")], [step("a")], broken)).toThrow("boom");
  });

  describe("accounts", () => {
    const accounts = (...rooms: Array<[string, number, number?, boolean?]>) =>
      rooms.map(([id, remaining, now, usable]) => ({ id, usable: usable ?? true, remaining, now: now ?? remaining }));
    const assigned = (contactId: string, emailAccountId: string | null) =>
      step(contactId, { progress: { ...step(contactId).progress, emailAccountId } });
    const sendings = (s: Situation, steps: Step[]) =>
      decide(
        s,
        steps.map((x) => job(x.progress.contactId)),
        new Map(steps.map((x) => [x.progress.contactId, x])),
        render,
      ).map(({ decision }) => (decision.kind === "send" ? decision.sending.accountId : decision.kind));

    it("gives a new contact the account with the most remaining today, taking turns on ties", () => {
      const s = situation({ accounts: accounts(["a", 3], ["b", 5], ["c", 5]) });
      expect(
        sendings(
          s,
          ["w", "x", "y", "z"].map((id) => assigned(id, null)),
        ),
      ).toEqual(["b", "c", "b", "c"]);
      const even = situation({ accounts: accounts(["a", 9], ["b", 9], ["c", 9]) });
      expect(
        sendings(
          even,
          ["w", "x", "y"].map((id) => assigned(id, null)),
        ),
      ).toEqual(["a", "b", "c"]);
    });

    it("keeps a contact on its account; one at its cap or gap defers only its own contacts", () => {
      const s = situation({ accounts: accounts(["a", 0], ["b", 5, 1]) });
      expect(sendings(s, [assigned("x", "a"), assigned("y", "b"), assigned("z", "b"), assigned("w", null)])).toEqual([
        "defer",
        "b",
        "defer",
        "defer",
      ]);
    });

    it("moves a contact whose account left the campaign or is not usable, in a new thread", () => {
      const s = situation({ accounts: accounts(["a", 5, 5, false], ["b", 5]) });
      const previous = { id: "msg_1", nodeId: "node_2", emailAccountId: "a", subject: "Hello", sesMessageId: "ses-1" };
      const gone = step("x", { progress: { ...step("x").progress, emailAccountId: "z" }, previous: { ...previous, emailAccountId: "z" } });
      const unusable = step("y", { progress: { ...step("y").progress, emailAccountId: "a" }, previous });
      const decisions = decide(
        s,
        [job("x"), job("y")],
        new Map([
          ["x", gone],
          ["y", unusable],
        ]),
        render,
      );
      expect(decisions.map(({ decision }) => decision)).toMatchObject([
        { kind: "send", sending: { accountId: "b", reassignedFrom: "z", replyTo: null } },
        { kind: "send", sending: { accountId: "b", reassignedFrom: "a", replyTo: null } },
      ]);
    });

    it("threads a follow-up from the same account unless the node says thread: false", () => {
      const s = situation({ accounts: accounts(["a", 5]) });
      const previous = { id: "msg_1", nodeId: "node_2", emailAccountId: "a", subject: "Hello", sesMessageId: "ses-1" };
      const x = step("x", { progress: { ...step("x").progress, emailAccountId: "a" }, previous });
      const [threaded] = decide(s, [job("x")], new Map([["x", x]]), render);
      expect(threaded!.decision).toMatchObject({ kind: "send", sending: { accountId: "a", replyTo: previous } });
      const wf = structuredClone(SEED_WORKFLOW) as unknown as NonNullable<Situation["workflow"]>;
      for (const node of wf.nodes) if (node.type === "email") node.data.thread = false;
      const [fresh] = decide(situation({ accounts: s.accounts, workflow: wf }), [job("x")], new Map([["x", x]]), render);
      expect(fresh!.decision).toMatchObject({ kind: "send", sending: { accountId: "a", replyTo: null } });
    });
  });
});

describe("a condition's answer", () => {
  const opened = (withinDays: number, businessDays: boolean): Workflow.ConditionNode => ({
    id: "cond",
    type: "condition",
    data: { event: "opened", withinDays, businessDays },
  });
  const france = {
    sendDays: ["monday", "tuesday", "wednesday", "thursday", "friday"] as const,
    sendHoursStart: 9,
    sendHoursEnd: 18,
    timezone: "Europe/Paris",
    holidays: { country: "FR" },
  };
  // Reached on Wednesday 23 December 2026, 11:00 Paris; Christmas (Friday 25th) is a French holiday.
  const since = new Date("2026-12-23T10:00:00Z");

  it("counts business days as a business-day delay does: past weekends, holidays and skipped dates", () => {
    const now = new Date("2027-01-10T00:00:00Z");
    // 2 business days: Thursday 24, (Friday 25 Christmas, weekend), Monday 28.
    expect(answerOf(opened(2, true), since, null, now, france)).toEqual({ answer: "no", at: new Date("2026-12-28T10:00:00Z") });
    expect(answerOf(opened(2, true), since, null, now, { ...france, skipDates: ["2026-12-28"] })).toEqual({
      answer: "no",
      at: new Date("2026-12-29T10:00:00Z"),
    });
    // Calendar days count the holiday.
    expect(answerOf(opened(2, false), since, null, now, france)).toEqual({ answer: "no", at: new Date("2026-12-25T10:00:00Z") });
    // An open on the Saturday is within the 2 business days: "yes" at the open.
    const saturday = new Date("2026-12-26T15:00:00Z");
    expect(answerOf(opened(2, true), since, saturday, now, france)).toEqual({ answer: "yes", at: saturday });
    expect(answerOf(opened(2, false), since, saturday, now, france)).toEqual({ answer: "no", at: new Date("2026-12-25T10:00:00Z") });
  });

  it("waits until the deadline while nothing happened", () => {
    expect(answerOf(opened(2, true), since, null, new Date("2026-12-24T10:00:00Z"), france)).toEqual({
      waitUntil: new Date("2026-12-28T10:00:00Z"),
    });
  });
});
