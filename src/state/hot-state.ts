/**
 * The hot in-memory state: active sessions (session-store.ts), the stats counters, the newest
 * high scores, notices and game settings. It is the single source of truth while the process
 * runs; the database is its write-behind copy.
 *
 * Every change goes through a method here or in the command modules, and every change hands the
 * rows it touched to `sink` (changes.ts) right after the change: a change costs O(its rows).
 * Nothing here does I/O, awaits, or reads a clock: `nowMs` is always passed in.
 */
import type {
  ColdSessionRow,
  HighScoreRecord,
  NoticeRecord,
  SessionRecord,
  SettingRecord,
  StatsRecord,
} from '../model/records.js';
import { addStatsDelta, emptyStatsDelta, sessionRow } from '../model/convert.js';
import type { IdempotencyRow, StatsDelta } from '../model/rows.js';
import type { ChangeSink } from './changes.js';
import { localDayBounds } from './day.js';
import { IdempotencyStore } from './idempotency.js';
import { type SessionLoader, SessionStore, staleDeadlineMs } from './session-store.js';

export { STALE_MULTIPLIER, staleDeadlineMs } from './session-store.js';

/** GET /api/high-scores returns at most this many, newest first. */
export const HIGH_SCORE_LIST_LIMIT = 200;
export const DEFAULT_PLAYER_SPEED_PERCENT = 100;
export const PLAYER_SPEED_SETTING = 'playerSpeedPercent';


/** What a reload from storage hands to the state before the port opens. */
export interface LoadedRest {
  stats: StatsRecord | null;
  highScores: HighScoreRecord[];
  maxHighScoreId: number;
  notices: NoticeRecord[];
  settings: SettingRecord[];
  idempotencyKeys: IdempotencyRow[];
  sessionsToday: number;
}

/** Who wants to hear of changes as they happen (the WebSocket topics); called after each change. */
export interface StateObserver {
  sessionChanged(session: SessionRecord): void;
  statsChanged(): void;
  highScoreAdded(record: HighScoreRecord): void;
}

export interface HotStateOptions {
  /** Where stored sessions are read on first use; null: every session is hot (tests). */
  loader?: SessionLoader | null;
  /** When a stale session could not be loaded to be ended, the sweep tries again this much later. */
  sweepRetryMs?: number;
}

export class HotState {
  /** Active sessions, hot or not yet loaded. */
  readonly sessions: SessionStore;
  stats: StatsRecord = emptyStatsDelta();
  /** Newest first, at most HIGH_SCORE_LIST_LIMIT. */
  highScores: HighScoreRecord[] = [];
  nextHighScoreId = 1;
  readonly notices = new Map<string, NoticeRecord>();
  readonly settings = new Map<string, SettingRecord>();
  /** Sessions started in the current local day; rolls over lazily at local midnight. */
  today: { startMs: number; endMs: number; count: number };
  /** Work counter for the sweep (entries popped from the deadline heap), for tests and metrics. */
  sweepPops = 0;
  observer: StateObserver | null = null;
  /** Answers of writes that carried an idempotency key (safe retries). */
  readonly idempotency: IdempotencyStore;
  private readonly sweepRetryMs: number;

  constructor(
    readonly sink: ChangeSink,
    nowMs: number,
    opts: HotStateOptions = {},
  ) {
    this.sessions = new SessionStore(opts.loader ?? null);
    this.idempotency = new IdempotencyStore(sink);
    this.sweepRetryMs = opts.sweepRetryMs ?? 30_000;
    const bounds = localDayBounds(nowMs);
    this.today = { ...bounds, count: 0 };
  }

  // --- reload -------------------------------------------------------------------------------

  /** Adds the active sessions read from storage, not loaded yet. Does not mark anything dirty. */
  loadSessions(rows: readonly ColdSessionRow[]): void {
    this.sessions.addStored(rows);
  }

