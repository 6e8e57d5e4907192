/**
 * Records ↔ rows: the main thread builds a change's rows here at the moment of the change (O(the
 * change)), and rebuilds records from rows when a session or the small tables are read back.
 * Also the arithmetic of stats deltas. Pure functions, no I/O.
 */
import type { ArtifactRecord, HighScoreRecord, NoticeRecord, SessionRecord, SettingRecord } from './records.js';
import type { ArtifactRow, HighScoreRow, NoticeRow, SessionRow, SettingRow, StatsDelta } from './rows.js';


export function sessionRow(s: SessionRecord): SessionRow {
  return [
    s.id,
    s.status,
    s.seed,
    s.startedAtMs,
    s.durationSeconds,
    s.playerSpeedPercent,
    s.score,
    s.remainingArtifactCount,
    s.artifacts.length,
    s.endedAtMs,
    s.endReason,
    s.result,
  ];
}

export function artifactRow(sessionId: string, idx: number, a: ArtifactRecord, nowMs: number): ArtifactRow {
  return [sessionId, idx, a.id, a.position.x, a.position.y, a.status, a.createdAtMs, nowMs];
}

export function highScoreRow(h: HighScoreRecord): HighScoreRow {
  return [h.id, h.createdAtMs, h.playerTag, h.result, h.remainingUnchecked];
}

export function noticeRow(n: NoticeRecord): NoticeRow {
  return [n.id, n.title, n.message, n.validFrom, n.validTo, n.createdAtMs ?? null, n.updatedAtMs ?? null];
}

export function settingRow(s: SettingRecord): SettingRow {
  return [s.key, s.value, s.updatedAtMs];
}

export function highScoreOfRow(r: HighScoreRow): HighScoreRecord {
  return { id: r[0], createdAtMs: r[1], playerTag: r[2], result: r[3], remainingUnchecked: r[4] };
}

export function noticeOfRow(r: NoticeRow): NoticeRecord {
  const notice: NoticeRecord = { id: r[0], title: r[1], message: r[2], validFrom: r[3], validTo: r[4] };
  if (r[5] !== null) notice.createdAtMs = r[5];
  if (r[6] !== null) notice.updatedAtMs = r[6];
  return notice;
}

export function settingOfRow(r: SettingRow): SettingRecord {
  return { key: r[0], value: r[1], updatedAtMs: r[2] };
}

/** A session rebuilt from its header and its artifact rows (any order; placed by idx). */
export function sessionOfRows(h: SessionRow, artifacts: readonly ArtifactRow[]): SessionRecord {
  const list: ArtifactRecord[] = new Array(artifacts.length);
  const sorted = artifacts.length > 1 ? [...artifacts].sort((a, b) => a[1] - b[1]) : artifacts;
  let groundCount = 0;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    list[i] = { id: a[2], position: { x: a[3], y: a[4] }, status: a[5], createdAtMs: a[6] };
    if (a[5] === 'ground') groundCount += 1;
  }
  return {
    id: h[0],
    status: h[1],
    seed: h[2],
    startedAtMs: h[3],
    durationSeconds: h[4],
    playerSpeedPercent: h[5],
    score: h[6],
    remainingArtifactCount: h[7],
    groundCount,
    artifacts: list,
    endedAtMs: h[9],
    endReason: h[10],
    result: h[11],
  };
}

/**
 * Adds a delta into running counters (the hot stats, or a batch's gathered delta): counters add,
 * the two times only move forward. Works on a StatsRecord too (same fields).
 */
export function addStatsDelta(into: StatsDelta, delta: Partial<StatsDelta>): void {
  into.startedCount += delta.startedCount ?? 0;
  into.endedCount += delta.endedCount ?? 0;
  into.staleEndedCount += delta.staleEndedCount ?? 0;
  into.wonCount += delta.wonCount ?? 0;
  into.lostCount += delta.lostCount ?? 0;
  into.abandonedCount += delta.abandonedCount ?? 0;
  into.latestCompletedAtMs = laterOf(into.latestCompletedAtMs, delta.latestCompletedAtMs ?? null);
  into.latestActivityAtMs = laterOf(into.latestActivityAtMs, delta.latestActivityAtMs ?? null);
}

function laterOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

export function emptyStatsDelta(): StatsDelta {
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

