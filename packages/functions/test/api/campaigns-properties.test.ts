import { createApp } from "@fluenzr/functions/api/app";
import {
  type ApiResponse,
  apiClient,
  DEFAULT_SETTINGS,
  expectEnvelope,
  factory,
  floor,
  runs,
  SEED_WORKFLOW,
  type Settings,
  useTestDatabase,
} from "@fluenzr/testing";
import fc from "fast-check";
import tzdata from "tzdata/timezone-data.json" with { type: "json" };
import { beforeAll, describe, expect, it } from "vitest";

/**
 * Property-based tests of the campaigns API: random settings and random workflow graphs thrown at
 * create and update, random bodies thrown at enrolment. Whatever the input, never a 500; a 400 is
 * always a VALIDATION_ERROR whose details carry paths; a workflow the API accepts is valid by an
 * oracle written here from SPEC §2 (not from the implementation), and a request the oracle finds
 * valid is accepted; a refused request changes nothing.
 */

useTestDatabase();

const app = createApp();

// ---- the oracle: SPEC §2, written independently of packages/core ------------------------------

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const NODE_TYPES = ["start", "email", "delay", "end"];

/**
 * Limits the implementation adds where SPEC §2 names none (they bound the work and the row, and
 * no real sequence comes near them). Only the oracle's "valid" side depends on them.
 */
const LIMITS = {
  nodes: 100,
  edges: 200,
  nodeId: /^[A-Za-z0-9_-]{1,64}$/,
  subject: 998,
  body: 100_000,
  days: 365,
  hours: 24 * 365,
  name: 255,
  description: 2000,
};

type Verdict<T> = { ok: true; value: T } | { ok: false; reason: string };
const valid = <T>(value: T): Verdict<T> => ({ ok: true, value });
const invalid = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isInt = (x: unknown, min: number, max: number): x is number => typeof x === "number" && Number.isInteger(x) && x >= min && x <= max;

/**
 * The zone as the server stores it, or undefined: a name current IANA data has (the `tzdata`
 * package), matched case-insensitively and spelled as IANA spells it (`europe/paris` →
 * `Europe/Paris`), that this runtime can also compute with.
 */
const IANA_NAMES = new Map(Object.keys(tzdata.zones).map((name) => [name.toLowerCase(), name]));
function timeZoneName(zone: string): string | undefined {
  const name = IANA_NAMES.get(zone.toLowerCase());
  if (name === undefined) return undefined;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return name;
  } catch {
    return undefined;
  }
}

/** Settings as SPEC §2 describes them, merged key by key over `base`. Unknown keys are ignored (SPEC §1). */
function settingsVerdict(input: unknown, base: Settings): Verdict<Settings> {
  if (input === undefined) return valid(base);
  if (!isObject(input)) return invalid("settings is not an object");
  const merged = { ...base };
  if (input.sendDays !== undefined) {
    const days = input.sendDays;
    if (!Array.isArray(days) || days.length === 0) return invalid("sendDays is not a non-empty array");
    // Day names are taken in any case and around spaces (docs: "accepts day names in any case").
    const names = days.map((d) => (typeof d === "string" ? d.trim().toLowerCase() : ""));
    if (!names.every((n) => DAYS.includes(n))) return invalid("sendDays holds something other than a day name");
    if (new Set(names).size !== names.length) return invalid("sendDays repeats a day");
    merged.sendDays = DAYS.filter((d) => names.includes(d));
  }
  const hours: Array<[keyof Settings, number, number]> = [
    ["sendHoursStart", 0, 23],
    ["sendHoursEnd", 1, 24],
    ["maxEmailsPerHour", 1, 10_000],
  ];
  for (const [key, min, max] of hours) {
    if (input[key] === undefined) continue;
    if (!isInt(input[key], min, max)) return invalid(`${key} is not an integer in ${min}..${max}`);
    (merged as unknown as Record<string, unknown>)[key] = input[key];
  }
  if (input.timezone !== undefined) {
    const zone = typeof input.timezone === "string" ? timeZoneName(input.timezone.trim()) : undefined;
    if (zone === undefined) return invalid("timezone is not an IANA zone");
    merged.timezone = zone;
  }
  // #14: whose timezone the window is read in; exactly one of two words.
  if (input.timezoneMode !== undefined) {
    if (input.timezoneMode !== "campaign" && input.timezoneMode !== "contact") return invalid("timezoneMode is not campaign or contact");
    merged.timezoneMode = input.timezoneMode;
  }
  if (merged.sendHoursEnd <= merged.sendHoursStart) return invalid("sendHoursEnd is not after sendHoursStart");
  return valid(merged);
}

/**
 * `{{name}}` and `{{name|fallback}}` (whitespace allowed around the name): read left to right,
 * every `{{` opens a variable that must close with `}}` before any other `{{`, and the name is an
 * identifier. A lone `}}` is text.
 */
function templateOk(template: string): boolean {
  const [, ...opened] = template.split("{{");
  return opened.every((rest) => {
    const close = rest.indexOf("}}");
    if (close === -1) return false;
    const name = rest.slice(0, close).split("|")[0]!.trim();
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
  });
}

const text = (x: unknown, max: number, trim: boolean) =>
  typeof x === "string" && (trim ? x.trim() : x).length <= max && x.trim().length > 0 && !x.includes("\u0000");

type Node = { id: string; type: string; data?: Record<string, unknown> };
type Edge = { from: string; to: string };
interface Workflow {
  nodes: Node[];
  edges: Edge[];
}

