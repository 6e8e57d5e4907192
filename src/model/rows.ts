/**
 * Typed rows: what a change writes, one row per thing it touched, as a tuple of column values in
 * table order. The main thread builds a row at the moment of the change (O(the change)); the
 * queue coalesces rows per key; the worker binds them to statements as they are (SQLite), or
 * transposes a table's rows into column arrays for one multi-row statement (PostgreSQL).
 *
 * Tuples, not objects: they pack to msgpack arrays (no key strings on the wire) and bind
 * positionally. The column order of each tuple is the order of the columns in its statements;
 * never reorder a shipped tuple (append a column, with a migration).
 *
 * Times are epoch milliseconds (integers). Nothing here does I/O.
 */
import type {
  ArtifactRecord,
  ArtifactStatus,
  HighScoreRecord,
  LevelRecord,
  NoticeRecord,
  SessionRecord,
  SettingRecord,
  StatsRecord,
} from './records.js';

// ---------------------------------------------------------------------------------------------
// Row shapes, one per table.
// ---------------------------------------------------------------------------------------------

/** sessions: the header of a session; every column is small and fixed-size. Key: id. */
export type SessionRow = [
  id: string,
  status: 'active' | 'ended',
  seed: string,
  startedAtMs: number,
  durationSeconds: number,
  playerSpeedPercent: number,
  score: number,
  remainingArtifactCount: number,
  artifactCount: number,
  endedAtMs: number | null,
  endReason: 'ended' | 'stale' | null,
  result: 'won' | 'lost' | null,
];

/** artifacts: one per artifact. Key: (sessionId, idx); idx is the spawn order within the session. */
export type ArtifactRow = [
  sessionId: string,
  idx: number,
  artifactId: string,
  x: number,
  y: number,
  status: ArtifactStatus,
  createdAtMs: number,
  updatedAtMs: number,
];

/** session_levels (+ level_segments): the level, written once when the session is created. */
export type LevelRow = [sessionId: string, level: LevelRecord];

/** high_scores. Key: id (assigned by the main thread). */
export type HighScoreRow = [
  id: number,
  createdAtMs: number,
  playerTag: string,
  result: 'won' | 'lost',
  remainingUnchecked: number,
];

/** notices. Key: id. Validity bounds stay ISO strings as the contract serves them. */
export type NoticeRow = [id: string, title: string, message: string, validFrom: string, validTo: string];

/** settings. Key: key. */
export type SettingRow = [key: string, value: number, updatedAtMs: number];

/**
 * idempotency_keys: the answer of a write that carried an idempotency key, per client. Key:
 * (client, key). `body` is the answer's JSON text; `seq` the batch that holds the write.
 */
export type IdempotencyRow = [
  client: string,
  key: string,
  fingerprint: string,
  status: number,
  body: string,
  seq: number,
  createdAtMs: number,
];

/**
 * The stats counters travel as deltas (added to the stored columns) and the two times as
 * high-water marks (the stored value becomes the larger one): several writers — batches retried
 * after a crash, or several servers on one PostgreSQL — never overwrite each other's counts.
 */
export interface StatsDelta {
  startedCount: number;
  endedCount: number;
  staleEndedCount: number;
  wonCount: number;
  lostCount: number;
  abandonedCount: number;
  latestCompletedAtMs: number | null;
  latestActivityAtMs: number | null;
}

/** Every table a batch can upsert into, and the shape of its rows. */
export interface UpsertRows {
  sessions: SessionRow;
  artifacts: ArtifactRow;
  levels: LevelRow;
  highScores: HighScoreRow;
  notices: NoticeRow;
  settings: SettingRow;
  idempotencyKeys: IdempotencyRow;
}

/** Every table a batch can delete from, and the key a delete names. */
export interface DeleteKeys {
  highScores: number;
  notices: string;
}

export type UpsertTable = keyof UpsertRows;
export type DeleteTable = keyof DeleteKeys;

/**
 * One batch as it crosses the thread: per table, the latest row of each changed key (an upsert)
 * or the keys deleted, plus the counter deltas. A key is never in both the upserts and the
 * deletes of one table in one batch (the later change wins when they are gathered).
 * Each table's list maps onto one multi-row statement; empty tables are left out.
 */
export interface WireBatch {
  seq: number;
  upserts: { [T in UpsertTable]?: UpsertRows[T][] };
  deletes: { [T in DeleteTable]?: DeleteKeys[T][] };
  stats: StatsDelta | null;
}

// ---------------------------------------------------------------------------------------------
// Records → rows (main thread, at the moment of the change) and rows → records (reload).
// ---------------------------------------------------------------------------------------------

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
  return [n.id, n.title, n.message, n.validFrom, n.validTo];
}

export function settingRow(s: SettingRecord): SettingRow {
  return [s.key, s.value, s.updatedAtMs];
}

export function highScoreOfRow(r: HighScoreRow): HighScoreRecord {
  return { id: r[0], createdAtMs: r[1], playerTag: r[2], result: r[3], remainingUnchecked: r[4] };
}

export function noticeOfRow(r: NoticeRow): NoticeRecord {
  return { id: r[0], title: r[1], message: r[2], validFrom: r[3], validTo: r[4] };
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

// ---------------------------------------------------------------------------------------------
// What a storage driver's reads and writes return (workers/driver.ts), as they cross the thread.
// ---------------------------------------------------------------------------------------------

export interface ApplyResult {
  /** false when this seq (or a later one) was already applied: replay is a no-op. */
  applied: boolean;
  /** Rows written (upserted, deleted or counted). */
  rows: number;
}

/** An active session as stored: its header and its artifact rows (for its first use after a restart). */
export type StoredSession = [header: SessionRow, artifacts: ArtifactRow[]];

export interface LoadedSessions {
  sessions: StoredSession[];
  /** Ids with no active session row. */
  missingIds: string[];
}

/** What start-up asks of the small tables. */
export interface RestQuery {
  /** How many newest high scores to return. */
  highScoreLimit: number;
  /** Idempotency keys created at or after this instant, at most `idempotencyLimit` (the newest). */
  idempotencySinceMs: number;
  idempotencyLimit: number;
}

/** Everything but the sessions, read once at start-up. */
export interface StoredRest {
  stats: StatsRecord;
  /** Newest first (created_at DESC, id DESC), at most the limit asked for. */
  highScores: HighScoreRecord[];
  maxHighScoreId: number;
  notices: NoticeRecord[];
  settings: SettingRecord[];
  /** Idempotency keys created at or after the `since` asked for, oldest first, at most the limit. */
  idempotencyKeys: IdempotencyRow[];
}

export interface RetentionResult {
  deletedSessions: number;
  deletedHighScores: number;
}

export interface CheckpointResult {
  busy: number;
  logFrames: number;
  checkpointedFrames: number;
}
