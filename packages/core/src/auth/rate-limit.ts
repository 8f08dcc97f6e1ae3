/**
 * Sliding-window rate limit (the weighted two-window estimate used by Cloudflare and others):
 * the count of the previous one-minute window weighs by how much of it still overlaps the last
 * 60 seconds. It never lets a burst at a window boundary double the limit, as a fixed window
 * does, and needs one counter row per key.
 */
export const WINDOW_SECONDS = 60;

export interface RateLimitState {
  limit: number;
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Requests counted in the previous window. */
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
