/**
 * Many executions of prepared statements in ONE round trip and ONE transaction. node-postgres
 * (and Neon's Pool, the same client) sends one statement per round trip and cannot pipeline,
 * but one simple-protocol query may hold many statements, which PostgreSQL runs as a single
 * implicit transaction (all or none) and answers with one result each. So the statements are
 * prepared once per connection with SQL `PREPARE`, and a batch is a single query string of
 * `EXECUTE name(literal, ...);` lines: each still uses its cached plan, and runs in order, so a
 * batch means exactly what the same statements one after the other in a transaction would.
 *
 * The parameters become SQL literals (`literal`): strings quoted with every quote doubled (and
 * written as E'' strings when they hold a backslash), numbers and booleans as they are, dates as
 * ISO 8601, null as NULL. A value no literal can hold (a NUL character, a non-finite number) is
 * refused before anything is sent.
 */

export interface Batched {
  /** The statement's name (PREPARE'd as `<name>_batch`, apart from protocol-level statements of the same name). */
  name: string;
  text: string;
  params: readonly unknown[];
}

/** A value PostgreSQL cannot take as a literal: the caller runs the statement the usual way. */
export class UnbatchableValue extends Error {}

export function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new UnbatchableValue("an invalid date");
    return `'${value.toISOString()}'`;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new UnbatchableValue("a non-finite number");
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value !== "string") throw new UnbatchableValue(`a ${typeof value}`);
  if (value.includes("\0")) throw new UnbatchableValue("a NUL character");
  const quoted = value.replace(/'/g, "''");
  return value.includes("\\") ? `E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

const batchName = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`statement name ${name} is not a plain identifier`);
  return `${name}_batch`;
};

export const prepareText = (statement: Batched) => `PREPARE ${batchName(statement.name)} AS ${statement.text}`;

/** The batch as one query string (every literal checked first). */
export function executeText(statements: readonly Batched[]): string {
  return statements.map((s) => `EXECUTE ${batchName(s.name)}(${s.params.map(literal).join(", ")});`).join("\n");
}

/**
 * Which statements each server connection has prepared, by its backend process id (a pooled
 * client object may stand for another connection after a retry, the process id does not).
 */
export class PreparedOnConnections {
  private readonly byProcess = new Map<number | string, Set<string>>();

  missing(processId: number | string | null | undefined, statements: readonly Batched[]): Batched[] {
    const done = processId == null ? undefined : this.byProcess.get(processId);
    const seen = new Set<string>();
    return statements.filter((s) => {
      if (seen.has(s.name) || done?.has(s.name)) return false;
      seen.add(s.name);
      return true;
    });
  }

  prepared(processId: number | string | null | undefined, name: string): void {
    if (processId == null) return;
    const done = this.byProcess.get(processId) ?? new Set<string>();
    this.byProcess.set(processId, done.add(name));
  }

  /** The connection is gone or lost its statements: prepare again next time. */
  forget(processId: number | string | null | undefined): void {
    if (processId != null) this.byProcess.delete(processId);
  }
}