/** A node as the API stores it: unknown keys dropped, defaults filled in, the subject trimmed. */
function nodeVerdict(node: unknown): Verdict<Node> {
  if (!isObject(node)) return invalid("a node is not an object");
  const { id, type, data } = node;
  if (typeof id !== "string" || !LIMITS.nodeId.test(id)) return invalid(`node id ${JSON.stringify(id)} is malformed`);
  if (typeof type !== "string" || !NODE_TYPES.includes(type)) return invalid(`node ${id} has type ${JSON.stringify(type)}`);
  if (type === "start" || type === "end") return valid({ id, type });
  if (!isObject(data)) return invalid(`${type} node ${id} has no data object`);
  if (type === "email") {
    const { subject, body, trackOpens, trackClicks } = data;
    // "subject and body required (non-empty)": a blank subject or body is no email.
    if (!text(subject, LIMITS.subject, true)) return invalid(`email ${id}: subject is missing, blank, too long or holds NUL`);
    if (!text(body, LIMITS.body, false)) return invalid(`email ${id}: body is missing, blank, too long or holds NUL`);
    if (!templateOk(subject as string) || !templateOk(body as string)) return invalid(`email ${id}: malformed template variable`);
    for (const flag of [trackOpens, trackClicks])
      if (flag !== undefined && typeof flag !== "boolean") return invalid(`email ${id}: tracking flag`);
    return valid({
      id,
      type,
      data: { subject: (subject as string).trim(), body, trackOpens: trackOpens ?? true, trackClicks: trackClicks ?? true },
    });
  }
  const { days, hours, businessDays } = data;
  if (!isInt(days, 0, LIMITS.days)) return invalid(`delay ${id}: days is not an integer >= 0`);
  if (hours !== undefined && !isInt(hours, 0, LIMITS.hours)) return invalid(`delay ${id}: hours is not an integer >= 0`);
  if (businessDays !== undefined && typeof businessDays !== "boolean") return invalid(`delay ${id}: businessDays`);
  if (days + ((hours as number | undefined) ?? 0) <= 0) return invalid(`delay ${id}: total delay is 0`);
  return valid({ id, type, data: { days, hours: hours ?? 0, businessDays: businessDays ?? false } });
}

/** SPEC §2's workflow rules. `undefined`: no workflow sent; `null`: no workflow. */
function workflowVerdict(input: unknown): Verdict<Workflow | null | undefined> {
  if (input === undefined || input === null) return valid(input);
  if (!isObject(input) || !Array.isArray(input.nodes) || !Array.isArray(input.edges)) return invalid("not {nodes: [], edges: []}");
  if (input.nodes.length > LIMITS.nodes || input.edges.length > LIMITS.edges) return invalid("too many nodes or edges");
  const nodes: Node[] = [];
  for (const raw of input.nodes) {
    const node = nodeVerdict(raw);
    if (!node.ok) return node;
    nodes.push(node.value);
  }
  const edges: Edge[] = [];
  for (const raw of input.edges) {
    if (!isObject(raw) || typeof raw.from !== "string" || typeof raw.to !== "string") return invalid("an edge is not {from, to}");
    if (!LIMITS.nodeId.test(raw.from) || !LIMITS.nodeId.test(raw.to)) return invalid("an edge names a malformed id");
    edges.push({ from: raw.from, to: raw.to });
  }

  const ids = nodes.map((n) => n.id);
  if (new Set(ids).size !== ids.length) return invalid("duplicate node ids");
  const starts = nodes.filter((n) => n.type === "start");
  if (starts.length !== 1) return invalid(`${starts.length} start nodes`);
  if (!nodes.some((n) => n.type === "end")) return invalid("no end node");
  const known = new Set(ids);
  const dangling = edges.find((e) => !known.has(e.from) || !known.has(e.to));
  if (dangling) return invalid(`edge ${dangling.from} → ${dangling.to} names a missing node`);
  const start = starts[0]!.id;
  if (edges.some((e) => e.to === start)) return invalid("an edge enters the start node");
  for (const node of nodes) {
    const out = edges.filter((e) => e.from === node.id).length;
    if (node.type === "end" && out > 0) return invalid(`end ${node.id} has an outgoing edge`);
    if (node.type !== "end" && out !== 1) return invalid(`${node.type} ${node.id} has ${out} outgoing edges`);
  }
  // Reachability: breadth-first from the start.
  const reached = new Set([start]);
  for (let frontier = [start]; frontier.length; ) {
    frontier = edges.filter((e) => frontier.includes(e.from) && !reached.has(e.to)).map((e) => e.to);
    for (const id of frontier) reached.add(id);
  }
  if (reached.size !== nodes.length) return invalid("a node cannot be reached from the start");
  // Acyclic: Kahn's algorithm removes every node of a DAG.
  const indegree = new Map(ids.map((id) => [id, edges.filter((e) => e.to === id).length]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  let removed = 0;
  while (queue.length) {
    const id = queue.pop()!;
    removed++;
    for (const e of edges.filter((x) => x.from === id)) {
      indegree.set(e.to, indegree.get(e.to)! - 1);
      if (indegree.get(e.to) === 0) queue.push(e.to);
    }
  }
  if (removed !== nodes.length) return invalid("the workflow has a cycle");
  return valid({ nodes, edges });
}

const optionalText = (x: unknown, max: number, required: boolean) =>
  x === undefined || (x === null && !required) || (typeof x === "string" && (!required || x.trim() !== "") && x.trim().length <= max);

// ---- generators -------------------------------------------------------------------------------

const GOOD_VARIABLES = ["{{firstName}}", "{{ company | there }}", "{{sector|}}", "{{unsubscribeUrl}}", "{{_x1|a b}}", "}}", "{ x }"];
const BAD_VARIABLES = [
  "{{first name}}",
  "{{",
  "{{}}",
  "{{1abc}}",
  "{{a-b}}",
  "{{firstName}",
  "{{{firstName}}}",
  "{{ | x}}",
  "{{a{{b}}}}",
  "{{é}}",
  "\u0000",
];
const plain = fc.string({ unit: fc.constantFrom("a", "b", " ", "\n", "é", "|", "}", "{"), maxLength: 10 });
const goodTemplate = fc
  .array(fc.oneof({ weight: 3, arbitrary: plain }, fc.constantFrom(...GOOD_VARIABLES)), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(""))
  .filter((s) => s.trim() !== "" && templateOk(s));
const template = fc.oneof(
  { weight: 6, arbitrary: goodTemplate },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(plain, fc.constantFrom(...GOOD_VARIABLES), fc.constantFrom(...BAD_VARIABLES)), { maxLength: 4 })
      .map((p) => p.join("")),
  },
  fc.constantFrom("", " ", "\n\t", "x".repeat(999), ` ${"x".repeat(998)} `, 5, null, ["a"]),
);
const flag = fc.oneof({ weight: 8, arbitrary: fc.boolean() }, fc.constantFrom("true", 1, null));
const count = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) },
  fc.constantFrom(-1, 1.5, 0.5, -0, 365, 366, 8760, 8761, "3", null, 1e21),
);
const emailData = fc.record(
  { subject: template, body: template, trackOpens: flag, trackClicks: flag },
  { requiredKeys: ["subject", "body"] },
);
const delayData = fc.record({ days: count, hours: count, businessDays: flag }, { requiredKeys: [] });
const anyData = fc.oneof(emailData, delayData, fc.constantFrom(null, [], "x", { extra: 1 }));

