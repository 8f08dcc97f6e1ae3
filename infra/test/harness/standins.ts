/**
 * Recording stand-ins of SST's globals (`sst.*`, `aws.*`, `$interpolate`, `$jsonStringify`, ...)
 * for evaluating sst.config.ts and infra/ offline. Every component and resource constructed is
 * recorded with its arguments and options; outputs are Output-like placeholders (realistic ARNs,
 * URLs and names) that `$interpolate`, `apply` and property lifting combine the way Pulumi does.
 * They behave like SST v4.17 where it matters to the wiring: a queue takes one subscriber, the
 * subscriber's event source mapping is built as SST builds it (then transformed), routes and
 * cron jobs create their functions, `Function.url` throws when no URL is enabled, and an Output
 * used in a plain template literal turns into Pulumi's warning text instead of its value.
 * The types infra/ is checked against are SST's real ones (infra/platform/check.ts), not these.
 */

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

const BRAND = Symbol.for("fluenzr.infra.standin.output");
export const OUTPUT_TO_STRING =
  "Calling [toString] on an [Output<T>] is not supported. To get the value of an Output<T> as an Output<string> use $interpolate.";

export interface FakeOutput<T = unknown> {
  readonly [BRAND]: true;
  readonly value: T;
  apply<U>(fn: (value: any) => U): FakeOutput<U>;
  [lifted: string]: any;
}

export function isOutput(value: unknown): value is FakeOutput {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: boolean })[BRAND] === true;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || isOutput(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The value behind outputs, deeply through arrays and plain objects (not into resources). */
export function resolve<T = any>(value: unknown): T {
  if (isOutput(value)) return resolve(value.value);
  if (Array.isArray(value)) return value.map((v) => resolve(v)) as T;
  if (isPlain(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)])) as T;
  return value as T;
}

/** An Output-like value; outputs of outputs flatten, as in Pulumi. */
export function output<T>(value: T): FakeOutput<any> {
  if (isOutput(value)) return value;
  const target = {
    [BRAND]: true as const,
    value,
    apply: (fn: (v: any) => unknown) => output(fn(resolve(value))),
    toString: () => OUTPUT_TO_STRING,
    toJSON: () => OUTPUT_TO_STRING,
  };
  return new Proxy(target, {
    get(t, prop) {
      if (prop in t) return (t as any)[prop];
      if (typeof prop === "symbol" || prop === "then") return undefined;
      // Lifting: `out.prop` is the output of the value's property.
      const inner = resolve(value) as any;
      return output(inner === undefined || inner === null ? undefined : inner[prop]);
    },
  }) as unknown as FakeOutput<any>;
}

export function interpolate(literals: TemplateStringsArray, ...placeholders: unknown[]) {
  return output(
    literals.reduce((text, literal, i) => text + literal + (i < placeholders.length ? String(resolve(placeholders[i])) : ""), ""),
  );
}

// ---------------------------------------------------------------------------------------------
// The recording
// ---------------------------------------------------------------------------------------------

export interface Rec {
  /** `sst.aws.Function`, `sst.Linkable`, `aws.sesv2.ConfigurationSet`, ... */
  kind: string;
  name: string;
  args: any;
  opts?: any;
  instance: any;
  /** For resources a component made: which and why (`route $default of Api`). */
  via?: string;
  /** Method calls on the instance (`subscribe`, `route`), with their arguments. */
  calls: Array<{ method: string; args: unknown[] }>;
}

export interface AppContext {
  name: string;
  stage: string;
}

export class Recording {
  readonly records: Rec[] = [];
  /** Deploy-time lookups made (Pulumi invokes), in order. */
  readonly lookups: string[] = [];
  private readonly byInstance = new WeakMap<object, Rec>();

  constructor(readonly app: AppContext) {}

  add(rec: Rec): Rec {
    const clash = this.records.find(
      (r) =>
        (r.kind === rec.kind && r.name === rec.name) ||
        (r.kind.startsWith("sst.") && rec.kind.startsWith("sst.") && r.name.toLowerCase() === rec.name.toLowerCase()),
    );
    if (clash) throw new Error(`Duplicate name "${rec.name}" (${clash.kind} and ${rec.kind}): component names must be unique`);
    if (rec.kind.startsWith("sst.") && rec.name === "App") throw new Error(`"App" is a reserved component name`);
    this.records.push(rec);
    this.byInstance.set(rec.instance, rec);
    return rec;
  }

  all(kind: string): Rec[] {
    return this.records.filter((r) => r.kind === kind);
  }

