/**
 * Login lockout per client (CONTRACT-ADMIN §2.5, decisions Q2/Q3): 5 failed logins within a window
 * of 10 minutes (anchored at the first failure) block that client for 15 minutes, correct password
 * included. The client is the rate limiter's key (src/http/client-key.ts): proxy headers count only
 * with VIBEFIXER_TRUST_PROXY. Entries are pruned on a timer, so the map holds only clients that failed
 * within window + block. One check may be in flight per client at a time (a hashed password is checked
 * asynchronously; without this, parallel guesses would all run before the fifth failure is counted).
 */
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 10 * 60 * 1000;
export const LOGIN_BLOCK_MS = 15 * 60 * 1000;

interface Entry {
  count: number;
  firstFailedAtMs: number;
  blockedUntilMs: number;
  checking: boolean;
}

export type FailureOutcome = { blocked: false; attempts: number } | { blocked: true; blockedUntilMs: number };

export class LoginLockout {
  private readonly entries = new Map<string, Entry>();

  /** Seconds until the block of `key` ends (for Retry-After), or 0 when it may try. */
  blockedForS(key: string, nowMs: number): number {
    const e = this.entries.get(key);
    return e === undefined || nowMs >= e.blockedUntilMs ? 0 : Math.max(1, Math.ceil((e.blockedUntilMs - nowMs) / 1000));
  }

  /** Marks a check in flight; false when one already is (the caller answers 429, Retry-After 1). */
  beginCheck(key: string, nowMs: number): boolean {
    const e = this.entry(key, nowMs);
    if (e.checking) return false;
    e.checking = true;
    return true;
  }

  endCheck(key: string): void {
    const e = this.entries.get(key);
    if (e !== undefined) e.checking = false;
  }

  failed(key: string, nowMs: number): FailureOutcome {
    const e = this.entry(key, nowMs);
    if (e.count === 0 || nowMs - e.firstFailedAtMs > LOGIN_WINDOW_MS) {
      e.count = 0;
      e.firstFailedAtMs = nowMs;
      e.blockedUntilMs = 0;
    }
    e.count += 1;
    if (e.count < LOGIN_MAX_FAILURES) return { blocked: false, attempts: e.count };
    e.blockedUntilMs = nowMs + LOGIN_BLOCK_MS;
    e.count = 0;
    return { blocked: true, blockedUntilMs: e.blockedUntilMs };
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  /** Drops entries whose window and block are both over; runs on a timer. */
  prune(nowMs: number): void {
    for (const [key, e] of this.entries) {
      if (!e.checking && nowMs >= e.blockedUntilMs && nowMs - e.firstFailedAtMs > LOGIN_WINDOW_MS) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private entry(key: string, nowMs: number): Entry {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { count: 0, firstFailedAtMs: nowMs, blockedUntilMs: 0, checking: false };
      this.entries.set(key, e);
    }
    return e;
  }
}
