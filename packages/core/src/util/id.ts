import { randomBytes } from "node:crypto";

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

function encodeRandom(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

/**
 * A prefixed id, sortable by creation time: `con_` + 10 characters of millisecond timestamp +
 * 16 random characters (80 bits).
 */
export function createId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(now)}${encodeRandom(16)}`;
}

/** Does `value` look like an id of this kind? Used to answer 404 early for malformed ids. */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return value.startsWith(prefix) && value.length <= 64 && /^[a-z0-9_]+$/i.test(value);
}
