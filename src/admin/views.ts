/**
 * The active-session list of the console (CONTRACT-ADMIN §3.2, decision Q16): the stale sweep runs
 * first, so no session past its deadline is listed, and the list is sorted by start. A session
 * reloaded at start-up and not used since is "cold" (only id, start and duration are in memory):
 * it is listed with null score, remaining artifacts and speed rather than loaded from storage.
 */
import type { ColdSessionRow, SessionRecord } from '../model/records.js';
import type { HotState } from '../state/hot-state.js';

export interface ActiveSessionView {
  sessionId: string;
  status: 'active' | 'ended';
  startedAt: string;
  elapsedSeconds: number;
  score: number | null;
  remainingArtifacts: number | null;
  playerSpeedPercent: number | null;
}

export function activeSessionView(s: SessionRecord | ColdSessionRow, nowMs: number): ActiveSessionView {
  if (Array.isArray(s)) {
    const [id, startedAtMs] = s;
    return { sessionId: id, status: 'active', startedAt: new Date(startedAtMs).toISOString(), elapsedSeconds: elapsed(startedAtMs, nowMs), score: null, remainingArtifacts: null, playerSpeedPercent: null };
  }
  return {
    sessionId: s.id,
    status: s.status,
    startedAt: new Date(s.startedAtMs).toISOString(),
    elapsedSeconds: elapsed(s.startedAtMs, nowMs),
    score: s.score ?? 0,
    remainingArtifacts: s.remainingArtifactCount ?? 0,
    playerSpeedPercent: s.playerSpeedPercent ?? 100,
  };
}

function elapsed(startedAtMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - startedAtMs) / 1000));
}

function startOf(s: SessionRecord | ColdSessionRow): number {
  return Array.isArray(s) ? s[1] : s.startedAtMs;
}

/** Every active session, oldest start first (ties: by id). Cost: O(n log n) in active sessions. */
export function activeSessions(state: HotState, nowMs: number): ActiveSessionView[] {
  state.sweepStale(nowMs);
  const list = [...state.sessions.values()];
  list.sort((a, b) => startOf(a) - startOf(b) || (activeId(a) < activeId(b) ? -1 : 1));
  return list.map((s) => activeSessionView(s, nowMs));
}

function activeId(s: SessionRecord | ColdSessionRow): string {
  return Array.isArray(s) ? s[0] : s.id;
}