const ID_POOL = ["a", "b", "c", "d", "e", "f"];
const nodeId = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ID_POOL) },
  fc.constantFrom("", "has space", "x".repeat(65), 7, null, "a/b"),
);
const nodeType = fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...NODE_TYPES) }, fc.constantFrom("unknown", "Email", "", null));
const node = fc.record({ id: nodeId, type: nodeType, data: anyData }, { requiredKeys: ["id", "type"] }).chain((n) =>
  // Mostly data of the node's own type.
  fc.oneof(
    {
      weight: 3,
      arbitrary: (n.type === "email" ? emailData : n.type === "delay" ? delayData : fc.constant(undefined)).map((data) => ({ ...n, data })),
    },
    fc.constant(n),
  ),
);
const edge = fc.record({ from: nodeId, to: nodeId }).map((e) => e as unknown);
/** Free-form graphs: any nodes, any edges among their ids (dangling, duplicate, cyclic...). */
const randomGraph = fc.record({ nodes: fc.array(node, { maxLength: 7 }), edges: fc.array(edge, { maxLength: 9 }) });

const validEmail = fc.record(
  {
    subject: goodTemplate,
    body: goodTemplate,
    trackOpens: fc.option(fc.boolean(), { nil: undefined }),
    trackClicks: fc.option(fc.boolean(), { nil: undefined }),
  },
  { requiredKeys: ["subject", "body"] },
);
const validDelay = fc
  .record(
    {
      days: fc.integer({ min: 0, max: 30 }),
      hours: fc.option(fc.integer({ min: 0, max: 48 }), { nil: undefined }),
      businessDays: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ["days"] },
  )
  .filter((d) => d.days + (d.hours ?? 0) > 0);
/** Valid chains: start → (email | delay)* → end, with random ids, nodes and edges in any order. */
const randomChain: fc.Arbitrary<Workflow> = fc
  .array(
    fc.oneof(
      validEmail.map((data) => ({ type: "email", data })),
      validDelay.map((data) => ({ type: "delay", data })),
    ),
    { maxLength: 5 },
  )
  .chain((middle) =>
    fc
      .uniqueArray(fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/), { minLength: middle.length + 2, maxLength: middle.length + 2 })
      .map((ids) => {
        const nodes: Node[] = [
          { id: ids[0]!, type: "start" },
          ...middle.map((m, i) => ({ id: ids[i + 1]!, ...m })),
          { id: ids.at(-1)!, type: "end" },
        ];
        return { nodes, edges: nodes.slice(1).map((n, i) => ({ from: nodes[i]!.id, to: n.id })) };
      }),
  )
  .chain((w) =>
    fc
      .tuple(fc.shuffledSubarray(w.nodes, { minLength: w.nodes.length }), fc.shuffledSubarray(w.edges, { minLength: w.edges.length }))
      .map(([nodes, edges]) => ({ nodes, edges })),
  );

const MUTATIONS = [
  "dropEdge",
  "addEdge",
  "dupEdge",
  "reverseEdge",
  "selfLoop",
  "intoStart",
  "outOfEnd",
  "retype",
  "retypeFitting",
  "dupId",
  "removeNode",
  "orphan",
  "island",
  "badTemplate",
  "blankText",
  "badDelay",
  "dropData",
  "extraKeys",
  "reorder",
] as const;
type Mutation = [(typeof MUTATIONS)[number], number, number];
const BAD_DELAYS = [
  { days: 0 },
  { days: 0, hours: 0 },
  { days: -1 },
  { days: 1.5 },
  { days: 1, hours: -2 },
  { days: "3" },
  { hours: 5 },
  { days: 0, hours: 0.5 },
];

/** One change to a workflow: most break a rule of SPEC §2, `extraKeys` and `reorder` do not. */
function mutate(workflow: Workflow, [kind, a, b]: Mutation): Workflow {
  const nodes = structuredClone(workflow.nodes) as Array<Node & Record<string, unknown>>;
  const edges = structuredClone(workflow.edges) as Array<Record<string, unknown>>;
  const pick = <T>(list: readonly T[], i: number) => list[i % list.length]!;
  const ids = nodes.map((n) => n.id);
  const of = (type: string) => nodes.filter((n) => n.type === type);
  const withData = (type: string) => of(type).filter((n) => isObject(n.data));
  switch (kind) {
    case "dropEdge":
      if (edges.length) edges.splice(a % edges.length, 1);
      break;
    case "addEdge":
      edges.push({ from: pick([...ids, "ghost"], a), to: pick([...ids, "ghost"], b) });
      break;
    case "dupEdge":
      if (edges.length) edges.push({ ...pick(edges, a) });
      break;
    case "reverseEdge":
      if (edges.length) {
        const e = pick(edges, a);
        [e.from, e.to] = [e.to, e.from];
      }
      break;
    case "selfLoop":
      if (ids.length) edges.push({ from: pick(ids, a), to: pick(ids, a) });
      break;
    case "intoStart":
      if (of("start").length && ids.length) edges.push({ from: pick(ids, a), to: of("start")[0]!.id });
      break;
    case "outOfEnd":
      if (of("end").length && ids.length) edges.push({ from: of("end")[0]!.id, to: pick(ids, a) });
      break;
    case "retype":
      if (nodes.length) pick(nodes, a).type = pick([...NODE_TYPES, "unknown"], b);
      break;
    case "retypeFitting":
      // Another type with data of that type: the graph may stay valid.
      if (nodes.length) {
        const n = pick(nodes, a);
        n.type = b % 2 ? "delay" : "email";
        n.data = b % 2 ? { days: 1 + (b % 3), businessDays: b % 4 > 1 } : { subject: "Changed {{firstName|there}}", body: "A new step" };
      }
      break;
    case "dupId":
      if (nodes.length) pick(nodes, a).id = pick(ids, b);
      break;
    case "removeNode":
      if (nodes.length) nodes.splice(a % nodes.length, 1);
      break;
    case "orphan":
      nodes.push({ id: "orphan", type: "email", data: { subject: "Hi", body: "There" } });
      if (ids.length) edges.push({ from: "orphan", to: pick(ids, a) });
      break;
    case "island":
      nodes.push(
        pick<Node>(
          [
            { id: "island", type: "end" },
            { id: "island", type: "delay", data: { days: 1 } },
          ],
          a,
        ),
      );
      break;
    case "badTemplate":
      if (withData("email").length) pick(withData("email"), a).data![b % 2 ? "subject" : "body"] = pick(BAD_VARIABLES, b);
      break;
    case "blankText":
      if (withData("email").length)
        pick(withData("email"), a).data![b % 2 ? "subject" : "body"] = pick(["", " ", "\n\t", "\u00a0"], b >> 1);
      break;
    case "badDelay":
      if (withData("delay").length) pick(withData("delay"), a).data = { ...pick(BAD_DELAYS, b) };
      break;
    case "dropData": {
      const withData = nodes.filter((n) => n.data);
      if (withData.length) delete pick(withData, a).data;
      break;
    }
    case "extraKeys":
      if (nodes.length) {
        const n = pick(nodes, a);
        n.note = "ignored";
        if (n.data) n.data = { ...n.data, extra: b };
      }
      if (edges.length) pick(edges, b).label = "ignored";
      break;
    case "reorder":
      nodes.reverse();
      edges.reverse();
      break;
  }
  return { nodes, edges } as Workflow;
}

