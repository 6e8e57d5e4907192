/**
 * The active sessions, hot or not yet loaded, behind one door. Sessions reloaded at start-up are
 * held as their schedule only (id, start, duration: enough for lookups, counts and the stale
 * sweep) until something first uses one; then the store asks the loader port for its rows and
 * keeps the session hot from there on. Start-up therefore costs one small tuple per active
 * session, whatever the sessions hold, and a session nobody touches again is never read at all.
 *
 * Callers never see "cold": `use(id, cb)` hands over a hot session (loading it first when needed),
 * `has` and `size` count both kinds.
 *
 * Never: mark a not-yet-loaded session dirty (only a hot record is ever changed), load the same
 * id twice at once, or await (the loader calls back).
 */
import type { ColdSessionRow, SessionRecord } from '../model/records.js';
import { DeadlineHeap } from './deadlines.js';

/** The original keeps stale sessions for twice their duration, measured from the start. */
export const STALE_MULTIPLIER = 2;

/** What the loader found for one id: its session, null (no such active session), or a failure. */
export type LoadResult = { ok: true; session: SessionRecord | null } | { ok: false };

/** The loader port: persistence reads a session's stored rows (src/persist/loader.ts). */
export interface SessionLoader {
  load(id: string, done: (result: LoadResult) => void): void;
}

/** What `use` hands over: the hot session, 'missing' (no active session), or 'unavailable' (storage). */
export type Use = SessionRecord | 'missing' | 'unavailable';

export function staleDeadlineMs(startedAtMs: number, durationSeconds: number): number {
  return startedAtMs + durationSeconds * STALE_MULTIPLIER * 1000;
}

function deadlineOf(entry: SessionRecord | ColdSessionRow): number {
  return Array.isArray(entry) ? staleDeadlineMs(entry[1], entry[2]) : staleDeadlineMs(entry.startedAtMs, entry.durationSeconds);
}

export class SessionStore {
  private readonly entries = new Map<string, SessionRecord | ColdSessionRow>();
  private readonly waiting = new Map<string, Array<(use: Use) => void>>();
  private idleCallbacks: Array<() => void> = [];
  readonly deadlines = new DeadlineHeap();
  /** Loads that found a stored session unreadable or gone (for metrics and tests). */
  dropped = 0;

  constructor(private readonly loader: SessionLoader | null = null) {}

  get size(): number {
    return this.entries.size;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The session if it is active and hot; undefined when missing or not loaded yet. */
  hot(id: string): SessionRecord | undefined {
    const entry = this.entries.get(id);
    return entry === undefined || Array.isArray(entry) ? undefined : entry;
  }

  /** Loads in flight or asked for (start-up waits for the stale ones before listening). */
  get loading(): number {
    return this.waiting.size;
  }

  /** Calls `cb` once no load is waiting (at once when none is). */
  whenIdle(cb: () => void): void {
    if (this.waiting.size === 0) cb();
    else this.idleCallbacks.push(cb);
  }

  /** Adds the schedule of active sessions read from storage, not loaded. Marks nothing dirty. */
  addStored(rows: readonly ColdSessionRow[]): void {
    for (const row of rows) {
      this.entries.set(row[0], row);
      this.deadlines.push(deadlineOf(row), row[0]);
    }
  }

  add(session: SessionRecord): void {
    this.entries.set(session.id, session);
    this.deadlines.push(deadlineOf(session), session.id);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  /**
   * Calls `cb` with the hot session: at once when it is hot, after one load when it is not
   * (every caller asking for the same id meanwhile shares that load).
   */
  use(id: string, cb: (use: Use) => void): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return cb('missing');
    if (!Array.isArray(entry)) return cb(entry);
    const callbacks = this.waiting.get(id);
    if (callbacks !== undefined) {
      callbacks.push(cb);
      return;
    }
    if (this.loader === null) return cb('unavailable');
    this.waiting.set(id, [cb]);
    this.loader.load(id, (result) => this.loaded(id, result));
  }

  /** Past its deadline? (A not-loaded entry is checked by its schedule.) */
  expired(id: string, nowMs: number): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && deadlineOf(entry) < nowMs;
  }

  private loaded(id: string, result: LoadResult): void {
    const callbacks = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    let use: Use;
    const entry = this.entries.get(id);
    if (!result.ok) use = 'unavailable';
    else if (entry === undefined) use = 'missing'; // ended meanwhile
    else if (!Array.isArray(entry)) use = entry; // loaded meanwhile
    else if (result.session === null || result.session.status !== 'active') {
      // Stored rows are gone or no longer active: it is not an active session after all.
      this.entries.delete(id);
      this.dropped += 1;
      use = 'missing';
    } else {
      this.entries.set(id, result.session);
      use = result.session;
    }
    for (const cb of callbacks) cb(use);
    if (this.waiting.size === 0) for (const cb of this.idleCallbacks.splice(0)) cb();
  }
}
