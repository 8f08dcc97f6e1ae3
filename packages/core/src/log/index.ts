/**
 * Structured logs: one JSON object per line. Values that look like API keys are masked and
 * fields that may carry secrets or email content are dropped, so a careless call site cannot
 * leak them.
 */
type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

const SECRET_FIELD = /^(authorization|apikey|api_key|key|token|password|secret|cookie|body|html|text|content)$/i;
const KEY_PATTERN = /flz_sk_[A-Za-z0-9]{4,}/g;

let level: number | undefined;

/** The level from LOG_LEVEL (read once; `setLevel` changes it, for tests). */
function threshold(): number {
  if (level === undefined) {
    const name = (process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info")) as Level | "silent";
    level = ORDER[name] ?? ORDER.info;
  }
  return level;
}

export function setLevel(name: Level | "silent" | undefined): void {
  level = name === undefined ? undefined : ORDER[name];
}

/** Is this level written? Lets hot paths skip building fields that would be dropped. */
export function enabled(name: Level): boolean {
  return ORDER[name] >= threshold();
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.replace(KEY_PATTERN, "flz_sk_[redacted]");
  if (value instanceof Error) {
    return { name: value.name, message: scrub(value.message), stack: scrub(value.stack) };
  }
  if (Array.isArray(value)) return depth > 4 ? "[array]" : value.map((item) => scrub(item, depth + 1));
  if (value && typeof value === "object") {
    if (depth > 4) return "[object]";
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_FIELD.test(k) ? "[redacted]" : scrub(v, depth + 1);
    }
    return out;
  }
  return value;
}

export type Fields = Record<string, unknown>;

let sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`);

/** Replace where lines go (tests read them to check nothing secret is logged). */
export function setSink(fn: (line: string) => void): () => void {
  const previous = sink;
  sink = fn;
  return () => {
    sink = previous;
  };
}

function write(level: Level, message: string, fields?: Fields) {
  if (ORDER[level] < threshold()) return;
  const entry = { level, time: new Date().toISOString(), message: scrub(message), ...(scrub(fields ?? {}) as Fields) };
  sink(JSON.stringify(entry));
}

export const debug = (message: string, fields?: Fields) => write("debug", message, fields);
export const info = (message: string, fields?: Fields) => write("info", message, fields);
export const warn = (message: string, fields?: Fields) => write("warn", message, fields);
export const error = (message: string, fields?: Fields) => write("error", message, fields);
