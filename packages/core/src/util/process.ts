import { readFileSync } from "node:fs";

/**
 * Is a process with this pid running (signal 0 checks without signalling)? A zombie (killed, not
 * yet reaped by its parent: common in containers whose init does not reap) is not: it holds no
 * files any more.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (macOS): signal 0 is all we can know
  }
}