const mutation = fc.tuple(fc.constantFrom(...MUTATIONS), fc.nat(), fc.nat()) as fc.Arbitrary<Mutation>;
const mutated = (base: fc.Arbitrary<Workflow>) =>
  fc.tuple(base, fc.array(mutation, { maxLength: 3 })).map(([w, changes]) => changes.reduce(mutate, w));
const seedMutations = mutated(fc.constant(SEED_WORKFLOW));
/** The seed with one of its steps changed to the other kind (still valid), then perhaps more changes. */
const seedRetyped = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.nat())
  .chain(([i, b]) => mutated(fc.constant(mutate(SEED_WORKFLOW, ["retypeFitting", i, b]))));

const workflowArb = fc.oneof(
  { weight: 3, arbitrary: seedMutations as fc.Arbitrary<unknown> },
  { weight: 3, arbitrary: mutated(randomChain) },
  { weight: 3, arbitrary: randomGraph },
  fc.constantFrom(undefined, null, [], {}, "x", { nodes: [], edges: [] }, { nodes: "x", edges: [] }, { nodes: SEED_WORKFLOW.nodes }),
);

const dayValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...DAYS) },
  fc.constantFrom("Monday", " friday ", "SUNDAY", "funday", "", "mon", 1, null, ["monday"]),
);
const settingValue = {
  sendDays: fc.oneof(
    { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }) },
    { weight: 2, arbitrary: fc.array(dayValue, { maxLength: 8 }) },
    fc.constantFrom("monday", null, {}, 5, []),
  ),
  hour: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 24 }) },
    fc.integer({ min: -3, max: 30 }),
    fc.double(),
    fc.constantFrom(9.5, -0, "9", null, true, 1e20, 2 ** 53),
  ),
  timezone: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom("UTC", "Europe/Paris", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "Etc/GMT+12"),
    },
    fc.constantFrom("Europe/Pariss", "", " ", "GMT+25", "+05:45", "Mars/Olympus", "europe/paris", " Europe/Paris ", 42, null, ["UTC"]),
    fc.string({ maxLength: 12 }),
  ),
  maxEmailsPerHour: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 10_000 }) },
    fc.constantFrom(0, -1, 10_001, 30.5, "30", null, 1e9, 2 ** 31),
  ),
  timezoneMode: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("campaign", "contact") },
    fc.constantFrom("Contact", "recipient", "", null, 1, ["contact"]),
  ),
};
const settingsArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            sendDays: settingValue.sendDays,
            sendHoursStart: settingValue.hour,
            sendHoursEnd: settingValue.hour,
            timezone: settingValue.timezone,
            maxEmailsPerHour: settingValue.maxEmailsPerHour,
            timezoneMode: settingValue.timezoneMode,
          },
          { requiredKeys: [] },
        ),
        fc.dictionary(fc.constantFrom("foo", "window", "SendDays", "send_days", "sendHours"), fc.jsonValue({ maxDepth: 1 }), {
          maxKeys: 2,
        }),
      )
      .map(([known, extra]) => ({ ...extra, ...known })),
  },
  fc.constantFrom(undefined, null, [], [1], "settings", 5, true, {}),
);

