import { spawn } from "node:child_process";
import { isAlive } from "@fluenzr/core/util";
import { describe, expect, it } from "vitest";

describe("isAlive", () => {
  it("is true for a running process and false for a dead pid", () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(2 ** 22 + 17)).toBe(false);
  });

  it("is false for a zombie: killed, not reaped by a parent that does not reap (a server killed with its group)", async () => {
    // sh starts a short child, then becomes `sleep`, which never reaps it: a zombie for 3 s.
    const parent = spawn("sh", ["-c", "sleep 0.01 & echo $!; exec sleep 3"], { stdio: ["ignore", "pipe", "ignore"] });
    const pid = Number(await new Promise<string>((done) => parent.stdout.once("data", (d) => done(String(d).trim()))));
    await new Promise((done) => setTimeout(done, 300));
    let signalled = true;
    try {
      process.kill(pid, 0);
    } catch {
      signalled = false;
    }
    expect(signalled).toBe(true); // the kernel still has it...
    expect(isAlive(pid)).toBe(false); // ...but it holds nothing
    parent.kill("SIGKILL");
  });
});
