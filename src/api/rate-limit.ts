/**
 * The write rate limit (CONTRACT §1.3, decision #7): a fixed 60-second window per client key,
 * one budget shared by every write command over HTTP and WebSocket. Every write counts, whatever
 * its outcome. Unlike the original, expired windows are pruned (`prune`, on a timer), so the map
 * holds only clients seen in the last minute.
 */
export const RATE_WINDOW_MS = 60_000;

/** `first` is true for the first refusal of a window, so callers can log once per client and minute. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterS: number; first: boolean };

const ALLOWED: RateDecision = { allowed: true };

export class RateLimiter {
  private readonly windows = new Map<string, { resetAtMs: number; count: number }>();

  /** `perMinute` 0 turns the limiter off (for benches). */
  constructor(private readonly perMinute: number) {}

  /** Off: callers skip the per-request work of finding the client's address. */
  get enabled(): boolean {
    return this.perMinute > 0;
  }

  take(key: string, nowMs: number): RateDecision {
    if (this.perMinute === 0) return ALLOWED;
    let w = this.windows.get(key);
    if (w === undefined || nowMs >= w.resetAtMs) {
      w = { resetAtMs: nowMs + RATE_WINDOW_MS, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    if (w.count <= this.perMinute) return ALLOWED;
    const retryAfterS = Math.min(60, Math.max(1, Math.ceil((w.resetAtMs - nowMs) / 1000)));
    return { allowed: false, retryAfterS, first: w.count === this.perMinute + 1 };
  }

  /** Drops expired windows; runs on a timer, never on a request. */
  prune(nowMs: number): void {
    for (const [key, w] of this.windows) if (nowMs >= w.resetAtMs) this.windows.delete(key);
  }
}
