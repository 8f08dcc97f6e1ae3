import type { TestDatabase } from "./database";

/**
 * Count the statements sent to the database (to check round-trip budgets). Works for the
 * node-postgres pool and for PGlite; returns a function reading the count and one restoring.
 */
export function countQueries(handle: TestDatabase): { count: () => number; reset: () => void; restore: () => void } {
  let n = 0;
  const target = ((handle as { pool?: object }).pool ?? (handle as { client?: object }).client) as Record<string, unknown>;
  const patched: Array<[string, unknown]> = [];
  for (const method of ["query", "exec"]) {
    const original = target[method];
    if (typeof original !== "function") continue;
    patched.push([method, original]);
    target[method] = function (this: unknown, ...args: unknown[]) {
      n++;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return {
    count: () => n,
    reset: () => {
      n = 0;
    },
    restore: () => {
      for (const [method, original] of patched) target[method] = original;
    },
  };
}
