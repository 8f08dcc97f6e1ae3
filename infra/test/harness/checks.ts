import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix, resolve as resolvePath } from "node:path";
import ts from "typescript";
import { migrationsFolder } from "../../../packages/core/src/database/driver";
import { type Evaluation, ROOT } from "./evaluate";
import { analyzeHandlers } from "./handlers";
import { type AccountState, type Rec, type Recording, resolve, toSeconds } from "./standins";

/**
 * The wiring facts, each a function from an evaluation to the problems it finds (none: the fact
 * holds). infra/test/wiring.test.ts runs them on the real infra; infra/test/broken.test.ts shows
 * each one failing on a deliberately broken copy.
 */
export type Check = (ev: Evaluation) => string[] | Promise<string[]>;

export const HANDLERS = {
  api: "packages/functions/src/api.handler",
  tick: "packages/functions/src/tick.handler",
  sender: "packages/functions/src/sender.handler",
  sweeper: "packages/functions/src/sweeper.handler",
  migrate: "packages/functions/src/migrate.handler",
  apiReady: "packages/functions/src/api-ready.handler",
  webhookDeliverer: "packages/functions/src/webhook-deliverer.handler",
  sesEvents: "packages/functions/src/ses-events.handler",
};

/** Published by every configuration set; OPEN and CLICK only where that set tracks them. */
export const BASE_EVENT_TYPES = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "DELIVERY_DELAY", "RENDERING_FAILURE"];
export const TRACKING_MODES: Record<string, { opens: boolean; clicks: boolean }> = {
  none: { opens: false, clicks: false },
  opens: { opens: true, clicks: false },
  clicks: { opens: false, clicks: true },
  full: { opens: true, clicks: true },
};

/** Environment variables the code may read without infra setting them, and why. */
export const OPTIONAL_ENV: Record<string, string> = {
  VITEST: "set by the test runner only",
  SWAGGER_UI_DIR: "local override; in Lambda the assets are under LAMBDA_TASK_ROOT",
  MIGRATIONS_DIR: "read only when migrating: the migration function sets it (checked by `migrations`)",
  LOG_LEVEL: "defaults to info",
  DATABASE_URL: "local mode only",
};

// ---------------------------------------------------------------------------------------------
// Reading the recording
// ---------------------------------------------------------------------------------------------

const label = (fn: Rec) => `${fn.name} (${resolve(fn.args.handler)})`;

function fnByHandler(rec: Recording, handler: string): Rec | undefined {
  return rec.functionByHandler(handler);
}

/** The function subscribed to the send queue. */
export function senderOf(rec: Recording): Rec | undefined {
  return rec.functions().find((f) => f.via === "subscriber of SendQueue");
}

export function sendMapping(rec: Recording): Rec | undefined {
  return rec.all("aws.lambda.EventSourceMapping").find((m) => m.via === "subscriber of SendQueue");
}

function linkable(rec: Recording, name: string): Rec | undefined {
  return rec.find("sst.Linkable", name);
}

/** Names of the components a function is linked to (`<not a component>` for anything else). */
export function linkNames(rec: Recording, fn: Rec): string[] {
  return ((resolve(fn.args.link) as unknown[]) ?? []).map((l) => rec.recordOf(l)?.name ?? "<not a component>");
}

/** Analyse every function's handler (in parallel; results are cached). */
async function analyses(rec: Recording) {
  const fns = rec.functions();
  const results = await analyzeHandlers(fns.map((fn) => fn.args));
  return fns.map((fn, i) => ({ fn, analysis: results[i]! }));
}

// ---------------------------------------------------------------------------------------------
// IAM
// ---------------------------------------------------------------------------------------------

export interface Statement {
  effect: "allow" | "deny";
  actions: string[];
  resources: string[];
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** SST `permissions` / `sst.aws.permission()` entries as statements. */
export function permissionStatements(permissions: unknown): Statement[] {
  return ((resolve(permissions) as any[]) ?? []).map((p) => ({
    effect: p.effect === "deny" ? "deny" : "allow",
    actions: list(p.actions),
    resources: list(p.resources),
  }));
}

/** The statements of an IAM policy document (JSON text or object), with their principals. */
export function policyStatements(policy: unknown): Array<Statement & { principal?: any }> {
  const value = resolve(policy);
  const doc = typeof value === "string" ? JSON.parse(value) : value;
  const statements: any[] = Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [];
  return statements.map((s) => ({
    effect: String(s.Effect).toLowerCase() === "deny" ? "deny" : "allow",
    actions: list(s.Action),
    resources: list(s.Resource),
    principal: s.Principal,
  }));
}

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, caseInsensitive ? "i" : "").test(value);
}

export function allows(statements: Statement[], action: string, resource: string): boolean {
  const matches = (s: Statement) => s.actions.some((a) => glob(a, action, true)) && s.resources.some((r) => glob(r, resource));
  return statements.some((s) => s.effect === "allow" && matches(s)) && !statements.some((s) => s.effect === "deny" && matches(s));
}

/** What a function may do: its own permissions plus what its links grant (as SST links grant). */
export function functionStatements(rec: Recording, fn: Rec): Statement[] {
  const statements = permissionStatements(fn.args.permissions);
  for (const l of (resolve(fn.args.link) as unknown[]) ?? []) {
    const target = rec.recordOf(l);
    if (!target) continue;
    const arn = target.instance.arn;
    switch (target.kind) {
      case "sst.Linkable":
        statements.push(...permissionStatements((target.args.include ?? []).filter((i: any) => i.type === "aws.permission")));
        break;
      case "sst.aws.Queue":
        statements.push({ effect: "allow", actions: ["sqs:*"], resources: [resolve(arn)] });
        break;
      case "sst.aws.SnsTopic":
        statements.push({ effect: "allow", actions: ["sns:*"], resources: [resolve(arn)] });
        break;
      case "sst.aws.Function":
        statements.push({ effect: "allow", actions: ["lambda:InvokeFunction"], resources: [resolve(arn)] });
        break;
    }
  }
  return statements;
}

// ---------------------------------------------------------------------------------------------
// The link types the code compiles against (packages/functions/sst-env.d.ts)
// ---------------------------------------------------------------------------------------------

type Shape = "scalar" | "array" | { [key: string]: Shape };
export interface DeclaredLink {
  type: string;
  shape: Record<string, Shape>;
}