  find(kind: string, name: string): Rec | undefined {
    return this.records.find((r) => r.kind === kind && r.name === name);
  }

  get(kind: string, name: string): Rec {
    const rec = this.find(kind, name);
    if (!rec)
      throw new Error(
        `No ${kind} named "${name}" was created (have: ${
          this.all(kind)
            .map((r) => r.name)
            .join(", ") || "none"
        })`,
      );
    return rec;
  }

  recordOf(instance: unknown): Rec | undefined {
    const value = isOutput(instance) ? resolve(instance) : instance;
    return typeof value === "object" && value !== null ? this.byInstance.get(value) : undefined;
  }

  /** Every Lambda function, whether created directly or by a route, subscriber or cron job. */
  functions(): Rec[] {
    return this.all("sst.aws.Function");
  }

  functionByHandler(handler: string): Rec | undefined {
    return this.functions().find((f) => resolve(f.args.handler) === handler);
  }

  physicalName(name: string): string {
    return `${this.app.name}-${this.app.stage}-${name}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the stand-ins
// ---------------------------------------------------------------------------------------------

const UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86400 };

/** SST durations (`"30 seconds"`, `"3 minutes"`) in seconds. */
export function toSeconds(duration: unknown): number {
  const match = /^(\d+(?:\.\d+)?) (second|minute|hour|day)s?$/.exec(String(resolve(duration)));
  if (!match) throw new Error(`Invalid duration "${String(resolve(duration))}": expected e.g. "30 seconds" or "3 minutes"`);
  return Number(match[1]) * UNITS[match[2]!]!;
}

function applyTransform<T extends object>(transform: unknown, args: T, opts: unknown, name: string): T {
  if (typeof transform === "function") {
    transform(args, opts, name);
    return args;
  }
  if (transform && typeof transform === "object") return { ...args, ...(transform as object) };
  return args;
}

type TransformRegistry = Array<{ target: unknown; cb: (args: any, opts: any, name: string) => void }>;

// ---------------------------------------------------------------------------------------------
// The stand-ins
// ---------------------------------------------------------------------------------------------

export interface Standins {
  sst: any;
  aws: any;
  globals: Record<string, unknown>;
}

/** The AWS account as the deploy-time lookups see it (SES identities that exist, verified or not). */
export interface AccountState {
  identities?: Record<string, { verified: boolean; dkimTokens?: string[] }>;
}

export function createStandins(recording: Recording, account: AccountState = {}): Standins {
  const transforms: TransformRegistry = [];
  const phys = (name: string) => recording.physicalName(name);
  const urn = (kind: string, name: string) => output(`urn:pulumi:${recording.app.stage}::${recording.app.name}::${kind}::${name}`);

  const trustPolicy = (service: string) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });

  function transformed(target: unknown, args: any, opts: any, name: string) {
    for (const t of transforms) if (t.target === target) t.cb(args, opts ?? {}, name);
    return args;
  }

  // ---- raw aws.* resources: record everything, answer any output ----------------------------

  const arnOf: Record<string, (name: string, args: any) => string> = {
    "aws.iam.Role": (n, a) => `arn:aws:iam::${ACCOUNT}:role/${resolve(a.name) ?? phys(n)}`,
    "aws.scheduler.ScheduleGroup": (n, a) => `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${resolve(a.name) ?? phys(n)}`,
    "aws.sesv2.ConfigurationSet": (_, a) => `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/${resolve(a.configurationSetName)}`,
    "aws.sesv2.EmailIdentity": (_, a) => `arn:aws:ses:${REGION}:${ACCOUNT}:identity/${resolve(a.emailIdentity)}`,
    "aws.ses.ReceiptRuleSet": (_, a) => `arn:aws:ses:${REGION}:${ACCOUNT}:receipt-rule-set/${resolve(a.ruleSetName)}`,
    "aws.ses.ReceiptRule": (n, a) =>
      `arn:aws:ses:${REGION}:${ACCOUNT}:receipt-rule-set/${resolve(a.ruleSetName)}:receipt-rule/${resolve(a.name) ?? n}`,
    "aws.cloudwatch.MetricAlarm": (n, a) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${resolve(a.name) ?? phys(n)}`,
    "aws.sns.TopicSubscription": (n) => `arn:aws:sns:${REGION}:${ACCOUNT}:subscription:${n}`,
  };

  const rawClasses = new Map<string, new (name: string, args?: any, opts?: any) => any>();

