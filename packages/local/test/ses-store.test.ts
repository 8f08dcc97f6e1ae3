import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { persistStore, type SesStore } from "../src/ses-store";

const root = mkdtempSync(join(tmpdir(), "fluenzr-ses-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The message ids the journal file holds, in order. */
const journaled = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).messageId);

const email = (id: string) => ({ messageId: id, destination: { to: ["a@example.org"] }, subject: "Hi", at: 1_767_000_000 });

describe("the local SES's journal", () => {
  it("creates its folder when the data folder does not exist yet (DATA_DIR beside a DATABASE_URL)", () => {
    const file = join(root, "not", "yet", "ses-store.jsonl");
    const store: SesStore = { emails: [] };
    expect(persistStore(store, file)).toEqual({ loaded: 0 });
    store.emails.push(email("ses-1"));
    expect(journaled(file)).toEqual(["ses-1"]);
  });

  it("loads what it holds back into a new store, and journals the store when it is replaced", () => {
    const file = join(root, "reload", "ses-store.jsonl");
    const first: SesStore = { emails: [] };
    persistStore(first, file);
    first.emails.push(email("ses-a"), email("ses-b"));
    const second: SesStore = { emails: [] };
    expect(persistStore(second, file)).toEqual({ loaded: 2 });
    expect(second.emails.map((e) => e.messageId)).toEqual(["ses-a", "ses-b"]);
    second.emails = [email("ses-c")];
    expect(journaled(file)).toEqual(["ses-c"]);
  });
});
