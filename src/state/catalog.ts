/**
 * Commands on the shared records: session stats, high scores, notices, game settings and the
 * system stats (CONTRACT §1.6, §4). Reads never change anything except through the stale sweep,
 * which the contract runs before stats and system stats.
 */
import type { HighScoreRecord, NoticeRecord } from '../model/records.js';
import { highScoreRow } from '../model/rows.js';
import { type Answer, isoOrNull, ok } from './answer.js';
import { HIGH_SCORE_LIST_LIMIT, type HotState } from './hot-state.js';

export function sessionStats(state: HotState, nowMs: number): Answer {
  state.sweepStale(nowMs);
  const s = state.stats;
  return ok(200, {
    activeCount: state.sessions.size,
    startedCount: s.startedCount,
    endedCount: s.endedCount,
    staleEndedCount: s.staleEndedCount,
    wonCount: s.wonCount,
    lostCount: s.lostCount,
    abandonedCount: s.abandonedCount,
    latestCompletedAt: isoOrNull(s.latestCompletedAtMs),
    latestActivityAt: isoOrNull(s.latestActivityAtMs),
  });
}

export function highScoreView(record: HighScoreRecord): Record<string, unknown> {
  return {
    id: record.id,
    createdAt: new Date(record.createdAtMs).toISOString(),
    playerTag: record.playerTag,
    result: record.result,
    remainingUnchecked: record.remainingUnchecked,
  };
}

export function listHighScores(state: HotState): Answer {
  return ok(200, { scores: state.highScores.map(highScoreView) });
}

export interface NewHighScore {
  playerTag: string;
  result: 'won' | 'lost';
  remainingUnchecked: number;
}

export function addHighScore(state: HotState, entry: NewHighScore, nowMs: number): Answer {
  const record: HighScoreRecord = { id: state.nextHighScoreId++, createdAtMs: nowMs, ...entry };
  // Newest first (CONTRACT decision: keep the original's order); only the list size is kept hot.
  state.highScores.unshift(record);
  if (state.highScores.length > HIGH_SCORE_LIST_LIMIT) state.highScores.length = HIGH_SCORE_LIST_LIMIT;
  state.observer?.highScoreAdded(record);
  return ok(201, { score: highScoreView(record) }, state.sink.upsert('highScores', record.id, highScoreRow(record)));
}

/** Drops hot entries that retention has deleted from storage. */
export function forgetHighScoresBefore(state: HotState, cutoffMs: number): void {
  state.highScores = state.highScores.filter((h) => h.createdAtMs >= cutoffMs);
}

export function activeNotices(state: HotState, nowMs: number): Answer {
  const now = new Date(nowMs).toISOString();
  const notices: NoticeRecord[] = [];
  for (const n of state.notices.values()) if (n.validFrom <= now && now <= n.validTo) notices.push(n);
  notices.sort((a, b) => (a.validFrom < b.validFrom ? -1 : a.validFrom > b.validFrom ? 1 : a.id < b.id ? -1 : 1));
  return ok(200, {
    notices: notices.map((n) => ({ id: n.id, title: n.title, message: n.message, validFrom: n.validFrom, validTo: n.validTo })),
  });
}

export interface ProcessInfo {
  startedAtMs: number;
  version: string;
}

export function systemStats(state: HotState, info: ProcessInfo, nowMs: number): Answer {
  state.sweepStale(nowMs);
  return ok(200, {
    startedAt: new Date(info.startedAtMs).toISOString(),
    uptimeSeconds: Math.floor((nowMs - info.startedAtMs) / 1000),
    sessionsStarted: state.stats.startedCount,
    sessionsActive: state.sessions.size,
    sessionsEnded: state.stats.endedCount,
    sessionsToday: state.sessionsToday(nowMs),
    latestActivityAt: isoOrNull(state.stats.latestActivityAtMs),
    serverVersion: info.version,
  });
}