  function rawClass(kind: string) {
    let cls = rawClasses.get(kind);
    if (cls) return cls;
    cls = class RawResource {
      constructor(name: string, args: any = {}, opts?: any) {
        if (typeof name !== "string" || !name) throw new Error(`${kind}: a resource needs a name`);
        opts = opts ?? {};
        args = transformed(cls, args, opts, name);
        const proxy: any = new Proxy(this, {
          get(target, prop) {
            if (typeof prop === "symbol" || prop === "then") return (target as any)[prop];
            return rawOutput(kind, name, args, String(prop));
          },
        });
        recording.add({ kind, name, args, opts, instance: proxy, calls: [] });
        // biome-ignore lint/correctness/noConstructorReturn: the instance is a proxy answering any output, as Pulumi resources do
        return proxy;
      }
    };
    rawClasses.set(kind, cls);
    return cls;
  }

  function rawOutput(kind: string, name: string, args: any, prop: string) {
    if (prop === "urn") return urn(kind, name);
    if (prop === "arn") {
      const service = kind.split(".")[1]!;
      return output(arnOf[kind]?.(name, args) ?? `arn:aws:${service}:${REGION}:${ACCOUNT}:${kind.split(".")[2]}/${phys(name)}`);
    }
    if (prop === "id") return output(kind === "aws.iam.Role" ? (resolve(args.name) ?? phys(name)) : `${phys(name)}-id`);
    if (prop === "name") return output(args.name ?? phys(name));
    if (kind === "aws.sesv2.EmailIdentity" && prop === "dkimSigningAttributes") {
      const domain = String(resolve(args.emailIdentity)).replace(/\W/g, "");
      return output({ tokens: [1, 2, 3].map((i) => `dkim${i}${domain}`), status: "PENDING", signingAttributesOrigin: "AWS_SES" });
    }
    if (prop === "pendingConfirmation") return output(false);
    if (prop in args) return output(args[prop]);
    return output(`<${name}.${prop}>`);
  }

  function namespace(path: string): any {
    return new Proxy(
      {},
      {
        get(_, prop) {
          if (typeof prop === "symbol") return undefined;
          if (/^[A-Z]/.test(prop)) return rawClass(`${path}.${prop}`);
          if (/^get[A-Z]/.test(prop)) {
            const invoke = invokes[`${path}.${prop}`];
            if (!invoke) throw new Error(`${path}.${prop} is not provided by the offline stand-ins (infra/test/harness/standins.ts)`);
            return invoke;
          }
          return namespace(`${path}.${prop}`);
        },
      },
    );
  }

  // Deploy-time lookups (Pulumi invokes): answered from `account`, failing as AWS does when absent.
  const invokes: Record<string, (args: any) => Promise<unknown>> = {
    "aws.sesv2.getEmailIdentity": async ({ emailIdentity }: { emailIdentity: string }) => {
      recording.lookups.push(`aws.sesv2.getEmailIdentity ${emailIdentity}`);
      const found = account.identities?.[emailIdentity];
      if (!found) throw new Error(`NotFoundException: Email identity ${emailIdentity} does not exist.`);
      return {
        emailIdentity,
        verifiedForSendingStatus: found.verified,
        verificationStatus: found.verified ? "SUCCESS" : "PENDING",
        dkimSigningAttributes: [
          { tokens: found.dkimTokens ?? [1, 2, 3].map((i) => `adopted${i}`), status: found.verified ? "SUCCESS" : "PENDING" },
        ],
      };
    },
  };