const ZONES = ["UTC", "Europe/Paris", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe", "Etc/GMT+12"];
/** Settings a user would send: each key valid on its own (the merged window may still be empty). */
const sensibleSettings = fc.record(
  {
    sendDays: fc.uniqueArray(fc.constantFrom(...DAYS), { minLength: 1, maxLength: 7 }),
    sendHoursStart: fc.integer({ min: 0, max: 11 }),
    sendHoursEnd: fc.integer({ min: 12, max: 24 }),
    timezone: fc.constantFrom(...ZONES),
    maxEmailsPerHour: fc.integer({ min: 1, max: 10_000 }),
    timezoneMode: fc.constantFrom("campaign", "contact"),
  },
  { requiredKeys: [] },
);
const anySettings = fc.oneof({ weight: 2, arbitrary: sensibleSettings as fc.Arbitrary<unknown> }, { weight: 3, arbitrary: settingsArb });

/** What the API receives: JSON (undefined keys vanish, -0 and NaN become 0 and null). */
const json = <T>(x: T): T => (x === undefined ? x : JSON.parse(JSON.stringify(x)));

// ---- assertions -------------------------------------------------------------------------------

/** The 400's details blame only fields that are wrong: each path is under one of `blamable`. */
function expectBlame(res: ApiResponse, blamable: string[]) {
  for (const { path } of res.body.error.details as Array<{ path: string }>) {
    const field = path.split(/[.[]/)[0]!;
    expect(blamable, `detail path "${path}" in ${res.text.slice(0, 1000)}`).toContain(field);
  }
}

// ---- properties -------------------------------------------------------------------------------

async function fixture() {
  const ws = await factory.workspace({ rateLimit: 1_000_000 });
  const account = await factory.emailAccount(ws);
  return { ws, account, api: apiClient(app, ws.key) };
}

describe("campaign create and update: random settings and workflow graphs", () => {
  let f: Awaited<ReturnType<typeof fixture>>;
  beforeAll(async () => {
    f = await fixture();
  });

  it("POST /v1/campaigns: never a 500, never an invalid workflow accepted, every valid request accepted as sent", async () => {
    const total = async () => (await f.api.get("/v1/campaigns", { query: { perPage: 1 } })).body.meta.total as number;
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(anySettings, workflowArb, async (settings, workflow) => {
        const body = json({ name: "Prop", emailAccountId: f.account.id, settings, workflow });
        const s = settingsVerdict(body.settings, DEFAULT_SETTINGS);
        const w = workflowVerdict(body.workflow);
        const before = await total();
        const res = await f.api.post("/v1/campaigns", body);
        expectEnvelope(res, "POST /v1/campaigns");
        expect([201, 400], res.text).toContain(res.status);
        if (res.status === 201) {
          seen.accepted++;
          expect(w.ok ? "valid" : `invalid: ${w.reason}`, "the API accepted this workflow").toBe("valid");
          expect(s.ok ? "valid" : `invalid: ${s.reason}`, "the API accepted these settings").toBe("valid");
          const data = res.body.data;
          expect(data.settings).toEqual(s.ok && s.value);
          expect(data.workflow).toEqual(w.ok ? (w.value ?? null) : "unreachable");
          expect(data).toMatchObject({ status: "draft", stats: { totalContacts: 0 } });
        } else {
          seen.refused++;
          expect(s.ok && w.ok, `a valid request was refused: ${res.text.slice(0, 1000)}`).toBe(false);
          expectBlame(res, [...(s.ok ? [] : ["settings"]), ...(w.ok ? [] : ["workflow"])]);
        }
        expect(await total(), "campaigns in the workspace").toBe(before + (res.status === 201 ? 1 : 0));
      }),
      { numRuns: runs(500) },
    );
    // Both sides of the oracle were exercised.
    expect(seen.accepted).toBeGreaterThan(floor(30));
    expect(seen.refused).toBeGreaterThan(floor(30));
  });

  const names = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("Renamed", "  Padded  ", "Q1 2025 Prospecting - v2") },
    fc.constantFrom("", "   ", 5, null, "x".repeat(256)),
  );
  const descriptions = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("About", null, "") }, fc.constantFrom(7, "\u0000", ["About"]));

  /**
   * The campaign as it is now (read each time: a failing run, and fast-check's shrinking after
   * it, may have changed it) and the oracle's verdicts on the body's settings and workflow.
   */
  const judge = async (id: string, body: { settings?: unknown; workflow?: unknown }) => {
    const before = (await f.api.get(`/v1/campaigns/${id}`)).body.data;
    return { before, s: settingsVerdict(body.settings, before.settings), w: workflowVerdict(body.workflow) };
  };

  it("PUT /v1/campaigns/:id (draft): merges or refuses as the oracle says; a refused PUT changes nothing", async () => {
    const id = (await f.api.post("/v1/campaigns", { name: "Draft", emailAccountId: f.account.id, workflow: SEED_WORKFLOW })).body.data.id;
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            settings: anySettings,
            workflow: fc.oneof({ weight: 2, arbitrary: randomChain as fc.Arbitrary<unknown> }, { weight: 3, arbitrary: workflowArb }),
            name: names,
            description: descriptions,
          },
          { requiredKeys: [] },
        ),
        async (input) => {
          const body = json(input);
          const { before, s, w } = await judge(id, body);
          const nameOk = optionalText(body.name, LIMITS.name, true);
          const descriptionOk = optionalText(body.description, LIMITS.description, false) && !String(body.description).includes("\u0000");
          const res = await f.api.put(`/v1/campaigns/${id}`, body);
          expectEnvelope(res, "PUT /v1/campaigns/:id");
          expect([200, 400], res.text).toContain(res.status);
          const after = (await f.api.get(`/v1/campaigns/${id}`)).body.data;
          if (res.status === 200) {
            seen.accepted++;
            expect(w.ok ? "valid" : `invalid: ${w.reason}`, "the API accepted this workflow").toBe("valid");
            expect(s.ok ? "valid" : `invalid: ${s.reason}`, "the API accepted these settings").toBe("valid");
            expect([nameOk, descriptionOk]).toEqual([true, true]);
            const expected = {
              ...before,
              name: typeof body.name === "string" ? body.name.trim() : before.name,
              description:
                typeof body.description === "string" ? body.description.trim() : body.description === null ? null : before.description,
              settings: s.ok && s.value,
              workflow: w.ok && w.value !== undefined ? w.value : before.workflow,
              updatedAt: expect.any(String),
            };
            expect(after).toEqual(expected);
            expect(res.body.data).toEqual(after);
          } else {
            seen.refused++;
            expect(s.ok && w.ok && nameOk && descriptionOk, `a valid update was refused: ${res.text.slice(0, 1000)}`).toBe(false);
            expectBlame(res, [
              ...(s.ok ? [] : ["settings"]),
              ...(w.ok ? [] : ["workflow"]),
              ...(nameOk ? [] : ["name"]),
              ...(descriptionOk ? [] : ["description"]),
            ]);
            expect(after).toEqual(before);
          }
        },
      ),
      { numRuns: runs(300) },
    );
    expect(seen.accepted).toBeGreaterThan(floor(20));
    expect(seen.refused).toBeGreaterThan(floor(20));
  });

  /** The seed's workflow without its first email: start → wait → node_4 → end. */
  const WITHOUT_NODE_2 = {
    nodes: SEED_WORKFLOW.nodes.filter((n) => n.id !== "node_2"),
    edges: [{ from: "node_1", to: "node_3" }, ...SEED_WORKFLOW.edges.filter((e) => e.from !== "node_1" && e.from !== "node_2")],
  };

  it("PUT /v1/campaigns/:id (paused, contacts waiting on node_2): 409 when node_2 is no longer an email, else as for a draft", async () => {
    const created = await f.api.post("/v1/campaigns", { name: "Paused", emailAccountId: f.account.id, workflow: SEED_WORKFLOW });
    const id = created.body.data.id;
    const contact = await factory.contact(f.ws);
    expect((await f.api.post(`/v1/campaigns/${id}/contacts`, { contactIds: [contact.id] })).status).toBe(200);
    expect((await f.api.post(`/v1/campaigns/${id}/start`)).status).toBe(200);
    expect((await f.api.post(`/v1/campaigns/${id}/pause`)).status).toBe(200);
    const waiting = (await f.api.get(`/v1/campaigns/${id}/contacts`)).body.data;
    expect(waiting.map((c: { currentNodeId: string }) => c.currentNodeId)).toEqual(["node_2"]);
    const seen = { accepted: 0, conflicts: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            settings: anySettings,
            workflow: fc.oneof({ weight: 3, arbitrary: seedMutations }, { weight: 3, arbitrary: seedRetyped }, fc.constant(null)),
          },
          { requiredKeys: [] },
        ),
        async (input) => {
          const body = json(input);
          const { before, s, w } = await judge(id, body);
          // The contact waits to be sent node_2: a workflow without that email would strand it.
          const strands = w.ok && w.value !== undefined && !w.value?.nodes.some((n) => n.id === "node_2" && n.type === "email");
          const res = await f.api.put(`/v1/campaigns/${id}`, body);
          expectEnvelope(res, "PUT /v1/campaigns/:id (paused)");
          const after = (await f.api.get(`/v1/campaigns/${id}`)).body.data;
          const expectedStatus = !(s.ok && w.ok) ? 400 : strands ? 409 : 200;
          expect(res.status, `${res.text.slice(0, 1000)} for ${JSON.stringify(body)}`).toBe(expectedStatus);
          if (res.status === 200) {
            seen.accepted++;
            expect(after).toEqual({
              ...before,
              settings: s.ok && s.value,
              workflow: w.ok && w.value !== undefined ? w.value : before.workflow,
              updatedAt: expect.any(String),
            });
          } else {
            if (res.status === 409) {
              seen.conflicts++;
              expect(res.body.error.details).toEqual([expect.objectContaining({ path: "workflow.nodes", nodeId: "node_2" })]);
            }
            expect(after).toEqual(before);
          }
        },
      ),
      {
        numRuns: runs(150),
        // One input that strands the contact for sure (node_2 dropped), besides the random ones.
        examples: [[{ workflow: WITHOUT_NODE_2 }]],
      },
    );
    expect(seen.accepted).toBeGreaterThan(floor(5));
    expect(seen.conflicts).toBeGreaterThan(0);
  });

  it("numbers JSON cannot hold exactly (1e400 → Infinity, 1e-400 → 0) are refused with a path, never a 500", async () => {
    const cases: Array<[string, string]> = [
      ['"settings":{"maxEmailsPerHour":1e400}', "settings.maxEmailsPerHour"],
      ['"settings":{"sendHoursStart":-1e400}', "settings.sendHoursStart"],
      ['"settings":{"sendHoursEnd":1e-400}', "settings.sendHoursEnd"],
      [`"workflow":${JSON.stringify(SEED_WORKFLOW).replace('"days":3', '"days":1e400')}`, "workflow.nodes[2].data.days"],
      [`"workflow":${JSON.stringify(SEED_WORKFLOW).replace('"days":3', '"days":1e-400')}`, "workflow.nodes[2].data"],
    ];
    for (const [fragment, path] of cases) {
      const res = await f.api.request("POST", "/v1/campaigns", {
        rawBody: `{"name":"Raw","emailAccountId":"${f.account.id}",${fragment}}`,
      });
      expectEnvelope(res, fragment);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it("pathological templates at the 1 MB body limit are refused quickly, with an error smaller than the request", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("{{x}", "{{", "{{a b}}", "{{{", "}}{{", "{{x|", "{{ x"),
        fc.integer({ min: 1, max: 9 }),
        async (unit, emails) => {
          const body = unit.repeat(Math.floor(99_000 / unit.length));
          const ids = ["s", ...Array.from({ length: emails }, (_, i) => `e${i}`), "end"];
          const nodes = ids.map((id) =>
            id === "s"
              ? { id, type: "start" }
              : id === "end"
                ? { id, type: "end" }
                : { id, type: "email", data: { subject: `${unit} hi`, body } },
          );
          const edges = ids.slice(1).map((to, i) => ({ from: ids[i]!, to }));
          const rawBody = JSON.stringify({ name: "Big", emailAccountId: f.account.id, workflow: { nodes, edges } });
          expect(rawBody.length).toBeLessThan(1024 * 1024);
          const started = performance.now();
          const res = await f.api.request("POST", "/v1/campaigns", { rawBody });
          const elapsed = performance.now() - started;
          expectEnvelope(res, `${emails} bodies of ${JSON.stringify(unit)}`);
          expect(res.status).toBe(400);
          expectBlame(res, ["workflow"]);
          expect(res.text.length).toBeLessThan(rawBody.length);
          expect(elapsed, "milliseconds to refuse").toBeLessThan(5000);
        },
      ),
      { numRuns: runs(8) },
    );
  });
});

