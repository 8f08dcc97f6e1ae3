import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import * as Database from "@fluenzr/core/database";
import * as Log from "@fluenzr/core/log";
import { Evidence } from "@fluenzr/core/sending";
import { applySesEvents } from "@fluenzr/core/tracking";
import { sql } from "drizzle-orm";
import * as Records from "./records";

/**
 * The local SES's store made durable, and the SES events it owes. In production SES publishes a
 * Send and a Delivery event for every email it accepted, whatever happened to our sender after
 * the call; locally the same must hold across a `kill -9`. So:
 *
 * - every email the local SES accepts is appended to a journal file (and fsynced) before SES
 *   answers the sender: what the journal holds is exactly what SES accepted;
 * - at start-up the journal is loaded back into the local SES's store (its page and `/store`
 *   show every email ever accepted);
 * - a pump reads the store, not the sending process's memory, and applies Send and Delivery
 *   events for each email through the production event handling, a pass's events in one batch
 *   as the queue's consumer applies them (tracking/ses-queue). Those are idempotent (keyed by
 *   SES message id and timestamp), so a restart simply replays from the last saved position.
 */

/** The part of aws-ses-v2-local's store we use (its `getStoreReadonly()` object). */
export interface SesStore {
  emails: StoredEmail[];
}

export interface StoredEmail {
  messageId: string;
  destination: { to: string[] };
  subject: string;
  headers?: Array<{ name: string; value: string }>;
  /** Epoch seconds. */
  at: number;
  [key: string]: unknown;
}

/** Journal every accepted email to `file`, after loading what it already holds into the store. */
export function persistStore(store: SesStore, file: string): { loaded: number } {
  // The data folder may not exist yet (a DATA_DIR beside a DATABASE_URL: nothing else creates it).
  mkdirSync(dirname(file), { recursive: true });
  const loaded = existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line) => {
          if (!line.trim()) return [];
          try {
            return [JSON.parse(line) as StoredEmail];
          } catch {
            // A line cut by a kill mid-write: SES had not answered for it, so it was not accepted.
            return [];
          }
        })
    : [];
  const journal = (emails: StoredEmail[]): StoredEmail[] => {
    const array = [...emails];
    array.push = (...items: StoredEmail[]) => {
      const fd = openSync(file, "a");
      try {
        writeSync(fd, items.map((item) => `${JSON.stringify(item)}\n`).join(""));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return Array.prototype.push.apply(array, items);
    };
    return array;
  };
  let emails = journal(loaded);
  // `POST /clear-store` assigns a new array: the journal starts over with it.
  Object.defineProperty(store, "emails", {
    configurable: true,
    get: () => emails,
    set: (next: StoredEmail[]) => {
      writeFileSync(file, next.map((item) => `${JSON.stringify(item)}\n`).join(""));
      emails = journal(next);
    },
  });
  return { loaded: loaded.length };
}

const UNSUBSCRIBE = /\/v1\/unsubscribe\/([\w-]+)>?$/;

/** Our message of a stored email: its List-Unsubscribe link names it (SES tags are not stored). */
async function messageOf(email: StoredEmail): Promise<string | undefined> {
  const header = email.headers?.find((h) => h.name.toLowerCase() === "list-unsubscribe")?.value;
  const token = header?.match(UNSUBSCRIBE)?.[1];
  if (!token) return undefined;
  const hash = createHash("sha256").update(token).digest("hex");
  const [row] = await Database.rows<{ id: string }>(sql`SELECT id FROM message WHERE unsubscribe_token_hash = ${hash}`);
  return row?.id;
}

/**
 * How long an email of ours whose message is not found holds the pump: its reservation commits
 * before SES is called, so only an instant; longer means the message is gone (erased, or
 * forgotten as never sent, which the journal then proves wrong: logged).
 */
const UNMATCHED_HOLD_MS = 30_000;

/** A probe's `Send` event (SES's mailbox simulator answers probes like any email). */
function probeSend(probeId: string, stored: StoredEmail) {
  const timestamp = new Date(stored.at * 1000).toISOString();
  return { eventType: "Send", mail: { messageId: stored.messageId, timestamp, tags: { probe: [probeId] } }, send: {} };
}

/**
 * Apply Send and Delivery for every stored email from `cursor` on; returns the new cursor. An
 * email whose message is not found yet (its reservation not committed) stops the pass there, to
 * be retried on the next one.
 */
export async function pumpEvents(store: SesStore, cursor: number): Promise<number> {
  const emails = store.emails;
  const records: unknown[] = [];
  let at = cursor;
  for (; at < emails.length; at++) {
    const stored = emails[at]!;
    const probe = stored.headers?.find((h) => h.name.toLowerCase() === Evidence.PROBE_HEADER.toLowerCase())?.value;
    if (probe) {
      records.push(probeSend(probe, stored));
      continue;
    }
    const messageId = await messageOf(stored);
    if (!messageId) {
      if (!stored.headers?.some((h) => h.name.toLowerCase() === "list-unsubscribe")) continue; // sent by hand
      if (Date.now() - stored.at * 1000 < UNMATCHED_HOLD_MS) break;
      Log.warn("local SES holds an email whose message is gone", { sesMessageId: stored.messageId });
      continue;
    }
    const row = await Records.messageRow(messageId);
    if (!row) break;
    const sentAt = new Date(stored.at * 1000);
    const email: Records.SentEmail = { ...row, sesMessageId: stored.messageId, sentAt };
    records.push(Records.sesRecord("send", email, sentAt), Records.sesRecord("delivery", email, new Date(sentAt.getTime() + 1)));
  }
  // Batches of 50, as the queue's consumer gets them. Whatever failed, the pass starts over from
  // the same position (every event is idempotent).
  for (let i = 0; i < records.length; i += 50) {
    const failed = (await applySesEvents(records.slice(i, i + 50))).find((result) => typeof result !== "string");
    if (failed) throw failed.error;
  }
  return at;
}

/**
 * The pump on a timer, its position saved beside the journal (a lost position only replays).
 * `drain()` applies everything stored so far: the start-up sweep must not judge emails of
 * unknown fate before the events of what SES accepted before the kill are in.
 */
export function startPump(
  store: SesStore,
  options: { cursorFile?: string; intervalMs: number },
): { drain(): Promise<void>; stop(): Promise<void> } {
  let cursor = 0;
  if (options.cursorFile && existsSync(options.cursorFile)) cursor = Number(readFileSync(options.cursorFile, "utf8")) || 0;
  if (cursor > store.emails.length) cursor = 0;
  let running: Promise<void> | undefined;
  const pass = async () => {
    const next = await pumpEvents(store, cursor);
    if (next !== cursor && options.cursorFile) writeFileSync(options.cursorFile, String(next));
    cursor = next;
  };
  const once = () =>
    (running ??= pass()
      .catch((error) => Log.error("local SES events failed", { error }))
      .finally(() => {
        running = undefined;
      }));
  const timer = setInterval(once, options.intervalMs);
  return {
    async drain() {
      await running;
      for (let before = -1; cursor < store.emails.length && cursor !== before; ) {
        before = cursor;
        await once();
      }
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
