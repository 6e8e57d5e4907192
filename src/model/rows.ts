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
import type { ArtifactStatus, LevelRecord, StatsRecord } from './records.js';

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

/**
 * session_levels: the level, written once when the session is created, as ONE row: the trash can
 * as columns and the terrain as the JSON text of `level.terrain` (the array the create answer sends).
 */
export type LevelRow = [sessionId: string, level: LevelRecord];

/** high_scores. Key: id (assigned by the main thread). */
export type HighScoreRow = [
  id: number,
  createdAtMs: number,
  playerTag: string,
  result: 'won' | 'lost',
  remainingUnchecked: number,
];

/**
 * notices. Key: id. Validity bounds stay ISO strings as the contract serves them (years 0000–9999
 * only, so they compare as strings). createdAtMs/updatedAtMs: null for notices written before the
 * admin console existed.
 */
export type NoticeRow = [
  id: string,
  title: string,
  message: string,
  validFrom: string,
  validTo: string,
  createdAtMs: number | null,
  updatedAtMs: number | null,
];

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
 * admin_sessions. Key: tokenHash, the SHA-256 (hex) of the cookie's token; the token itself is never
 * stored, logged or sent anywhere but in the Set-Cookie of the login answer.
 */
export type AdminSessionRow = [tokenHash: string, createdAtMs: number, expiresAtMs: number];

export type AuditCategory = 'security' | 'gameplay';
export type AuditSeverity = 'info' | 'low' | 'medium' | 'high';

/**
 * audit_log: the security and audit log the admin console serves (CONTRACT-ADMIN §3.1). Key: id,
 * increasing in the order the events happened. `details` is a JSON object text, redacted before
 * it is built (no password, secret, token or authorization value ever reaches a row).
 */
export type AuditRow = [
  id: number,
  atMs: number,
  category: AuditCategory,
  severity: AuditSeverity,
  eventType: string,
  message: string,
  details: string,
];

/**
 * The stats counters travel as deltas (added to the stored columns) and the two times as
 * high-water marks (the stored value becomes the larger one): several writers — batches retried
 * after a crash, or several servers on one PostgreSQL — never overwrite each other's counts.
 */
export type StatsDelta = StatsRecord;

/** Every table a batch can upsert into, and the shape of its rows. */
export interface UpsertRows {
  sessions: SessionRow;
  artifacts: ArtifactRow;
  levels: LevelRow;
  highScores: HighScoreRow;
  notices: NoticeRow;
  settings: SettingRow;
  idempotencyKeys: IdempotencyRow;
  adminSessions: AdminSessionRow;
  audit: AuditRow;
}

/** Every table a batch can delete from, and the key a delete names. */
export interface DeleteKeys {
  highScores: number;
  notices: string;
  adminSessions: string;
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
