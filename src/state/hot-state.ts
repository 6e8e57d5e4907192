/**
 * The hot in-memory state: active sessions, the stats counters, the newest high scores,
 * notices and game settings. It is the single source of truth while the process runs; SQLite
 * is its write-behind copy.
 *
 * Every change goes through a method here or in the command modules, and every change marks
 * the entities it touched dirty through `sink` (one call per entity, right after the change).
 * Nothing here does I/O, awaits, or reads a clock: `nowMs` is always passed in.
 */
import type {
  HighScoreRecord,
  NoticeRecord,
  SessionRecord,
  SettingRecord,
  StatsRecord,
} from '../model/protocol.js';
import { type ColdSessionRow, isCold } from '../persist/cold.js';
import type { DirtySink } from '../persist/sink.js';
import { DeadlineHeap } from './deadlines.js';
import { localDayBounds } from './day.js';

/** The original keeps stale sessions for twice their duration, measured from the start. */
export const STALE_MULTIPLIER = 2;
/** GET /api/high-scores returns at most this many, newest first. */
export const HIGH_SCORE_LIST_LIMIT = 200;
export const DEFAULT_PLAYER_SPEED_PERCENT = 100;
export const PLAYER_SPEED_SETTING = 'playerSpeedPercent';

export function emptyStats(): StatsRecord {
  return {
    startedCount: 0,
    endedCount: 0,
    staleEndedCount: 0,
    wonCount: 0,
    lostCount: 0,
    abandonedCount: 0,
    latestCompletedAtMs: null,
    latestActivityAtMs: null,
  };
}

export function staleDeadlineMs(session: SessionRecord | ColdSessionRow): number {
  const [startedAtMs, durationSeconds] = isCold(session)
    ? [session[1], session[2]]
    : [session.startedAtMs, session.durationSeconds];
  return startedAtMs + durationSeconds * STALE_MULTIPLIER * 1000;
}

/** What a reload from storage hands to the state before the port opens. */
export interface LoadedRest {
  stats: StatsRecord | null;
  highScores: HighScoreRecord[];
  maxHighScoreId: number;
  notices: NoticeRecord[];
  settings: SettingRecord[];
  sessionsToday: number;
}

export class HotState {
  /**
   * Active sessions. Those reloaded at start-up stay cold (src/persist/cold.ts: id, start and
   * duration only) until a request warms them with their stored record.
   */
  readonly sessions = new Map<string, SessionRecord | ColdSessionRow>();
  /**
   * Called when the sweep finds a cold session past its deadline: its record must be loaded
   * (asynchronously, by the composition root) and handed to `warm`, which ends it.
   */
  onColdExpired: ((id: string) => void) | null = null;
  readonly deadlines = new DeadlineHeap();
  stats: StatsRecord = emptyStats();
  /** Newest first, at most HIGH_SCORE_LIST_LIMIT. */
  highScores: HighScoreRecord[] = [];
  nextHighScoreId = 1;
  readonly notices = new Map<string, NoticeRecord>();
  readonly settings = new Map<string, SettingRecord>();
  /** Sessions started in the current local day; rolls over lazily at local midnight. */
  today: { startMs: number; endMs: number; count: number };
  /** Work counter for the sweep (entries popped from the deadline heap), for tests and metrics. */
  sweepPops = 0;

  constructor(
    readonly sink: DirtySink,
    nowMs: number,
  ) {
    const bounds = localDayBounds(nowMs);
    this.today = { ...bounds, count: 0 };
  }

  // --- reload -------------------------------------------------------------------------------

  /** Adds the active sessions read from storage, cold. Does not mark anything dirty. */
  loadSessions(rows: ColdSessionRow[]): void {
    for (const row of rows) {
      this.sessions.set(row[0], row);
      this.deadlines.push(staleDeadlineMs(row), row[0]);
    }
  }