// ---- enrolment --------------------------------------------------------------------------------

describe("POST /v1/campaigns/:id/contacts with random bodies", () => {
  const CONTACT_STATUSES = ["active", "unsubscribed", "bounced", "complained"];
  type Person = { id: string; status: string; customFields: Record<string, string | number | boolean>; tags: string[]; groups: string[] };
  let f: Awaited<ReturnType<typeof fixture>>;
  let people: Person[];
  let groups: string[];
  let foreign: { contact: string; group: string };
  /** Campaigns by role. */
  let campaigns: Record<"draft" | "active" | "archived" | "missing", string>;

  beforeAll(async () => {
    f = await fixture();
    groups = [(await factory.group(f.ws)).id, (await factory.group(f.ws)).id, (await factory.group(f.ws)).id];
    const specs: Array<Omit<Person, "id">> = [
      { status: "active", customFields: { sector: "Fintech", tier: 1 }, tags: ["vip"], groups: [groups[0]!] },
      { status: "active", customFields: { sector: "Fintech", tier: 2 }, tags: [], groups: [groups[0]!, groups[1]!] },
      { status: "active", customFields: { sector: "Retail", tier: 1 }, tags: ["cold", "vip"], groups: [groups[1]!] },
      { status: "active", customFields: { sector: "fintech", beta: true }, tags: ["cold"], groups: [] },
      { status: "active", customFields: {}, tags: [], groups: [] },
      { status: "unsubscribed", customFields: { sector: "Fintech" }, tags: ["vip"], groups: [groups[0]!] },
      { status: "bounced", customFields: { tier: 1 }, tags: [], groups: [groups[1]!] },
      { status: "complained", customFields: { sector: "Retail" }, tags: ["cold"], groups: [] },
    ];
    people = [];
    for (const spec of specs) {
      const contact = await factory.contact(f.ws, {
        status: spec.status as never,
        customFields: spec.customFields,
        tags: spec.tags,
        groupIds: spec.groups,
      });
      people.push({ ...spec, id: contact.id });
    }
    const other = await factory.workspace();
    foreign = { contact: (await factory.contact(other)).id, group: (await factory.group(other)).id };

    const create = async (name: string) =>
      (await f.api.post("/v1/campaigns", { name, emailAccountId: f.account.id, workflow: SEED_WORKFLOW })).body.data.id as string;
    campaigns = {
      draft: await create("Draft"),
      active: await create("Active"),
      archived: await create("Archived"),
      missing: "cmp_doesnotexist",
    };
    expect((await f.api.post(`/v1/campaigns/${campaigns.active}/contacts`, { contactIds: [people[4]!.id] })).body.data.added).toBe(1);
    expect((await f.api.post(`/v1/campaigns/${campaigns.active}/start`)).status).toBe(200);
    expect((await f.api.post(`/v1/campaigns/${campaigns.archived}/archive`)).status).toBe(200);
  });

  const ID_FORMAT = /^[a-z]+_[A-Za-z0-9_]{1,60}$/;
  const idOk = (prefix: string) => (x: unknown) => typeof x === "string" && x.startsWith(`${prefix}_`) && ID_FORMAT.test(x);
  const idList = (x: unknown, prefix: string, max: number) => Array.isArray(x) && x.length >= 1 && x.length <= max && x.every(idOk(prefix));

  /** Whether the body is valid, and if so which contacts it names and which ids do not exist. */
  function expected(body: unknown): Verdict<{ candidates: Person[]; missing: string[] }> {
    if (!isObject(body)) return invalid("body is not an object");
    const ways = ["contactIds", "groupIds", "filters"].filter((k) => body[k] !== undefined);
    if (ways.length !== 1) return invalid("not exactly one of contactIds, groupIds, filters");
    if (body.contactIds !== undefined) {
      if (!idList(body.contactIds, "con", 10_000)) return invalid("contactIds");
      const requested = [...new Set(body.contactIds as string[])];
      return valid({
        candidates: people.filter((p) => requested.includes(p.id)),
        missing: requested.filter((id) => !people.some((p) => p.id === id)),
      });
    }
    if (body.groupIds !== undefined) {
      if (!idList(body.groupIds, "grp", 100)) return invalid("groupIds");
      const requested = [...new Set(body.groupIds as string[])];
      return valid({
        candidates: people.filter((p) => p.groups.some((g) => requested.includes(g))),
        missing: requested.filter((id) => !groups.includes(id)),
      });
    }
    const filters = body.filters;
    if (!isObject(filters)) return invalid("filters is not an object");
    const { status, customFields, tags } = filters;
    if (status !== undefined && !CONTACT_STATUSES.includes(status as string)) return invalid("filters.status");
    if (customFields !== undefined) {
      if (!isObject(customFields)) return invalid("filters.customFields");
      for (const [key, value] of Object.entries(customFields)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key)) return invalid("filters.customFields key");
        if (!["string", "number", "boolean"].includes(typeof value)) return invalid("filters.customFields value");
      }
    }
    if (tags !== undefined) {
      if (!Array.isArray(tags) || tags.length > 100) return invalid("filters.tags");
      if (!tags.every((t) => typeof t === "string" && t.trim() !== "" && t.trim().length <= 64)) return invalid("filters.tags[]");
    }
    // A filter must name a condition: an empty one is refused, not read as "everyone".
    if (
      status === undefined &&
      !(tags as unknown[] | undefined)?.length &&
      !Object.keys((customFields as object | undefined) ?? {}).length
    ) {
      return invalid("filters names no condition");
    }
    // `groups` is not a filter of enrolment (use groupIds): like any unknown key, ignored.
    const wanted = ((tags as string[] | undefined) ?? []).map((t) => t.trim());
    return valid({
      candidates: people.filter(
        (p) =>
          (status === undefined || p.status === status) &&
          Object.entries((customFields as Record<string, unknown> | undefined) ?? {}).every(([k, v]) => p.customFields[k] === v) &&
          wanted.every((t) => p.tags.includes(t)),
      ),
      missing: [],
    });
  }

  it("never a 500, never a partial write; added, skipped and errors account for exactly what was named", async () => {
    const contactId = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 7 }).map((i) => people[i]!.id) },
      fc.constant(null).map(() => foreign.contact),
      fc.constantFrom("con_doesnotexist", "con_UPPER_case", "con_" + "x".repeat(60)),
      fc.constantFrom("", "con_", "con-x", "grp_abc", "con_a b", "con_" + "x".repeat(61), 42, null, "CON_abc", "con_é", "con_\u0000"),
    );
    const groupId = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }).map((i) => groups[i]!) },
      fc.constant(null).map(() => foreign.group),
      fc.constantFrom("grp_unknown", "grp_", "con_abc", "", 1, null),
    );
    const filters = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record(
          {
            status: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CONTACT_STATUSES) }, fc.constantFrom("gone", "Active", 1, null)),
            customFields: fc.oneof(
              {
                weight: 4,
                arbitrary: fc.dictionary(
                  fc.constantFrom("sector", "tier", "beta", "missing"),
                  fc.constantFrom("Fintech", "Retail", "fintech", 1, 2, "1", true, "true"),
                  { maxKeys: 2 },
                ),
              },
              fc.constantFrom({ "1bad": "x" }, { sector: null }, { sector: ["Fintech"] }, { sector: {} }, "sector", null),
            ),
            tags: fc.oneof(
              { weight: 4, arbitrary: fc.array(fc.constantFrom("vip", "cold", " vip "), { maxLength: 2 }) },
              fc.constantFrom([""], ["   "], [5], "vip", null, ["x".repeat(65)]),
            ),
            groups: fc.constantFrom([groups[0]], ["grp_unknown"], "not even a list"),
            other: fc.constant("ignored"),
          },
          { requiredKeys: [] },
        ),
      },
      fc.constantFrom(null, [], "active", 5),
    );
    const ids = <T>(arb: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 8, arbitrary: fc.array(arb, { maxLength: 6 }) as fc.Arbitrary<unknown> }, fc.constantFrom("con_x", null, {}, 7));
    const body = fc.oneof(
      { weight: 4, arbitrary: fc.record({ contactIds: ids(contactId) }) as fc.Arbitrary<unknown> },
      { weight: 3, arbitrary: fc.record({ groupIds: ids(groupId) }) },
      { weight: 3, arbitrary: fc.record({ filters }) },
      { weight: 2, arbitrary: fc.record({ contactIds: ids(contactId), groupIds: ids(groupId), filters }, { requiredKeys: [] }) },
      fc.constantFrom(
        { contactIds: Array.from({ length: 10_001 }, (_, i) => `con_${i}`) },
        { groupIds: Array.from({ length: 101 }, (_, i) => `grp_${i}`) },
        {},
        [],
        null,
        "contactIds",
        { contactIds: [] },
      ),
    );
    const target = fc.constantFrom("draft", "draft", "active", "archived", "missing") as fc.Arbitrary<keyof typeof campaigns>;
    const state = async (id: string) => {
      const campaign = await f.api.get(`/v1/campaigns/${id}`);
      const list = await f.api.get(`/v1/campaigns/${id}/contacts`, { query: { perPage: 100 } });
      return { campaign: campaign.body, list: list.body };
    };
    const seen = { added: 0, ok: 0, refused: 0 };

    await fc.assert(
      fc.asyncProperty(body, target, fc.boolean(), async (raw, role, reset) => {
        const sent = json(raw);
        const id = campaigns[role];
        let before = await state(id);
        const enrolledIds = () => (before.list.data ?? []).map((row: { contactId: string }) => row.contactId) as string[];
        // Now and then the draft is emptied (DELETE), so that enrolments keep happening.
        if (reset && role === "draft" && enrolledIds().length) {
          const contactIds = enrolledIds();
          expect((await f.api.delete(`/v1/campaigns/${id}/contacts`, { contactIds })).body.data).toEqual({ removed: contactIds.length });
          before = await state(id);
        }
        expect(before.list.meta?.total ?? 0, "the list holds every enrolled contact").toBe(enrolledIds().length);
        const verdict = expected(sent);
        const res = await f.api.post(`/v1/campaigns/${id}/contacts`, sent);
        expectEnvelope(res, `POST /v1/campaigns/${role}/contacts`);
        const after = await state(id);
        const expectedStatus = !verdict.ok ? 400 : role === "missing" ? 404 : role === "archived" ? 409 : 200;
        expect(res.status, `${res.text.slice(0, 1000)} for ${JSON.stringify(sent).slice(0, 500)}`).toBe(expectedStatus);

        if (res.status !== 200 || !verdict.ok) {
          seen.refused++;
          expect(after, "a refused request changed the campaign or its contacts").toEqual(before);
          return;
        }
        seen.ok++;
        const inCampaign = new Set(enrolledIds());
        const { candidates, missing } = verdict.value;
        const added = candidates.filter((p) => p.status === "active" && !inCampaign.has(p.id));
        const result = res.body.data;
        const byIds = isObject(sent) && Array.isArray(sent.contactIds);
        const skippedOnes = candidates.filter((p) => !added.includes(p));
        expect(Object.keys(result).sort()).toEqual(
          byIds && skippedOnes.length ? ["added", "errors", "skipped", "skippedContacts"] : ["added", "errors", "skipped"],
        );
        if (byIds && skippedOnes.length) {
          // Why each was skipped: its status when not active, else already enrolled.
          expect(result.skippedContacts).toEqual(
            skippedOnes
              .map((p) => ({ id: p.id, reason: p.status === "active" ? "already_enrolled" : p.status }))
              .sort((a, b) => (a.id < b.id ? -1 : 1)),
          );
        }
        expect(result.added + result.skipped).toBe(candidates.length);
        if (isObject(sent) && Array.isArray(sent.contactIds))
          expect(result.added + result.skipped + result.errors.length).toBe(new Set(sent.contactIds).size);
        expect({ ...result, skippedContacts: undefined }).toEqual({
          added: added.length,
          skipped: candidates.length - added.length,
          errors: expect.any(Array),
          skippedContacts: undefined,
        });
        expect([...result.errors].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
          [...missing].sort().map((missingId) => ({ id: missingId, code: "NOT_FOUND" })),
        );
        for (const p of added) inCampaign.add(p.id);
        seen.added += added.length;
        expect(after.campaign.data.stats.totalContacts).toBe(inCampaign.size);
        expect(after.list.meta.total).toBe(inCampaign.size);
        expect(after.list.data.map((row: { contactId: string }) => row.contactId).sort()).toEqual([...inCampaign].sort());
      }),
      { numRuns: runs(250) },
    );
    expect(seen.ok).toBeGreaterThan(floor(20));
    expect(seen.refused).toBeGreaterThan(floor(20));
    expect(seen.added).toBeGreaterThan(0);
  });
});