  loadRest(rest: LoadedRest): void {
    if (rest.stats) this.stats = { ...rest.stats };
    this.highScores = rest.highScores.slice(0, HIGH_SCORE_LIST_LIMIT);
    this.nextHighScoreId = rest.maxHighScoreId + 1;
    for (const notice of rest.notices) this.notices.set(notice.id, notice);
    for (const setting of rest.settings) this.settings.set(setting.key, setting);
    this.today.count = rest.sessionsToday;
    this.idempotency.load(rest.idempotencyKeys);
  }

  // --- reads --------------------------------------------------------------------------------

  playerSpeedPercent(): number {
    const value = this.settings.get(PLAYER_SPEED_SETTING)?.value;
    return typeof value === 'number' && Number.isFinite(value) ? value : DEFAULT_PLAYER_SPEED_PERCENT;
  }

  sessionsToday(nowMs: number): number {
    this.rollDay(nowMs);
    return this.today.count;
  }

  // --- changes shared by the commands ---------------------------------------------------------

  /** Stores the session's header row; returns the seq at which it is durable. */
  saveHeader(session: SessionRecord): number {
    this.observer?.sessionChanged(session);
    return this.sink.upsert('sessions', session.id, sessionRow(session));
  }

  /** Applies counter deltas to the hot stats and hands them on; always records activity. */
  count(delta: Partial<StatsDelta>, nowMs: number): number {
    delta.latestActivityAtMs = nowMs;
    addStatsDelta(this.stats, delta);
    this.observer?.statsChanged();
    return this.sink.count(delta);
  }

  /** Records activity only. */
  touch(nowMs: number): number {
    return this.count({}, nowMs);
  }

  countStart(nowMs: number): number {
    this.rollDay(nowMs);
    this.today.count += 1;
    return this.count({ startedCount: 1 }, nowMs);
  }

  /**
   * Ends an active session and updates the counters (CONTRACT §3.3). Returns the seq at which
   * both the session row and the counters are durable.
   */
  endSession(session: SessionRecord, nowMs: number, reason: 'ended' | 'stale', result: 'won' | 'lost' | null): number {
    session.status = 'ended';
    session.endedAtMs = nowMs;
    session.endReason = reason;
    session.result = result;
    this.sessions.delete(session.id);
    const delta: Partial<StatsDelta> = {
      endedCount: 1,
      wonCount: result === 'won' ? 1 : 0,
      lostCount: result === 'lost' ? 1 : 0,
      abandonedCount: result === null ? 1 : 0,
      staleEndedCount: reason === 'stale' ? 1 : 0,
    };
    if (result !== null) delta.latestCompletedAtMs = nowMs;
    return Math.max(this.saveHeader(session), this.count(delta, nowMs));
  }

  /**
   * Ends every session whose stale deadline has passed. Cost: one heap pop per expired entry;
   * sessions still within their time are never visited. A session not loaded yet is loaded
   * first and ended when it arrives. Returns how many were ended now.
   */
  sweepStale(nowMs: number): number {
    let ended = 0;
    const { sessions } = this;
    for (let id = sessions.deadlines.popExpired(nowMs); id !== undefined; id = sessions.deadlines.popExpired(nowMs)) {
      this.sweepPops += 1;
      // An entry whose session already ended (or whose deadline moved) is just dropped.
      if (!sessions.expired(id, nowMs)) continue;
      const hot = sessions.hot(id);
      if (hot !== undefined) {
        this.endSession(hot, nowMs, 'stale', null);
        ended += 1;
        continue;
      }
      const expiredId = id;
      sessions.use(expiredId, (use) => {
        if (use === 'unavailable') {
          // Storage unreadable: it stays active until a later sweep manages to load it.
          sessions.deadlines.push(nowMs + this.sweepRetryMs, expiredId);
        } else if (use !== 'missing' && staleDeadlineMs(use.startedAtMs, use.durationSeconds) < nowMs) {
          this.endSession(use, nowMs, 'stale', null);
        }
      });
    }
    return ended;
  }

  private rollDay(nowMs: number): void {
    if (nowMs >= this.today.startMs && nowMs < this.today.endMs) return;
    const bounds = localDayBounds(nowMs);
    this.today = { ...bounds, count: 0 };
  }
}