  loadRest(rest: LoadedRest): void {
    if (rest.stats) this.stats = rest.stats;
    this.highScores = rest.highScores.slice(0, HIGH_SCORE_LIST_LIMIT);
    this.nextHighScoreId = rest.maxHighScoreId + 1;
    for (const notice of rest.notices) this.notices.set(notice.id, notice);
    for (const setting of rest.settings) this.settings.set(setting.key, setting);
    this.today.count = rest.sessionsToday;
  }

  // --- reads --------------------------------------------------------------------------------

  /** The session if it is active and warm; a cold one must be warmed first (`isCold`). */
  activeSession(id: string): SessionRecord | undefined {
    const session = this.sessions.get(id);
    return session === undefined || isCold(session) ? undefined : session;
  }

  hasSession(id: string): boolean {
    return this.sessions.has(id);
  }

  isCold(id: string): boolean {
    const session = this.sessions.get(id);
    return session !== undefined && isCold(session);
  }

  /**
   * Hands over the stored record of a cold session (null: it could not be read back, so it is
   * dropped from the active sessions). A record already past its stale deadline is ended at once.
   */
  warm(id: string, record: SessionRecord | null, nowMs: number): void {
    if (!this.isCold(id)) return; // warmed already, or ended meanwhile
    if (record === null) {
      this.sessions.delete(id);
      return;
    }
    this.sessions.set(id, record);
    if (staleDeadlineMs(record) < nowMs) this.endSession(record, nowMs, 'stale', null);
  }

  playerSpeedPercent(): number {
    const value = this.settings.get(PLAYER_SPEED_SETTING)?.value;
    return typeof value === 'number' && Number.isFinite(value) ? value : DEFAULT_PLAYER_SPEED_PERCENT;
  }

  sessionsToday(nowMs: number): number {
    this.rollDay(nowMs);
    return this.today.count;
  }

  // --- changes shared by the commands ---------------------------------------------------------

  /** Records activity; returns the seq at which the stats row is durable. */
  touch(nowMs: number): number {
    this.stats.latestActivityAtMs = nowMs;
    return this.sink.stats(this.stats);
  }

  countStart(nowMs: number): void {
    this.rollDay(nowMs);
    this.today.count += 1;
    this.stats.startedCount += 1;
  }

  /**
   * Ends an active session and updates the counters (CONTRACT §3.3). Returns the seq at which
   * both the session row and the stats row are durable.
   */
  endSession(
    session: SessionRecord,
    nowMs: number,
    reason: 'ended' | 'stale',
    result: 'won' | 'lost' | null,
  ): number {
    session.status = 'ended';
    session.endedAtMs = nowMs;
    session.endReason = reason;
    session.result = result;
    this.sessions.delete(session.id);

    const stats = this.stats;
    stats.endedCount += 1;
    if (result === 'won') stats.wonCount += 1;
    else if (result === 'lost') stats.lostCount += 1;
    else stats.abandonedCount += 1;
    if (reason === 'stale') stats.staleEndedCount += 1;
    if (result !== null) stats.latestCompletedAtMs = nowMs;

    const sessionSeq = this.sink.session(session);
    return Math.max(sessionSeq, this.touch(nowMs));
  }

  /**
   * Ends every session whose stale deadline has passed. Cost: one heap pop per expired entry;
   * sessions still within their time are never visited. Returns how many were ended.
   */
  sweepStale(nowMs: number): number {
    let ended = 0;
    for (let id = this.deadlines.popExpired(nowMs); id !== undefined; id = this.deadlines.popExpired(nowMs)) {
      this.sweepPops += 1;
      const session = this.sessions.get(id);
      // An entry whose session already ended (or was replaced) is just dropped.
      if (session === undefined || staleDeadlineMs(session) >= nowMs) continue;
      if (isCold(session)) {
        // Ended once its record is loaded (warm); until then it still counts as active.
        this.onColdExpired?.(id);
        continue;
      }
      this.endSession(session, nowMs, 'stale', null);
      ended += 1;
    }
    return ended;
  }

  private rollDay(nowMs: number): void {
    if (nowMs >= this.today.startMs && nowMs < this.today.endMs) return;
    const bounds = localDayBounds(nowMs);
    this.today = { ...bounds, count: 0 };
  }
}
