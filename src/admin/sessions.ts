/**
 * Admin sessions (CONTRACT-ADMIN §2.1–2.4): a fixed 30-minute lifetime from login, no renewal.
 * Only the SHA-256 of a token is kept, in memory and in the admin_sessions rows: a stolen database
 * or log cannot be turned back into a cookie. Expired sessions are refused at once and pruned on a
 * timer. Every change is handed to the ChangeSink as a row.
 * Never: store, log or return a token except to the login that created it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AdminSessionRow } from '../model/rows.js';
import type { ChangeSink } from '../state/changes.js';

export const ADMIN_SESSION_TTL_MS = 30 * 60 * 1000;
/** Sessions kept at once; past it the one ending soonest is dropped (logins never fail for it). */
export const MAX_ADMIN_SESSIONS = 1_000;

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What logs may show of a token: 12 hex digits of its hash (names a session, cannot forge one). */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

export interface AdminSession {
  readonly hash: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
}

export class AdminSessions {
  private readonly byHash = new Map<string, AdminSession>();
  /** Told when sessions end by logout or expiry (live WebSocket subscriptions close). */
  onEnded: ((hashes: string[]) => void) | null = null;

  constructor(private readonly sink: ChangeSink) {}

  /** A new session; returns its token (for the cookie only) and the seq at which it is durable. */
  create(nowMs: number): { token: string; session: AdminSession; seq: number } {
    if (this.byHash.size >= MAX_ADMIN_SESSIONS) this.dropSoonestEnding();
    const token = `admin_${randomBytes(16).toString('hex')}`;
    const session: AdminSession = { hash: tokenHash(token), createdAtMs: nowMs, expiresAtMs: nowMs + ADMIN_SESSION_TTL_MS };
    this.byHash.set(session.hash, session);
    const row: AdminSessionRow = [session.hash, session.createdAtMs, session.expiresAtMs];
    return { token, session, seq: this.sink.upsert('adminSessions', session.hash, row) };
  }

  /** Loads sessions from storage (reload); expired ones are left out. */
  load(rows: readonly AdminSessionRow[], nowMs: number): void {
    for (const [hash, createdAtMs, expiresAtMs] of rows) if (expiresAtMs > nowMs) this.byHash.set(hash, { hash, createdAtMs, expiresAtMs });
  }

  /** The live session of a token, or null (unknown or expired: both are "Unauthorized"). */
  find(token: string | null, nowMs: number): AdminSession | null {
    if (token === null) return null;
    return this.findByHash(tokenHash(token), nowMs);
  }

  findByHash(hash: string, nowMs: number): AdminSession | null {
    const session = this.byHash.get(hash);
    return session !== undefined && session.expiresAtMs > nowMs ? session : null;
  }

  /** Ends the session of `token` if there is one; returns its hash and the seq, or null. */
  end(token: string | null): { hash: string; seq: number } | null {
    if (token === null) return null;
    const hash = tokenHash(token);
    if (!this.byHash.delete(hash)) return null;
    this.onEnded?.([hash]);
    return { hash, seq: this.sink.delete('adminSessions', hash) };
  }

  /** Deletes expired sessions (timer). */
  prune(nowMs: number): void {
    const ended: string[] = [];
    for (const [hash, s] of this.byHash) {
      if (s.expiresAtMs <= nowMs) {
        this.byHash.delete(hash);
        this.sink.delete('adminSessions', hash);
        ended.push(hash);
      }
    }
    if (ended.length > 0) this.onEnded?.(ended);
  }

  get size(): number {
    return this.byHash.size;
  }

  private dropSoonestEnding(): void {
    let soonest: AdminSession | null = null;
    for (const s of this.byHash.values()) if (soonest === null || s.expiresAtMs < soonest.expiresAtMs) soonest = s;
    if (soonest === null) return;
    this.byHash.delete(soonest.hash);
    this.sink.delete('adminSessions', soonest.hash);
    this.onEnded?.([soonest.hash]);
  }
}
