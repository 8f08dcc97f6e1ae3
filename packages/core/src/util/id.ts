import { createHash, randomBytes } from "node:crypto";

/** Crockford base32, lowercase: URL-safe and sorts the same as the values it encodes. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export const ID_PREFIXES = {
  workspace: "ws",
  apiKey: "key",
  contact: "con",
  group: "grp",
  emailAccount: "acc",
  campaign: "cmp",
  campaignContact: "cc",
  message: "msg",
  event: "evt",
  webhook: "whk",
  webhookDelivery: "whd",
  sesProbe: "prb",
  suppression: "sup",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

function encodeTime(ms: number): string {
  let out = "";
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte & 31];
  return out;
}

// Monotonic within a process: ids made in the same millisecond still sort in creation order
// (the random part of the previous one, plus one), as ULIDs do.
let lastTime = -1;
let lastRandom = new Uint8Array(16);

function nextRandom(time: number): Uint8Array {
  if (time === lastTime) {
    const next = Uint8Array.from(lastRandom);
    for (let i = next.length - 1; i >= 0; i--) {
      next[i] = (next[i]! + 1) & 31;
      if (next[i] !== 0) break;
    }
    lastRandom = next;
  } else {
    lastTime = time;
    lastRandom = Uint8Array.from(randomBytes(16), (b) => b & 31);
  }
  return lastRandom;
}

/**
 * A prefixed id, sortable by creation time: `con_` + 10 characters of millisecond timestamp +
 * 16 random characters (80 bits), increasing within one millisecond.
 */
export function createId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(now)}${encodeRandom(nextRandom(now))}`;
}

/**
 * An id derived from what it names rather than drawn at random: the same `key` (and time) always
 * gives the same id, so recording the same change twice cannot make two of them. Sorts by `at`.
 */
export function derivedId(kind: IdKind, key: string, at: number): string {
  const digest = createHash("sha256").update(key).digest();
  return `${ID_PREFIXES[kind]}_${encodeTime(at)}${encodeRandom(digest.subarray(0, 16))}`;
}

/** Does `value` look like an id of this kind? Used to answer 404 early for malformed ids. */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return value.startsWith(prefix) && value.length <= 64 && /^[a-z0-9_]+$/i.test(value);
}
