/**
 * Per-key rate limit, shared by every API instance through the database, as a sliding window:
 * the count of the previous one-minute window weighs by how much of it still overlaps the last
 * 60 seconds, so a burst at a window boundary cannot double the limit as with a fixed window.
 *
 * Counting costs no row write: each request takes `nextval` of the key's sequence (a counter
 * outside transactions), and the key row keeps the counter's value at the start of the current
 * and previous windows. Counts are differences; once a minute the first request of a window
 * rolls those values forward.
 */
export const WINDOW_SECONDS = 60;

export interface CounterRow {
  windowStart: number;
  windowSeq: number;
  prevWindowSeq: number;
}

export interface Counts {
  /** Requests in the current window, this one included. */
  count: number;
  /** Requests in the previous window. */
  prevCount: number;
  /** Set when this request opens a new window: the values to store. */
  roll?: CounterRow;
}

/** Counts for a request that drew `n` from the counter during the window starting at `window`. */
export function counts(row: CounterRow, n: number, window: number): Counts {
  if (row.windowStart >= window && n >= row.windowSeq) {
    return { count: n - row.windowSeq + 1, prevCount: Math.max(0, row.windowSeq - row.prevWindowSeq) };
  }
  // First request seen in this window (or the counter was reset): roll the window forward.
  const adjacent = row.windowStart === window - WINDOW_SECONDS && n >= row.windowSeq;
  return {
    count: 1,
    prevCount: adjacent ? n - row.windowSeq : 0,
    roll: { windowStart: window, windowSeq: n, prevWindowSeq: adjacent ? row.windowSeq : n },
  };
}

export interface RateLimitState {
  limit: number;
  count: number;
  prevCount: number;
  /** Start of the current window, epoch seconds. */
  windowStart: number;
  /** Now, epoch milliseconds (the database's clock, the same for every instance). */
  nowMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds at which the current window ends. */
  reset: number;
  /** Seconds to wait before the next request can pass (only when refused). */
  retryAfter?: number;
}

export function decide(state: RateLimitState): RateLimitDecision {
  const { limit, count, prevCount, windowStart, nowMs } = state;
  const elapsed = Math.min(Math.max(nowMs / 1000 - windowStart, 0), WINDOW_SECONDS);
  const weight = 1 - elapsed / WINDOW_SECONDS;
  const estimate = prevCount * weight + count;
  const reset = windowStart + WINDOW_SECONDS;
  const allowed = estimate <= limit;
  const remaining = Math.max(0, Math.floor(limit - estimate));
  if (allowed) return { allowed, limit, remaining, reset };
  return { allowed, limit, remaining: 0, reset, retryAfter: Math.max(1, Math.ceil(secondsUntilAllowed(state, elapsed))) };
}

/** When will one more request fit, assuming no other request arrives meanwhile? */
function secondsUntilAllowed({ limit, count, prevCount }: RateLimitState, elapsed: number): number {
  // Still in this window: prevCount * (1 - t/60) + count + 1 <= limit.
  if (prevCount > 0 && count + 1 <= limit) {
    const t = WINDOW_SECONDS * (1 - (limit - count - 1) / prevCount);
    if (t <= WINDOW_SECONDS) return t - elapsed;
  }
  // Next window: count becomes the previous count; count * (1 - t/60) + 1 <= limit.
  const t = count > 0 ? WINDOW_SECONDS * (1 - (limit - 1) / count) : 0;
  return WINDOW_SECONDS - elapsed + Math.max(0, t);
}
