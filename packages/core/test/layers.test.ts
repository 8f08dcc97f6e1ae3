import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The core's folders in layers, lowest first: a module imports only from its own folder and the
 * folders below it. A new folder must be placed here, which is the point: where it sits is a
 * decision, not an accident of whoever imported it first.
 */
const LAYERS = [
  "error",
  "log",
  "clock",
  "util",
  "actor",
  "database",
  "workspace",
  "template",
  "workflow",
  "schedule",
  "queue",
  "scheduler",
  "auth",
  "idempotency",
  "webhook",
  "suppression",
  "contact",
  "group",
  "email-account",
  "campaign",
  "stats",
  "message",
  "activity",
  "abtest",
  "sending",
  "tracking",
  "privacy",
];

/**
 * Imports that run up, each with its reason. Contacts and groups are one concept split in two
 * folders: memberships point from a group to contacts, and creating a contact checks the groups
 * it names.
 */
const ALLOWED_UP = new Set(["contact -> group"]);

const src = join(import.meta.dirname, "../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function folderImports(): { from: string; to: string; file: string }[] {
  return sourceFiles(src).flatMap((file) => {
    const from = relative(src, file).split("/")[0]!;
    const text = readFileSync(file, "utf8");
    return [...text.matchAll(/from "\.\.\/([a-z-]+)/g)].map((m) => ({ from, to: m[1]!, file: relative(src, file) }));
  });
}

describe("core layers", () => {
  it("places every folder", () => {
    const folders = readdirSync(src, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !LAYERS.includes(folder))).toEqual([]);
  });

  it("imports only down, except the listed pairs", () => {
    const up = folderImports()
      .filter(({ from, to }) => LAYERS.indexOf(to) > LAYERS.indexOf(from))
      .filter(({ from, to }) => !ALLOWED_UP.has(`${from} -> ${to}`))
      .map(({ from, to, file }) => `${file}: ${from} -> ${to}`);
    expect(up).toEqual([]);
  });

  it("the test sees imports (it could fail)", () => {
    expect(folderImports().some(({ from, to }) => from === "sending" && to === "database")).toBe(true);
  });
});