  const aws = new Proxy(
    {
      getCallerIdentityOutput: () =>
        output({ accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/deployer`, id: ACCOUNT, userId: "AIDADEPLOYER" }),
    } as Record<string, unknown>,
    {
      get(target, prop) {
        if (typeof prop === "symbol") return undefined;
        if (prop in target) return target[prop];
        if (/^get[A-Z]/.test(prop))
          throw new Error(`aws.${prop} is not provided by the offline stand-ins (infra/test/harness/standins.ts)`);
        return namespace(`aws.${prop}`);
      },
    },
  );

  // ---- sst.* components ----------------------------------------------------------------------

  function functionArgsOf(subscriber: unknown): any | undefined {
    const value = resolve(subscriber);
    if (typeof value === "string") return value.startsWith("arn:") ? undefined : { handler: value };
    return value;
  }

  class Secret {
    readonly urn: unknown;
    readonly name: unknown;
    readonly value: unknown;
    constructor(name: string, placeholder?: unknown) {
      this.urn = urn("sst:sst:Secret", name);
      this.name = output(name);
      this.value = output(placeholder ?? `<secret ${name}>`);
      recording.add({ kind: "sst.Secret", name, args: { placeholder }, instance: this, calls: [] });
    }
  }

  class Linkable {
    readonly urn: unknown;
    readonly name: unknown;
    readonly properties: unknown;
    constructor(name: string, definition: { properties: Record<string, unknown>; include?: unknown[] }) {
      if (!definition || typeof definition.properties !== "object") throw new Error(`sst.Linkable "${name}" needs properties`);
      this.urn = urn("sst:sst:Linkable", name);
      this.name = output(name);
      this.properties = definition.properties;
      recording.add({ kind: "sst.Linkable", name, args: definition, instance: this, calls: [] });
    }
  }

  class FunctionStandin {
    readonly urn: unknown;
    readonly arn: unknown;
    readonly name: unknown;
    readonly nodes: unknown;
    private readonly hasUrl: boolean;
    constructor(name: string, args: any, opts: any = {}, via?: string) {
      args = transformed(FunctionStandin, { ...args }, opts, name);
      const handler = resolve(args?.handler);
      if (typeof handler !== "string" || !/^[^.]+(\/[^.]+)*\.[A-Za-z_$][\w$]*$/.test(handler.replace(/^\.\//, ""))) {
        throw new Error(`sst.aws.Function "${name}": handler must be "<path>/<file>.<export>", got ${JSON.stringify(handler)}`);
      }
      if (args.timeout !== undefined && toSeconds(args.timeout) > 900)
        throw new Error(`sst.aws.Function "${name}": timeout over 15 minutes`);
      const physical = phys(name);
      this.urn = urn("sst:aws:Function", name);
      this.arn = output(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physical}`);
      this.name = output(physical);
      this.hasUrl = Boolean(resolve(args.url));
      const role = new (rawClass("aws.iam.Role"))(`${name}Role`, { assumeRolePolicy: trustPolicy("lambda.amazonaws.com") });
      recording.recordOf(role)!.via = `function ${name}`;
      this.nodes = { function: output({ arn: this.arn, name: this.name }), role };
      recording.add({ kind: "sst.aws.Function", name, args, opts, instance: this, via, calls: [] });
      // SST creates the Lambda function itself inside an `apply`, after the program has moved on:
      // stack transforms ($transform on aws.lambda.Function) registered later still apply to it.
      queueMicrotask(() => {
        const fn = new (rawClass("aws.lambda.Function"))(
          `${name}Function`,
          { name: physical, handler: resolve(args.handler), runtime: resolve(args.runtime), timeout: args.timeout },
          { parent: this },
        );
        recording.recordOf(fn)!.via = `function ${name}`;
      });
      // As SST: an event invoke config only when `retries` is set, then transformed.
      if (args.retries !== undefined) {
        const config = new (rawClass("aws.lambda.FunctionEventInvokeConfig"))(
          `${name}EventInvokeConfig`,
          applyTransform(
            args.transform?.eventInvokeConfig,
            { functionName: this.name, maximumRetryAttempts: args.retries },
            {},
            `${name}EventInvokeConfig`,
          ),
          { parent: this },
        );
        recording.recordOf(config)!.via = `function ${name}`;
      }
    }
    get url() {
      if (!this.hasUrl) throw new Error("Function URL is not enabled. Enable it with `url: true`.");
      return output(`https://${String(resolve(this.name))}.lambda-url.${REGION}.on.aws`);
    }
  }

  class Queue {
    readonly urn: unknown;
    readonly arn: unknown;
    readonly url: unknown;
    readonly nodes: { queue: any };
    private readonly record: Rec;
    private subscribed = false;
    constructor(name: string, args: any = {}, opts?: any) {
      args = transformed(Queue, { ...args }, opts, name);
      if (args.visibilityTimeout !== undefined && toSeconds(args.visibilityTimeout) > 12 * 3600) {
        throw new Error(`sst.aws.Queue "${name}": visibilityTimeout over 12 hours`);
      }
      const physical = phys(name);
      this.urn = urn("sst:aws:Queue", name);
      this.arn = output(`arn:aws:sqs:${REGION}:${ACCOUNT}:${physical}`);
      this.url = output(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`);
      this.nodes = { queue: { name: output(physical), arn: this.arn, url: this.url } };
      this.record = recording.add({ kind: "sst.aws.Queue", name, args, opts, instance: this, calls: [] });
    }
    subscribe(subscriber: unknown, args: any = {}, opts?: any) {
      if (this.subscribed) throw new Error("An SQS Queue can only have one subscriber");
      this.subscribed = true;
      const name = this.record.name;
      this.record.calls.push({ method: "subscribe", args: [subscriber, args, opts] });
      const given = functionArgsOf(subscriber);
      const fnArgs = given === undefined ? undefined : applyTransform(args.transform?.function, { ...given }, {}, `${name}Subscriber`);
      const fn = fnArgs ? new FunctionStandin(`${name}Subscriber`, fnArgs, undefined, `subscriber of ${name}`) : undefined;
      const batch = resolve(args.batch) ?? {};
      const filters = resolve(args.filters);
      const mappingArgs = applyTransform(
        args.transform?.eventSourceMapping,
        {
          functionResponseTypes: batch.partialResponses ? ["ReportBatchItemFailures"] : [],
          batchSize: batch.size ?? 10,
          maximumBatchingWindowInSeconds: batch.window ? toSeconds(batch.window) : 0,
          eventSourceArn: this.arn,
          functionName: fn ? fn.arn : resolve(subscriber),
          filterCriteria: filters ? { filters: filters.map((f: unknown) => ({ pattern: JSON.stringify(f) })) } : undefined,
        },
        {},
        `${name}SubscriberEventSourceMapping`,
      );
      const mapping = new (rawClass("aws.lambda.EventSourceMapping"))(`${name}SubscriberEventSourceMapping`, mappingArgs);
      recording.recordOf(mapping)!.via = `subscriber of ${name}`;
      return output({
        urn: urn("sst:aws:QueueLambdaSubscriber", `${name}Subscriber`),
        nodes: { function: output(fn), eventSourceMapping: mapping },
      });
    }
  }

  class SnsTopic {
    readonly urn: unknown;
    readonly arn: unknown;
    readonly name: unknown;
    readonly nodes: unknown;
    constructor(name: string, args: any = {}, opts?: any) {
      args = transformed(SnsTopic, { ...args }, opts, name);
      const physical = phys(name);
      this.urn = urn("sst:aws:SnsTopic", name);
      this.arn = output(`arn:aws:sns:${REGION}:${ACCOUNT}:${physical}`);
      this.name = output(physical);
      this.nodes = { topic: { arn: this.arn, name: this.name } };
      recording.add({ kind: "sst.aws.SnsTopic", name, args, opts, instance: this, calls: [] });
    }
  }

  class ApiGatewayV2 {
    readonly urn: unknown;
    readonly url: unknown;
    readonly nodes: { api: { apiEndpoint: unknown; id: unknown } };
    private readonly record: Rec;
    constructor(name: string, args: any = {}, opts?: any) {
      args = transformed(ApiGatewayV2, { ...args }, opts, name);
      const domain = resolve(args.domain);
      const domainName = typeof domain === "string" ? domain : domain?.name;
      const path = typeof domain === "object" && domain ? domain.path : undefined;
      this.urn = urn("sst:aws:ApiGatewayV2", name);
      const endpoint = `https://${name.toLowerCase()}0abc.execute-api.${REGION}.amazonaws.com`;
      this.nodes = { api: { apiEndpoint: output(endpoint), id: output(`${name.toLowerCase()}0abc`) } };
      this.url = output(domainName ? (path ? `https://${domainName}/${path}/` : `https://${domainName}`) : endpoint);
      this.record = recording.add({ kind: "sst.aws.ApiGatewayV2", name, args, opts, instance: this, calls: [] });
    }
    route(rawRoute: string, handler: unknown, args: any = {}) {
      const route = rawRoute.toLowerCase() === "$default" ? "$default" : rawRoute;
      if (route !== "$default" && !/^(ANY|DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT) \//.test(route)) {
        throw new Error(`Invalid route ${rawRoute}. A route must be in the format "METHOD /path".`);
      }
      if (this.record.calls.some((c) => c.method === "route" && c.args[0] === route)) throw new Error(`Route ${route} is defined twice`);
      this.record.calls.push({ method: "route", args: [route, handler, args] });
      const name = this.record.name;
      const given = functionArgsOf(handler);
      const apiLinks = resolve(this.record.args.link) ?? [];
      const fnArgs = given && { ...given, link: [...apiLinks, ...(resolve(given.link) ?? [])] };
      const label = route === "$default" ? "Default" : route.replace(/[^A-Za-z0-9]/g, "");
      const fn = fnArgs ? new FunctionStandin(`${name}Route${label}`, fnArgs, undefined, `route ${route} of ${name}`) : undefined;
      return { urn: urn("sst:aws:ApiGatewayV2LambdaRoute", `${name}Route${label}`), nodes: { function: output(fn) } };
    }
  }

  class CronV2 {
    readonly urn: unknown;
    readonly nodes: unknown;
    constructor(name: string, args: any, opts?: any) {
      args = transformed(CronV2, { ...args }, opts, name);
      const targets = ["function", "job", "task"].filter((k) => args?.[k] !== undefined);
      if (targets.length !== 1) throw new Error(`sst.aws.CronV2 "${name}": give exactly one of function or task`);
      const schedule = String(resolve(args.schedule));
      if (!/^(rate|cron|at)\(.+\)$/.test(schedule)) throw new Error(`sst.aws.CronV2 "${name}": invalid schedule "${schedule}"`);
      const given = functionArgsOf(args.function ?? args.job);
      const fn = given ? new FunctionStandin(`${name}Handler`, given, undefined, `cron ${name}`) : undefined;
      const role = new (rawClass("aws.iam.Role"))(`${name}Role`, { assumeRolePolicy: trustPolicy("scheduler.amazonaws.com") });
      const scheduleResource = new (rawClass("aws.scheduler.Schedule"))(`${name}Schedule`, {
        scheduleExpression: schedule,
        scheduleExpressionTimezone: resolve(args.timezone) ?? "UTC",
        flexibleTimeWindow: { mode: "OFF" },
        state: resolve(args.enabled) === false ? "DISABLED" : "ENABLED",
        target: { arn: fn?.arn, roleArn: role.arn, input: JSON.stringify(resolve(args.event) ?? {}) },
      });
      for (const child of [role, scheduleResource]) recording.recordOf(child)!.via = `cron ${name}`;
      this.urn = urn("sst:aws:CronV2", name);
      this.nodes = { function: output(fn), schedule: scheduleResource, role };
      recording.add({ kind: "sst.aws.CronV2", name, args, opts, instance: this, calls: [] });
    }
  }

  class Bucket {
    readonly urn: unknown;
    readonly arn: unknown;
    readonly name: unknown;
    readonly nodes: unknown;
    constructor(name: string, args: any = {}, opts?: any) {
      args = transformed(Bucket, { ...args }, opts, name);
      // SST names buckets <app>-<stage>-<name>-<random>, lowercase.
      const physical = `${phys(name)}-abcdef`.toLowerCase();
      this.urn = urn("sst:aws:Bucket", name);
      this.arn = output(`arn:aws:s3:::${physical}`);
      this.name = output(physical);
      this.nodes = { bucket: { arn: this.arn, bucket: this.name } };
      for (const rule of resolve(args.lifecycle) ?? []) {
        if (rule.expiresIn !== undefined && !/^\d+ days?$/.test(rule.expiresIn))
          throw new Error(`sst.aws.Bucket "${name}": lifecycle expiresIn must be "<n> days", got ${rule.expiresIn}`);
      }
      recording.add({ kind: "sst.aws.Bucket", name, args, opts, instance: this, calls: [] });
    }
  }

  const known = { Function: FunctionStandin, Queue, SnsTopic, ApiGatewayV2, CronV2, Bucket };
  const sstAws = new Proxy(
    {
      ...known,
      permission: (input: Record<string, unknown>) => ({ type: "aws.permission", ...input }),
    } as Record<string, unknown>,
    {
      get(target, prop) {
        if (typeof prop === "symbol") return undefined;
        if (prop in target) return target[prop];
        throw new Error(`sst.aws.${prop} is not provided by the offline stand-ins (infra/test/harness/standins.ts): add it there`);
      },
    },
  );

  const sst = { Secret, Linkable, aws: sstAws };

  const globals: Record<string, unknown> = {
    sst,
    aws,
    $interpolate: interpolate,
    $concat: (...parts: unknown[]) => output(parts.map((p) => String(resolve(p))).join("")),
    $jsonStringify: (value: unknown, replacer?: any, space?: string | number) => output(JSON.stringify(resolve(value), replacer, space)),
    $jsonParse: (value: unknown) => output(JSON.parse(String(resolve(value)))),
    $resolve: (value: unknown) => output(resolve(value)),
    $output: output,
    $util: { output, interpolate, all: (value: unknown) => output(resolve(value)), secret: output },
    $transform: (target: unknown, cb: (args: any, opts: any, name: string) => void) => {
      transforms.push({ target, cb });
    },
  };

  return { sst, aws, globals };
}