export function declaredLinks(file = join(ROOT, "packages/functions/sst-env.d.ts")): Map<string, DeclaredLink> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const links = new Map<string, DeclaredLink>();
  const shapeOf = (node: ts.TypeNode): Shape => {
    if (ts.isTypeLiteralNode(node)) {
      const shape: Record<string, Shape> = {};
      for (const m of node.members) if (ts.isPropertySignature(m) && m.type) shape[m.name.getText(source)] = shapeOf(m.type);
      return shape;
    }
    if (ts.isArrayTypeNode(node) || (ts.isTypeReferenceNode(node) && node.typeName.getText(source) === "Array")) return "array";
    return "scalar";
  };
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === "Resource") {
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || !member.type || !ts.isTypeLiteralNode(member.type)) continue;
        const shape = shapeOf(member.type) as Record<string, Shape>;
        const typeMember = member.type.members.find((m) => m.name?.getText(source) === "type") as ts.PropertySignature | undefined;
        const type = typeMember?.type?.getText(source).replace(/["']/g, "") ?? "";
        delete shape.type;
        links.set(member.name.getText(source), { type, shape });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return links;
}

/** What `Resource.<Name>` holds for a recorded component (its link properties and type). */
function linkValue(target: Rec): { type: string; properties: Record<string, unknown> } {
  const i = target.instance;
  switch (target.kind) {
    case "sst.Secret":
      return { type: "sst.sst.Secret", properties: { value: resolve(i.value) } };
    case "sst.Linkable":
      return { type: "sst.sst.Linkable", properties: resolve(target.args.properties) };
    case "sst.aws.Queue":
      return { type: "sst.aws.Queue", properties: { url: resolve(i.url) } };
    case "sst.aws.SnsTopic":
      return { type: "sst.aws.SnsTopic", properties: { arn: resolve(i.arn) } };
    case "sst.aws.Function":
      return { type: "sst.aws.Function", properties: { name: resolve(i.name) } };
    case "sst.aws.ApiGatewayV2":
      return { type: "sst.aws.ApiGatewayV2", properties: { url: resolve(i.url) } };
    default:
      return { type: target.kind, properties: {} };
  }
}

/**
 * The environment SST gives a function for its links (`Link.propertiesToEnv`): one
 * `SST_RESOURCE_<Name>` JSON variable per link, plus `SST_RESOURCE_App`. (Deployed functions
 * read the same JSON from an encrypted file; `sst dev` and tests use these variables.)
 */
export function linkEnvironment(rec: Recording, fn: Rec): Record<string, string> {
  const env: Record<string, string> = { SST_RESOURCE_App: JSON.stringify({ name: rec.app.name, stage: rec.app.stage }) };
  for (const l of (resolve(fn.args.link) as unknown[]) ?? []) {
    const target = rec.recordOf(l);
    if (!target) continue;
    const { type, properties } = linkValue(target);
    env[`SST_RESOURCE_${target.name}`] = JSON.stringify({ ...properties, type });
  }
  return env;
}

function shapeProblems(where: string, shape: Shape, value: unknown): string[] {
  if (shape === "array") return Array.isArray(value) ? [] : [`${where} is declared an array, infra gives ${JSON.stringify(value)}`];
  if (shape === "scalar") {
    return ["string", "number", "boolean"].includes(typeof value)
      ? []
      : [`${where} is declared a value, infra gives ${JSON.stringify(value)}`];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return [`${where} is declared an object, infra gives ${JSON.stringify(value)}`];
  const problems: string[] = [];
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(shape)) {
    if (!(key in given) || given[key] === undefined) problems.push(`${where}.${key} is declared but infra does not provide it`);
    else problems.push(...shapeProblems(`${where}.${key}`, shape[key]!, given[key]));
  }
  for (const key of Object.keys(given))
    if (!(key in shape)) problems.push(`${where}.${key} is provided by infra but not declared in sst-env.d.ts`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/** Every handler path exists and exports its handler; every copied file exists. */
export const handlers: Check = async ({ recording }) => {
  const problems: string[] = [];
  if (!recording.functions().length) problems.push("no function was created");
  for (const { fn, analysis } of await analyses(recording)) {
    if (analysis.error || !analysis.file) problems.push(`${label(fn)}: ${analysis.error ?? "no such file"}`);
    else if (!analysis.exports.includes(analysis.exportName)) {
      problems.push(
        `${label(fn)}: ${analysis.file} does not export "${analysis.exportName}" (exports: ${analysis.exports.join(", ") || "none"})`,
      );
    }
    for (const copy of (resolve(fn.args.copyFiles) as Array<{ from: string }>) ?? []) {
      if (!existsSync(join(ROOT, copy.from))) problems.push(`${label(fn)}: copyFiles source ${copy.from} does not exist`);
    }
  }
  return problems;
};

/** The send queue has a dead-letter queue. */
export const queueDlq: Check = ({ recording }) => {
  const queue = recording.find("sst.aws.Queue", "SendQueue");
  if (!queue) return ["no SendQueue"];
  const dlq = resolve(queue.args.dlq);
  if (!dlq) return ["SendQueue has no dead-letter queue (dlq)"];
  const arn = typeof dlq === "string" ? dlq : dlq.queue;
  const target = recording.all("sst.aws.Queue").find((q) => resolve(q.instance.arn) === arn);
  const problems: string[] = [];
  if (!target) problems.push(`SendQueue's dlq ${arn} is not a queue of this app`);
  else if (target === queue) problems.push("SendQueue is its own dead-letter queue");
  if (typeof dlq === "object" && !(Number(dlq.retry) >= 1)) problems.push(`SendQueue's dlq retry must be at least 1, got ${dlq.retry}`);
  return problems;
};

/** The sender reports partial batch failures. */
export const partialBatch: Check = ({ recording }) => {
  const queue = recording.find("sst.aws.Queue", "SendQueue");
  const call = queue?.calls.find((c) => c.method === "subscribe");
  if (!call) return ["SendQueue has no subscriber"];
  const problems: string[] = [];
  const batch = resolve((call.args[1] as any)?.batch) ?? {};
  if (batch.partialResponses !== true) problems.push("SendQueue.subscribe: batch.partialResponses is not true");
  const types = resolve(sendMapping(recording)?.args.functionResponseTypes) ?? [];
  if (!types.includes("ReportBatchItemFailures")) problems.push("the send event source mapping lacks ReportBatchItemFailures");
  return problems;
};

/** The send queue's visibility timeout is at least 6 times the sender's timeout (+ batching window). */
export const visibilityTimeout: Check = ({ recording }) => {
  const queue = recording.find("sst.aws.Queue", "SendQueue");
  const sender = senderOf(recording);
  if (!queue || !sender) return ["no SendQueue or no sender"];
  const visibility = toSeconds(queue.args.visibilityTimeout ?? "30 seconds");
  const timeout = toSeconds(sender.args.timeout ?? "20 seconds");
  const window = Number(resolve(sendMapping(recording)?.args.maximumBatchingWindowInSeconds) ?? 0);
  return visibility >= 6 * timeout + window
    ? []
    : [
        `SendQueue visibility timeout ${visibility}s < 6 x sender timeout ${timeout}s + batching window ${window}s = ${6 * timeout + window}s`,
      ];
};

/** The sender's concurrency is capped (SQS event source maximumConcurrency). */
export const senderConcurrency: Check = ({ recording }) => {
  const mapping = sendMapping(recording);
  if (!mapping) return ["no event source mapping for the sender"];
  const max = resolve(mapping.args.scalingConfig)?.maximumConcurrency;
  return Number.isInteger(max) && max >= 2 && max <= 1000
    ? []
    : [`the sender's scalingConfig.maximumConcurrency must be an integer from 2 to 1000, got ${JSON.stringify(max)}`];
};

/**
 * TRACKING_DOMAIN, when SES would accept it: an identity covering it (itself or a parent
 * domain) exists and is verified at deploy time. Otherwise SES refuses the configuration set
 * (`InvalidTrackingOptions`), as on a first deploy that creates the sending domain.
 */
export function applicableTrackingDomain(env: Record<string, string>, account: AccountState): string | undefined {
  const domain = env.TRACKING_DOMAIN?.toLowerCase();
  if (!domain) return undefined;
  const labels = domain.split(".");
  const covering = labels.slice(0, -1).map((_, i) => labels.slice(i).join("."));
  const identity = covering.map((name) => account.identities?.[name]).find((i) => i !== undefined);
  return identity?.verified ? domain : undefined;
}

/** One configuration set per tracking mode, each publishing the right events to SesEvents. */
export const configurationSets: Check = ({ recording, env, account }) => {
  const sending = linkable(recording, "Sending");
  const topic = recording.find("sst.aws.SnsTopic", "SesEvents");
  if (!sending || !topic) return ["no Sending linkable or no SesEvents topic"];
  const topicArn = resolve(topic.instance.arn);
  const names = resolve(sending.args.properties.configurationSets) ?? {};
  const problems: string[] = [];
  const modes = Object.keys(TRACKING_MODES);
  if (Object.keys(names).sort().join() !== [...modes].sort().join()) {
    problems.push(`Sending.configurationSets has keys ${Object.keys(names).join(", ")}; expected ${modes.join(", ")}`);
  }
  for (const mode of modes) {
    const name = names[mode];
    const set = recording.all("aws.sesv2.ConfigurationSet").find((s) => resolve(s.args.configurationSetName) === name);
    if (!set) {
      problems.push(`configuration set "${name}" (${mode}) is not created`);
      continue;
    }
    const destinations = recording
      .all("aws.sesv2.ConfigurationSetEventDestination")
      .filter((d) => resolve(d.args.configurationSetName) === name && resolve(d.args.eventDestination)?.enabled === true);
    const toTopic = destinations.filter((d) => resolve(d.args.eventDestination).snsDestination?.topicArn === topicArn);
    if (!toTopic.length) problems.push(`configuration set ${name} has no enabled event destination to the SesEvents topic`);
    const published = new Set(destinations.flatMap((d) => resolve(d.args.eventDestination).matchingEventTypes as string[]));
    const expected = new Set([
      ...BASE_EVENT_TYPES,
      ...(TRACKING_MODES[mode]!.opens ? ["OPEN"] : []),
      ...(TRACKING_MODES[mode]!.clicks ? ["CLICK"] : []),
    ]);
    for (const type of expected) if (!published.has(type)) problems.push(`configuration set ${name} (${mode}) does not publish ${type}`);
    for (const type of published)
      if (!expected.has(type)) problems.push(`configuration set ${name} (${mode}) publishes ${type}, which it must not`);
    const redirect = resolve(set.args.trackingOptions)?.customRedirectDomain;
    const tracks = TRACKING_MODES[mode]!.opens || TRACKING_MODES[mode]!.clicks;
    const wanted = tracks ? applicableTrackingDomain(env, account) : undefined;
    if (redirect !== wanted) problems.push(`configuration set ${name}: custom tracking domain is ${redirect}, expected ${wanted}`);
  }
  return problems;
};

/** Every function is linked to each `Resource.<Name>` its code reads. */
export const links: Check = async ({ recording }) => {
  const problems: string[] = [];
  for (const { fn, analysis } of await analyses(recording)) {
    const linked = new Set(linkNames(recording, fn));
    if (linked.has("<not a component>")) problems.push(`${label(fn)} links something that is not a component of this app`);
    for (const name of analysis.resourceReads) {
      if (name !== "App" && !linked.has(name)) problems.push(`${label(fn)} reads Resource.${name} but is not linked to it`);
    }
  }
  return problems;
};

/** Every link the code reads is declared in sst-env.d.ts with exactly the properties infra gives. */
export const linkContract: Check = async ({ recording }) => {
  const declared = declaredLinks();
  const problems: string[] = [];
  const read = new Set<string>();
  for (const { analysis } of await analyses(recording)) for (const name of analysis.resourceReads) read.add(name);
  read.delete("App");
  for (const name of [...read, ...declared.keys()]) {
    const declaration = declared.get(name);
    if (!declaration) {
      problems.push(`Resource.${name} is read by the code but not declared in packages/functions/sst-env.d.ts`);
      continue;
    }
    const target = recording.records.find((r) => r.kind.startsWith("sst.") && r.name === name);
    if (!target) {
      problems.push(`Resource.${name} is declared in sst-env.d.ts but no component of that name exists in infra/`);
      continue;
    }
    const value = linkValue(target);
    if (value.type !== declaration.type) problems.push(`Resource.${name}: declared type ${declaration.type}, infra has ${value.type}`);
    problems.push(...shapeProblems(`Resource.${name}`, declaration.shape, value.properties));
  }
  return problems;
};

/** Environment variables a function's code reads are set on it, given by Lambda, or optional. */
export const environment: Check = async ({ recording }) => {
  const problems: string[] = [];
  for (const { fn, analysis } of await analyses(recording)) {
    const set = new Set(Object.keys(resolve(fn.args.environment) ?? {}));
    for (const file of analysis.projectFiles) {
      const source = readFileSync(join(ROOT, file), "utf8");
      for (const m of source.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)|process\.env\[\s*["']([A-Z_][A-Z0-9_]*)["']\s*\]/g)) {
        const name = (m[1] ?? m[2])!;
        if (set.has(name) || /^(AWS_|LAMBDA_|_HANDLER$)/.test(name) || name in OPTIONAL_ENV) continue;
        problems.push(`${label(fn)} reads process.env.${name} (${file}) which infra does not set`);
      }
    }
  }
  return problems;
};

/**
 * Packages a function marks external (not bundled, not installed) are never needed: no import of
 * them is static (it would fail at cold start) and none comes from our code. Dynamic imports
 * from dependencies (adapters chosen at run time) may remain.
 */
export const externals: Check = async ({ recording }) => {
  const problems: string[] = [];
  for (const { fn, analysis } of await analyses(recording)) {
    const external: string[] = resolve(fn.args.nodejs)?.esbuild?.external ?? [];
    for (const name of external) {
      for (const imp of analysis.externalImports) {
        if (imp.path !== name && !imp.path.startsWith(`${name}/`)) continue;
        const ours = !imp.importer.includes("node_modules");
        if (ours || imp.kind !== "dynamic-import") {
          problems.push(
            `${label(fn)} marks ${name} external, but ${imp.importer} imports ${imp.path} (${imp.kind}): it would be missing in Lambda`,
          );
        }
      }
    }
  }
  return problems;
};

/** The role EventBridge Scheduler assumes can invoke the tick (and reach the tick DLQ). */
export const schedulerRole: Check = ({ recording }) => {
  const scheduling = linkable(recording, "Scheduling");
  if (!scheduling) return ["no Scheduling linkable"];
  const props = resolve(scheduling.args.properties);
  const problems: string[] = [];
  const tick = fnByHandler(recording, HANDLERS.tick);
  if (!tick) problems.push("no tick function");
  else if (props.tickArn !== resolve(tick.instance.arn))
    problems.push(`Scheduling.tickArn ${props.tickArn} is not the tick function's ARN`);
  if (!recording.all("aws.scheduler.ScheduleGroup").some((g) => resolve(g.instance.name) === props.groupName)) {
    problems.push(`Scheduling.groupName ${props.groupName} is not a schedule group of this app`);
  }
  if (!recording.all("sst.aws.Queue").some((q) => resolve(q.instance.arn) === props.deadLetterArn)) {
    problems.push(`Scheduling.deadLetterArn ${props.deadLetterArn} is not a queue of this app`);
  }
  const role = recording.all("aws.iam.Role").find((r) => resolve(r.instance.arn) === props.roleArn);
  if (!role) return [...problems, `Scheduling.roleArn ${props.roleArn} is not a role of this app`];
  const trust = policyStatements(role.args.assumeRolePolicy);
  const trusted = trust.some(
    (s) => s.effect === "allow" && s.actions.includes("sts:AssumeRole") && list(s.principal?.Service).includes("scheduler.amazonaws.com"),
  );
  if (!trusted) problems.push("the scheduler role cannot be assumed by scheduler.amazonaws.com");
  const roleRefs = new Set([resolve(role.instance.id), resolve(role.instance.name), resolve(role.instance.arn)]);
  const statements = recording
    .all("aws.iam.RolePolicy")
    .filter((p) => {
      const ref = p.args.role;
      return recording.recordOf(ref) === role || roleRefs.has(resolve(ref));
    })
    .flatMap((p) => policyStatements(p.args.policy));
  if (!allows(statements, "lambda:InvokeFunction", props.tickArn)) problems.push("the scheduler role may not invoke the tick function");
  if (props.deadLetterArn && !allows(statements, "sqs:SendMessage", props.deadLetterArn)) {
    problems.push("the scheduler role may not send undeliverable ticks to the dead-letter queue");
  }
  return problems;
};

/** What the functions do with AWS, they may do: manage schedules, send, verify identities. */
export const permissions: Check = async ({ recording }) => {
  const problems: string[] = [];
  const scheduling = linkable(recording, "Scheduling");
  const props = scheduling ? resolve(scheduling.args.properties) : undefined;
  const group = recording.all("aws.scheduler.ScheduleGroup").find((g) => resolve(g.instance.name) === props?.groupName);
  const scheduleArn = group ? `${String(resolve(group.instance.arn)).replace(":schedule-group/", ":schedule/")}/campaign-cmp_x` : "";
  const sending = linkable(recording, "Sending");
  const setArns = recording.all("aws.sesv2.ConfigurationSet").map((s) => String(resolve(s.instance.arn)));
  const identityArn = setArns[0] ? `${setArns[0].split(":").slice(0, 5).join(":")}:identity/example.com` : "";
  for (const { fn, analysis } of await analyses(recording)) {
    const reads = analysis.resourceReads;
    const statements = functionStatements(recording, fn);
    if (reads.has("Scheduling") && props) {
      for (const action of ["CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule"]) {
        if (!allows(statements, `scheduler:${action}`, scheduleArn)) problems.push(`${label(fn)} may not scheduler:${action} in the group`);
      }
      if (!allows(statements, "scheduler:ListSchedules", "*")) problems.push(`${label(fn)} may not scheduler:ListSchedules`);
      if (!allows(statements, "iam:PassRole", props.roleArn)) problems.push(`${label(fn)} may not pass the scheduler role`);
    }
    if (
      reads.has("SendQueue") &&
      !allows(statements, "sqs:SendMessage", resolve(recording.get("sst.aws.Queue", "SendQueue").instance.arn))
    ) {
      problems.push(`${label(fn)} may not send to the SendQueue`);
    }
    if (reads.has("Sending") && sending) {
      for (const arn of [identityArn, ...setArns]) {
        if (!allows(statements, "ses:SendEmail", arn)) problems.push(`${label(fn)} may not ses:SendEmail on ${arn}`);
      }
    }
  }
  const api = fnByHandler(recording, HANDLERS.api);
  if (api && !allows(functionStatements(recording, api), "ses:GetEmailIdentity", identityArn)) {
    problems.push("the API may not ses:GetEmailIdentity (email-account verification)");
  }
  return problems;
};

/** The production stage retains and protects; other stages are removable. */
export const production: Check = ({ config }) => {
  const problems: string[] = [];
  const prod = config.app({ stage: "production" });
  if (prod.removal !== "retain" && prod.removal !== "retain-all") problems.push(`production removal is ${prod.removal}, expected retain`);
  if (prod.protect !== true) problems.push(`production protect is ${prod.protect}, expected true`);
  const dev = config.app({ stage: "dev" });
  if (dev.protect) problems.push("a dev stage is protected: it could not be removed");
  return problems;
};

/** Migrations run on deploy (not in dev) from the folder local mode uses; a failure fails the deploy. */
export const migrations: Check = ({ recording, dev }) => {
  const migrator = fnByHandler(recording, HANDLERS.migrate);
  if (!migrator) return ["no migration function"];
  const problems: string[] = [];
  const saved = process.env.MIGRATIONS_DIR;
  delete process.env.MIGRATIONS_DIR;
  const local = migrationsFolder();
  if (saved !== undefined) process.env.MIGRATIONS_DIR = saved;
  const copies = (resolve(migrator.args.copyFiles) as Array<{ from: string; to?: string }>) ?? [];
  const copy = copies.find((c) => resolvePath(ROOT, c.from) === resolvePath(local));
  if (!copy) problems.push(`the migration function does not copy ${local} (the folder local mode migrates from)`);
  else {
    const dir = posix.join("/var/task", copy.to ?? copy.from);
    const env = resolve(migrator.args.environment)?.MIGRATIONS_DIR;
    if (env !== dir) problems.push(`MIGRATIONS_DIR is ${env}, but the migrations are copied to ${dir}`);
  }
  if (!readdirSync(local).some((f) => f.endsWith(".sql"))) problems.push(`${local} has no migrations`);
  const invocations = recording
    .all("aws.lambda.Invocation")
    .filter((i) => resolve(i.args.functionName) === resolve(migrator.instance.name));
  if (dev) {
    if (invocations.length) problems.push("migrations are invoked under sst dev");
    return problems;
  }
  if (invocations.length !== 1)
    return [...problems, `the migration function is invoked ${invocations.length} times on deploy, expected once`];
  const invocation = invocations[0]!;
  try {
    JSON.parse(resolve(invocation.args.input));
  } catch {
    problems.push("the migration invocation's input is not JSON");
  }
  const triggers = resolve(invocation.args.triggers) ?? {};
  if (!Object.keys(triggers).length) problems.push("the migration invocation has no triggers: it would run on the first deploy only");
  if (resolve(invocation.args.lifecycleScope) === "CRUD") problems.push("the migration invocation would also run on destroy");
  problems.push(...migrationsFirst(recording, migrator, invocation));
  return problems;
};

/** What a resource waits for: its `dependsOn` (one or a list). */
export function dependencies(recording: Recording, rec: Rec): Rec[] {
  const raw = resolve(rec.opts?.dependsOn);
  const list: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((d) => recording.recordOf(d)).filter((d): d is Rec => d !== undefined);
}

/**
 * New code goes live only after the migration run: every Lambda function (those SST creates for
 * each component) depends on the invocation, except the migrator's own (a cycle).
 */
function migrationsFirst(recording: Recording, migrator: Rec, invocation: Rec): string[] {
  const problems: string[] = [];
  const lambdas = recording.all("aws.lambda.Function");
  if (!lambdas.length) return ["no aws.lambda.Function was created (the stand-ins create one per sst.aws.Function)"];
  for (const fn of lambdas) {
    const own = fn.opts?.parent === migrator.instance;
    const waits = dependencies(recording, fn).includes(invocation);
    if (own && waits) problems.push(`${fn.name} (the migrator) depends on its own invocation: a cycle`);
    if (!own && !waits)
      problems.push(`${fn.name} does not wait for the migration run: its new code could go live before a failed migration`);
  }
  return problems;
}

/**
 * A failed tick is not retried (the next tick or the sweeper picks the campaign up): the tick's
 * asynchronous invocations have 0 retries, and what fails lands in the tick DLQ, which the tick's
 * role may send to; an alarm watches the tick's errors.
 */
export const tickFailures: Check = ({ recording }) => {
  const tick = fnByHandler(recording, HANDLERS.tick);
  const dlq = recording.find("sst.aws.Queue", "TickDlq");
  if (!tick || !dlq) return ["no tick function or no TickDlq"];
  const dlqArn = resolve(dlq.instance.arn);
  const problems: string[] = [];
  const configs = recording
    .all("aws.lambda.FunctionEventInvokeConfig")
    .filter((c) => resolve(c.args.functionName) === resolve(tick.instance.name));
  if (!configs.length) return ["the tick function has no event invoke config: Lambda retries a failed tick twice (retries unset)"];
  const config = resolve(configs[0]!.args);
  if (config.maximumRetryAttempts !== 0) problems.push(`the tick's maximumRetryAttempts is ${config.maximumRetryAttempts}, expected 0`);
  const destination = config.destinationConfig?.onFailure?.destination;
  if (destination !== dlqArn) problems.push(`failed ticks go to ${destination}, expected the TickDlq ${dlqArn}`);
  else if (!allows(functionStatements(recording, tick), "sqs:SendMessage", dlqArn))
    problems.push("the tick's role may not send to its on-failure destination (TickDlq)");
  const alarm = recording
    .all("aws.cloudwatch.MetricAlarm")
    .map((a) => resolve(a.args))
    .find((a) => a.namespace === "AWS/Lambda" && a.metricName === "Errors" && a.dimensions?.FunctionName === resolve(tick.instance.name));
  if (!alarm) problems.push("no alarm on the tick function's Errors");
  return problems;
};

/**
 * SNS → HTTPS webhooks for replies (SesInbound), raw delivery off; SesEvents goes to its queue
 * instead (`sesEventsQueue`); the allowlist is the topics of this app; SES may publish to both.
 */
export const webhooks: Check = ({ recording, dev }) => {
  const api = recording.find("sst.aws.ApiGatewayV2", "Api");
  const tracking = linkable(recording, "Tracking");
  if (!api || !tracking) return ["no Api or no Tracking linkable"];
  const publicUrl = String(resolve(api.instance.url)).replace(/\/+$/, "");
  // Subscriptions go to the execute-api endpoint: live with the stage, unlike a custom domain.
  const base = String(resolve(api.instance.nodes.api.apiEndpoint)).replace(/\/+$/, "");
  const probe = fnByHandler(recording, HANDLERS.apiReady);
  const ready = probe
    ? recording.all("aws.lambda.Invocation").find((i) => resolve(i.args.functionName) === resolve(probe.instance.name))
    : undefined;
  const topics = ["SesEvents", ...(recording.find("sst.aws.SnsTopic", "SesInbound") ? ["SesInbound"] : [])];
  const https: Record<string, string> = { SesInbound: "/webhooks/ses-inbound" };
  const problems: string[] = [];
  const topicArns = new Set<string>();
  for (const name of topics) {
    const arn = String(resolve(recording.get("sst.aws.SnsTopic", name).instance.arn));
    topicArns.add(arn);
    const subs = recording
      .all("aws.sns.TopicSubscription")
      .filter((s) => resolve(s.args.topic) === arn || recording.recordOf(s.args.topic)?.name === name);
    const path = https[name];
    const webhooks = subs.filter((s) => resolve(s.args.protocol) === "https");
    if (!path) {
      // SesEvents: through its queue; an HTTPS subscription beside it would apply every event twice.
      if (webhooks.length) problems.push(`${name} is subscribed over HTTPS too (${webhooks.map((s) => s.name).join(", ")})`);
    } else if (!webhooks.some((s) => resolve(s.args.endpoint) === `${base}${path}`)) {
      problems.push(
        `${name} has no HTTPS subscription to ${base}${path} (has: ${subs.map((s) => resolve(s.args.endpoint)).join(", ") || "none"})`,
      );
    }
    for (const s of webhooks) {
      if (resolve(s.args.rawMessageDelivery) === true) problems.push(`${s.name} uses raw message delivery (drops the signature)`);
      const waits = dependencies(recording, s);
      if (!waits.includes(api)) problems.push(`${s.name} does not wait for the whole API (stage, route, permission)`);
      if (!dev && (!ready || !waits.includes(ready)))
        problems.push(`${s.name} does not wait for the API to answer (the ApiReady probe): SNS's confirmation could be lost`);
    }
    const policies = recording.all("aws.sns.TopicPolicy").filter((p) => resolve(p.args.arn) === arn);
    const sesMayPublish = policies
      .flatMap((p) => policyStatements(p.args.policy))
      .some((s) => s.effect === "allow" && list(s.principal?.Service).includes("ses.amazonaws.com") && allows([s], "SNS:Publish", arn));
    if (!sesMayPublish) problems.push(`SES may not publish to ${name}`);
  }
  const allowlist = new Set<string>(resolve(tracking.args.properties.topicArns) ?? []);
  for (const arn of topicArns) if (!allowlist.has(arn)) problems.push(`Tracking.topicArns lacks ${arn}`);
  for (const arn of allowlist) if (!topicArns.has(arn)) problems.push(`Tracking.topicArns allows ${arn}, which is not a topic of this app`);
  if (!dev) {
    if (!ready) problems.push("the ApiReady probe is never invoked on deploy");
    else {
      const input = JSON.parse(resolve(ready.args.input));
      if (String(input.url).replace(/\/+$/, "") !== base) problems.push(`the ApiReady probe checks ${input.url}, not ${base}`);
      if (!dependencies(recording, ready).includes(api)) problems.push("the ApiReady probe does not wait for the API");
      if (!Object.keys(resolve(ready.args.triggers) ?? {}).length) problems.push("the ApiReady probe runs on the first deploy only");
    }
  }
  const sending = linkable(recording, "Sending");
  if (sending && resolve(sending.args.properties.publicUrl) !== publicUrl) {
    problems.push(`Sending.publicUrl ${resolve(sending.args.properties.publicUrl)} is not the API's URL ${publicUrl}`);
  }
  return problems;
};

/**
 * Replies: with REPLY_DOMAIN, an enabled rule of the active receipt rule set (this stage's, or
 * the account's named by INBOUND_RULE_SET) stores each whole message in the inbound bucket and
 * notifies SesInbound; SES may write the bucket; messages expire; the webhooks may read them.
 * A removal never deactivates receiving.
 */
export const inbound: Check = ({ recording, env }) => {
  const domain = env.REPLY_DOMAIN?.toLowerCase();
  const kinds = ["aws.ses.ReceiptRuleSet", "aws.ses.ReceiptRule", "aws.ses.ActiveReceiptRuleSet", "sst.aws.Bucket"];
  const topic = recording.find("sst.aws.SnsTopic", "SesInbound");
  if (!domain) {
    return kinds.some((k) => recording.all(k).length) || topic ? ["inbound resources exist without REPLY_DOMAIN"] : [];
  }
  if (!topic) return ["REPLY_DOMAIN is set but there is no SesInbound topic"];
  const problems: string[] = [];
  const topicArn = resolve(topic.instance.arn);
  const activations = recording.all("aws.ses.ActiveReceiptRuleSet");
  const active = [...activations.map((a) => resolve(a.args.ruleSetName)), ...(env.INBOUND_RULE_SET ? [env.INBOUND_RULE_SET] : [])];
  if (env.INBOUND_RULE_SET && (activations.length || recording.all("aws.ses.ReceiptRuleSet").length)) {
    problems.push(
      `INBOUND_RULE_SET=${env.INBOUND_RULE_SET}, yet this stage creates or activates a rule set: it would take receiving away from the account's active one`,
    );
  }
  for (const r of [...activations, ...recording.all("aws.ses.ReceiptRuleSet")]) {
    if (r.opts?.retainOnDelete !== true) problems.push(`${r.name} is not retained on removal: sst remove would cut the account's replies`);
  }
  const rules = recording
    .all("aws.ses.ReceiptRule")
    .filter((r) => active.includes(resolve(r.args.ruleSetName)) && resolve(r.args.enabled) !== false);
  const rule = rules.find((r) => (resolve(r.args.recipients) ?? []).includes(domain));
  if (!rule) return [...problems, `no enabled rule of an active receipt rule set receives mail for ${domain}`];
  if ((resolve(rule.args.snsActions) ?? []).length)
    problems.push("the receipt rule publishes through an SNS action: mail over 150 KB bounces and charsets are re-encoded");
  const bucket = recording.find("sst.aws.Bucket", "InboundMail");
  if (!bucket) return [...problems, "no InboundMail bucket"];
  const bucketName = resolve(bucket.instance.name);
  const action = (resolve(rule.args.s3Actions) ?? []).find((a: any) => a.bucketName === bucketName);
  if (!action) problems.push(`the receipt rule for ${domain} does not store the message in the InboundMail bucket`);
  else if (action.topicArn !== topicArn) problems.push(`the receipt rule's S3 action notifies ${action.topicArn}, not SesInbound`);
  if (!dependencies(recording, rule).includes(bucket)) problems.push("the receipt rule does not wait for the bucket (and its policy)");
  const sesMayWrite = (resolve(bucket.args.policy) ?? []).some(
    (p: any) =>
      (p.effect ?? "allow") === "allow" &&
      (p.principals ?? []).some((pr: any) => pr.type === "service" && pr.identifiers.includes("ses.amazonaws.com")) &&
      (p.actions ?? []).includes("s3:PutObject"),
  );
  if (!sesMayWrite) problems.push("SES may not write to the InboundMail bucket");
  if (!(resolve(bucket.args.lifecycle) ?? []).some((l: any) => l.expiresIn))
    problems.push("received messages never expire from the bucket");
  const tracking = linkable(recording, "Tracking");
  const properties = tracking ? resolve(tracking.args.properties) : {};
  if (properties.inboundBucket !== bucketName)
    problems.push(`Tracking.inboundBucket is ${properties.inboundBucket}, expected ${bucketName}`);
  const api = fnByHandler(recording, HANDLERS.api);
  const key = `arn:aws:s3:::${bucketName}/${action?.objectKeyPrefix ?? ""}reply-1`;
  if (api && !allows(functionStatements(recording, api), "s3:GetObject", key))
    problems.push("the API may not s3:GetObject the received messages");
  return problems;
};

/**
 * SES identities: one per domain per account and region. Created ones survive `sst remove`
 * (another stage may send with them); with SES_IDENTITIES=adopt none is created, and the DKIM
 * records come from the existing identity.
 */
export const sesIdentities: Check = ({ recording, env, outputs }) => {
  const problems: string[] = [];
  const created = recording.all("aws.sesv2.EmailIdentity");
  for (const identity of created) {
    if (identity.opts?.retainOnDelete !== true)
      problems.push(
        `${identity.name} (${resolve(identity.args.emailIdentity)}) is deleted on sst remove: stages sharing it would stop sending`,
      );
  }
  if ((env.SES_IDENTITIES ?? "create").toLowerCase() === "adopt") {
    if (created.length)
      problems.push(`SES_IDENTITIES=adopt, yet ${created.map((i) => resolve(i.args.emailIdentity)).join(", ")} is created`);
    if (env.EMAIL_DOMAIN && !recording.lookups.includes(`aws.sesv2.getEmailIdentity ${env.EMAIL_DOMAIN}`))
      problems.push(`the adopted identity ${env.EMAIL_DOMAIN} is not looked up`);
  } else {
    for (const domain of [env.EMAIL_DOMAIN, env.REPLY_DOMAIN]) {
      if (domain && !created.some((i) => resolve(i.args.emailIdentity) === domain))
        problems.push(`no SES identity is created for ${domain}`);
    }
  }
  if (env.EMAIL_DOMAIN && !(Array.isArray(outputs.dkimRecords) && outputs.dkimRecords.length === 3))
    problems.push(`the dkimRecords output is ${JSON.stringify(outputs.dkimRecords)}, expected 3 records`);
  return problems;
};

/** Alarms on the send DLQ's depth and on the sender's errors, to the Alarms topic. */
export const alarms: Check = ({ recording, env }) => {
  const topic = recording.find("sst.aws.SnsTopic", "Alarms");
  const dlq = recording.find("sst.aws.Queue", "SendDlq");
  const sender = senderOf(recording);
  if (!topic || !dlq || !sender) return ["no Alarms topic, SendDlq or sender"];
  const topicArn = resolve(topic.instance.arn);
  const all = recording.all("aws.cloudwatch.MetricAlarm").map((a) => ({ name: a.name, ...resolve(a.args) }));
  const fires = (a: any) =>
    (a.comparisonOperator === "GreaterThanThreshold" && a.threshold === 0) ||
    (a.comparisonOperator === "GreaterThanOrEqualToThreshold" && a.threshold === 1);
  const problems: string[] = [];
  const dlqAlarm = all.find(
    (a) =>
      a.namespace === "AWS/SQS" &&
      a.metricName === "ApproximateNumberOfMessagesVisible" &&
      a.dimensions?.QueueName === resolve(dlq.instance.nodes.queue.name),
  );
  if (!dlqAlarm) problems.push("no alarm on the send DLQ's ApproximateNumberOfMessagesVisible");
  else if (!fires(dlqAlarm)) problems.push(`${dlqAlarm.name} does not fire on the first message`);
  const errorsAlarm = all.find(
    (a) => a.namespace === "AWS/Lambda" && a.metricName === "Errors" && a.dimensions?.FunctionName === resolve(sender.instance.name),
  );
  if (!errorsAlarm) problems.push("no alarm on the sender function's Errors");
  else if (!fires(errorsAlarm)) problems.push(`${errorsAlarm.name} does not fire on the first error`);
  for (const a of [dlqAlarm, errorsAlarm])
    if (a && !(a.alarmActions ?? []).includes(topicArn)) problems.push(`${a.name} does not notify the Alarms topic`);
  const email = recording
    .all("aws.sns.TopicSubscription")
    .filter((s) => resolve(s.args.protocol) === "email" && resolve(s.args.topic) === topicArn);
  if (env.ALARM_EMAIL && !email.some((s) => resolve(s.args.endpoint) === env.ALARM_EMAIL))
    problems.push(`no email subscription for ${env.ALARM_EMAIL}`);
  if (!env.ALARM_EMAIL && email.length) problems.push("an alarm email subscription exists without ALARM_EMAIL");
  return problems;
};

/** The API: `$default` → api.handler, Swagger UI assets copied, optional custom domain; the sweeper every 5 minutes. */
export const apiAndSweeper: Check = ({ recording, env }) => {
  const problems: string[] = [];
  const api = recording.find("sst.aws.ApiGatewayV2", "Api");
  if (!api) return ["no Api"];
  const route = api.calls.find((c) => c.method === "route" && c.args[0] === "$default");
  const handler = route && resolve(typeof route.args[1] === "string" ? route.args[1] : (route.args[1] as any)?.handler);
  if (handler !== HANDLERS.api) problems.push(`the API's $default route runs ${handler}, expected ${HANDLERS.api}`);
  const domain = resolve(api.args.domain);
  const domainName = typeof domain === "string" ? domain : domain?.name;
  if (domainName !== env.API_DOMAIN?.toLowerCase()) problems.push(`the API's domain is ${domainName}, expected ${env.API_DOMAIN}`);
  const fn = fnByHandler(recording, HANDLERS.api);
  const copied = ((resolve(fn?.args.copyFiles) as Array<{ from: string; to?: string }>) ?? []).map((c) => posix.normalize(c.to ?? c.from));
  for (const file of ["swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css"]) {
    if (!copied.includes(file)) problems.push(`the API function does not carry ${file}`);
  }
  const sweeper = recording.find("sst.aws.CronV2", "Sweeper");
  if (!sweeper) problems.push("no Sweeper");
  else {
    if (resolve(sweeper.args.schedule) !== "rate(5 minutes)") problems.push(`the sweeper runs on ${resolve(sweeper.args.schedule)}`);
    const target = resolve(sweeper.args.function);
    if ((typeof target === "string" ? target : target?.handler) !== HANDLERS.sweeper)
      problems.push("the sweeper does not run sweeper.handler");
  }
  return problems;
};

/**
 * What operators need: the dead-letter queues' ARNs and URLs as stack outputs (the runbook
 * inspects and redrives them), and the hand-written link contract (packages/functions/
 * sst-env.d.ts) kept out of SST's type generator, which would overwrite it on every deploy.
 */
export const operations: Check = ({ recording, outputs, config, stage }) => {
  const problems: string[] = [];
  for (const [key, name] of [
    ["send", "SendDlq"],
    ["tick", "TickDlq"],
  ] as const) {
    const queue = recording.find("sst.aws.Queue", name);
    if (!queue) {
      problems.push(`no ${name}`);
      continue;
    }
    const given = outputs.deadLetters?.[key];
    if (given?.arn !== resolve(queue.instance.arn) || given?.url !== resolve(queue.instance.url))
      problems.push(`the stack outputs lack deadLetters.${key} { arn, url } of ${name} (got ${JSON.stringify(given)})`);
  }
  const ignored: string[] = (config.app({ stage }) as { types?: { ignore?: string[] } }).types?.ignore ?? [];
  if (!ignored.some((dir) => posix.normalize(dir).replace(/\/$/, "") === "packages/functions"))
    problems.push("packages/functions is not in the app's types.ignore: SST's generator would overwrite packages/functions/sst-env.d.ts");
  return problems;
};

/**
 * A queue and its consumer: a dead-letter queue of its own, a subscriber with partial batch
 * responses running `handler`, a visibility timeout at least 6 times its timeout plus the
 * batching window, and a capped concurrency.
 */
function queueConsumer(recording: Recording, queue: Rec, role: string, handler: string): { problems: string[]; dlq?: Rec; consumer?: Rec } {
  const problems: string[] = [];
  const dlq = resolve(queue.args.dlq);
  const dlqArn = typeof dlq === "string" ? dlq : dlq?.queue;
  const target = recording.all("sst.aws.Queue").find((q) => resolve(q.instance.arn) === dlqArn);
  if (!target || target === queue) problems.push(`${queue.name} has no dead-letter queue of its own`);
  const call = queue.calls.find((c) => c.method === "subscribe");
  if (!call) return { problems: [...problems, `${queue.name} has no subscriber`], dlq: target };
  if (resolve((call.args[1] as any)?.batch)?.partialResponses !== true)
    problems.push(`${queue.name}.subscribe: batch.partialResponses is not true`);
  const consumer = recording.functions().find((f) => f.via === `subscriber of ${queue.name}`);
  const mapping = recording.all("aws.lambda.EventSourceMapping").find((m) => m.via === `subscriber of ${queue.name}`);
  if (!consumer || !mapping) return { problems: [...problems, `no ${role} function subscribed to ${queue.name}`], dlq: target };
  if (resolve(consumer.args.handler) !== handler) problems.push(`the ${queue.name} subscriber is ${resolve(consumer.args.handler)}`);
  const visibility = toSeconds(queue.args.visibilityTimeout ?? "30 seconds");
  const timeout = toSeconds(consumer.args.timeout ?? "20 seconds");
  const window = Number(resolve(mapping.args.maximumBatchingWindowInSeconds) ?? 0);
  if (visibility < 6 * timeout + window)
    problems.push(`${queue.name} visibility timeout ${visibility}s < 6 x ${role} timeout ${timeout}s + batching window ${window}s`);
  const max = resolve(mapping.args.scalingConfig)?.maximumConcurrency;
  if (!(Number.isInteger(max) && max >= 2)) problems.push(`the ${role}'s maximumConcurrency must be capped, got ${JSON.stringify(max)}`);
  return { problems, dlq: target, consumer };
}

/**
 * Outbound webhooks: their own queue with a dead-letter queue, a deliverer subscribed with
 * partial batch responses, a visibility timeout at least 6 times its timeout and a capped
 * concurrency; every function that emits events (API, sender, sweeper, deliverer) linked to it.
 */
export const outboundWebhooks: Check = ({ recording }) => {
  const queue = recording.find("sst.aws.Queue", "WebhookQueue");
  if (!queue) return ["no WebhookQueue"];
  const { problems } = queueConsumer(recording, queue, "deliverer", HANDLERS.webhookDeliverer);
  for (const handler of [HANDLERS.api, HANDLERS.sender, HANDLERS.sweeper, HANDLERS.webhookDeliverer, HANDLERS.sesEvents]) {
    const fn = fnByHandler(recording, handler);
    if (fn && !linkNames(recording, fn).includes("WebhookQueue"))
      problems.push(`${label(fn)} emits webhook events but is not linked to WebhookQueue`);
  }
  return problems;
};

/**
 * SES events: SesEvents → its own queue (raw delivery) → the consumer in batches with partial
 * responses; the queue admits that topic alone; a dead-letter queue with an alarm; a visibility
 * timeout at least 6 times the consumer's timeout plus its batching window; capped concurrency.
 */
export const sesEventsQueue: Check = ({ recording }) => {
  const queue = recording.find("sst.aws.Queue", "SesEventsQueue");
  const topic = recording.find("sst.aws.SnsTopic", "SesEvents");
  if (!queue || !topic) return ["no SesEventsQueue or no SesEvents topic"];
  const { problems, dlq: target, consumer } = queueConsumer(recording, queue, "SES events consumer", HANDLERS.sesEvents);
  const queueArn = String(resolve(queue.instance.arn));
  const topicArn = String(resolve(topic.instance.arn));
  const subscriptions = recording
    .all("aws.sns.TopicSubscription")
    .filter((s) => resolve(s.args.topic) === topicArn && resolve(s.args.protocol) === "sqs" && resolve(s.args.endpoint) === queueArn);
  if (!subscriptions.length) problems.push("SesEvents is not subscribed to SesEventsQueue");
  for (const s of subscriptions)
    if (resolve(s.args.rawMessageDelivery) !== true) problems.push(`${s.name} is not raw: every body would be an SNS envelope`);
  const statements = recording
    .all("aws.sqs.QueuePolicy")
    .filter((p) => resolve(p.args.queueUrl) === resolve(queue.instance.url))
    .flatMap((p) => {
      const doc = resolve(p.args.policy);
      return ((typeof doc === "string" ? JSON.parse(doc) : doc)?.Statement ?? []) as any[];
    });
  const admitted = statements.filter((s) => s.Effect === "Allow" && list(s.Principal?.Service).includes("sns.amazonaws.com"));
  if (!admitted.length) problems.push("SNS may not send to SesEventsQueue (no queue policy for it)");
  for (const s of admitted) {
    const source = s.Condition?.ArnEquals?.["aws:SourceArn"] ?? s.Condition?.ArnLike?.["aws:SourceArn"];
    if (source !== topicArn) problems.push(`SesEventsQueue admits SNS messages from ${source ?? "any topic"}, not SesEvents alone`);
  }
  if (consumer && !linkNames(recording, consumer).includes("DatabaseUrl"))
    problems.push("the SES events consumer is not linked to DatabaseUrl");
  const alarm = recording
    .all("aws.cloudwatch.MetricAlarm")
    .map((a) => resolve(a.args))
    .find(
      (a) =>
        a.namespace === "AWS/SQS" &&
        a.metricName === "ApproximateNumberOfMessagesVisible" &&
        target &&
        a.dimensions?.QueueName === resolve(target.instance.nodes.queue.name),
    );
  if (!alarm) problems.push("no alarm on the SES events dead-letter queue");
  return problems;
};

export const CHECKS: Record<string, Check> = {
  handlers,
  queueDlq,
  partialBatch,
  visibilityTimeout,
  senderConcurrency,
  configurationSets,
  links,
  linkContract,
  environment,
  externals,
  schedulerRole,
  permissions,
  production,
  migrations,
  tickFailures,
  webhooks,
  inbound,
  sesIdentities,
  operations,
  alarms,
  apiAndSweeper,
  outboundWebhooks,
  sesEventsQueue,
};

export async function runChecks(ev: Evaluation, names: string[] = Object.keys(CHECKS)): Promise<Record<string, string[]>> {
  const results: Record<string, string[]> = {};
  for (const name of names) results[name] = await CHECKS[name]!(ev);
  return results;
}
