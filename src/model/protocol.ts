/**
 * The thread protocol between the write-behind queue (main thread, src/persist/) and the
 * persistence worker (workers/persist.ts). This file, with the record shapes of records.ts that
 * it re-exports, is the ONLY thing both sides share: a closed union of task kinds, their replies,
 * the msgpackr options and the batch encoding. It holds no logic that touches SQLite or sockets.
 *
 * Rules that must never be broken:
 * - Bytes crossing the thread are exact-size ArrayBuffers moved (transferred), never a view
 *   into msgpackr's reused buffer (see `ownBytes`).
 * - Errors cross the thread as data (`TaskError`), never as thrown exceptions.
 * - Records written to disk are plain msgpack (no shared structures, no records extension),
 *   so they decode with any msgpack decoder after any upgrade.
 */
import { Packr } from 'msgpackr';
import type { ColdSessionRow } from './records.js';
import type { WireBatch } from './rows.js';
import type { CheckpointResult, LoadedSessions, StoredRest } from './rows.js';

export type * from './records.js';
export type * from './rows.js';

/** Plain msgpack: maps stay maps, no record extension, no shared structures. */
export const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Copy a msgpackr result (a view into a reused buffer) into an exact-size owned buffer. */
export function ownBytes(view: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(view.byteLength);
  out.set(view);
  return out.buffer;
}

export function encode(value: unknown): ArrayBuffer {
  return ownBytes(packr.pack(value));
}

export function decode<T>(bytes: ArrayBuffer | Uint8Array): T {
  return packr.unpack(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) as T;
}


/** The bytes of a batch: typed rows (rows.ts), packed once, exact size, to be moved. */
export function encodeBatch(batch: WireBatch): ArrayBuffer {
  return encode(batch);
}

// ---------------------------------------------------------------------------------------------
// Tasks (main → worker) and replies (worker → main).
// ---------------------------------------------------------------------------------------------

export type Synchronous = 'NORMAL' | 'FULL';

/**
 * Piscina `workerData` of the persistence worker. A thread that piscina starts to replace a
 * crashed one has received no `open` task: it reopens this file by itself at its first task
 * (never creating or quarantining it).
 */
export interface PersistWorkerData {
  dbPath: string;
  synchronous: Synchronous;
}

export interface OpenTask {
  kind: 'open';
  dbPath: string;
  synchronous: Synchronous;
  /** Start of today and tomorrow (local time of the server), for `sessionsToday`. */
  todayStartMs: number;
  todayEndMs: number;
}

export interface ApplyTask {
  kind: 'apply';
  seq: number;
  /** `encodeBatch` bytes (a WireBatch), exact size, transferred. */
  bytes: ArrayBuffer;
}

export interface ReloadSessionsTask {
  kind: 'reloadSessions';
  /**
   * Keyset pagination over active sessions by id, read from a covering index only (the records
   * stay on disk: see ColdSessionRow); null for the first page.
   */
  after: string | null;
  limit: number;
}

/**
 * Checks that the stored records of active sessions decode, page by page in storage order, after
 * the port opened (reload itself does not read them). Undecodable rows are reported, not changed.
 */
export interface CheckSessionsTask {
  kind: 'checkSessions';
  /** Opaque cursor (a rowid) from the previous reply; null for the first page. */
  after: number | null;
  limit: number;
}

export interface ReloadRestTask {
  kind: 'reloadRest';
  /** How many newest high scores to return. */
  highScoreLimit: number;
}

/** Reads the stored records of active sessions on their first use after a restart. */
export interface LoadSessionsTask {
  kind: 'loadSessions';
  ids: string[];
}

export interface CountStartedTask {
  kind: 'countStarted';
  fromMs: number;
  toMs: number;
}

export interface CheckpointTask {
  kind: 'checkpoint';
  mode: 'PASSIVE' | 'TRUNCATE';
}

export interface RetentionTask {
  kind: 'retention';
  nowMs: number;
  sessionRetentionDays: number;
  highScoreRetentionDays: number;
}

export interface BackupTask {
  kind: 'backup';
  destPath: string;
}

export interface CloseTask {
  kind: 'close';
}

export type Task =
  | OpenTask
  | ApplyTask
  | ReloadSessionsTask
  | CheckSessionsTask
  | LoadSessionsTask
  | ReloadRestTask
  | CountStartedTask
  | CheckpointTask
  | RetentionTask
  | BackupTask
  | CloseTask;

/** Stable error codes; the README lists them. */
export type ErrorCode =
  | 'NOT_OPEN' // a task other than open reached a worker with no database
  | 'SCHEMA_TOO_NEW' // the file was written by a newer version: refuse, touch nothing
  | 'LOCKED' // another process owns the database file
  | 'BAD_BATCH' // the batch bytes do not decode (a bug: never retried)
  | 'DISK_FULL' // SQLITE_FULL / ENOSPC
  | 'IO' // SQLITE_IOERR and friends
  | 'BUSY' // SQLITE_BUSY / SQLITE_LOCKED
  | 'SQLITE' // any other SQLite error
  | 'UNAVAILABLE' // the database server cannot be reached (connection refused or lost, restarting)
  | 'TIMEOUT' // a statement ran past its timeout
  | 'POSTGRES' // any other PostgreSQL error
  | 'UNSUPPORTED' // the storage driver cannot do this task (e.g. a file backup of PostgreSQL)
  | 'INTERNAL';

export interface TaskError {
  ok: false;
  code: ErrorCode;
  message: string;
  retryable: boolean;
}

export interface OpenReply {
  ok: true;
  kind: 'open';
  /** Where a corrupt file was moved, or null. */
  quarantinedTo: string | null;
  quarantineReason: string | null;
  created: boolean;
  schemaVersion: number;
  migratedFrom: number;
  lastSeq: number;
  sessionsToday: number;
}

export interface ApplyReply {
  ok: true;
  kind: 'apply';
  seq: number;
  /** false when this seq (or a later one) was already applied: replay is a no-op. */
  applied: boolean;
  rows: number;
  commitMs: number;
}

export interface ReloadSessionsReply {
  ok: true;
  kind: 'reloadSessions';
  /** msgpack array of ColdSessionRow (moved). */
  page: ArrayBuffer;
  count: number;
  /** Pass as `after` for the next page; null when this was the last page. */
  nextAfter: string | null;
}

export interface CheckSessionsReply {
  ok: true;
  kind: 'checkSessions';
  checked: number;
  /** Active sessions whose stored record does not decode. */
  skippedIds: string[];
  nextAfter: number | null;
}

export interface ReloadRestReply {
  ok: true;
  kind: 'reloadRest';
  stats: StatsRecord | null;
  /** Newest first. */
  highScores: HighScoreRecord[];
  maxHighScoreId: number;
  notices: NoticeRecord[];
  settings: SettingRecord[];
  skipped: number;
}

export interface LoadSessionsReply {
  ok: true;
  kind: 'loadSessions';
  /** [id, stored SessionRecord bytes (plain msgpack)] for each id found active and valid. */
  records: Array<[string, Uint8Array]>;
  /** Ids whose stored record does not decode (skipped, for the log). */
  skippedIds: string[];
  /** Ids with no active row. */
  missingIds: string[];
}

export interface CountStartedReply {
  ok: true;
  kind: 'countStarted';
  count: number;
}

export interface CheckpointReply {
  ok: true;
  kind: 'checkpoint';
  busy: number;
  logFrames: number;
  checkpointedFrames: number;
}

export interface RetentionReply {
  ok: true;
  kind: 'retention';
  deletedSessions: number;
  deletedHighScores: number;
}

export interface BackupReply {
  ok: true;
  kind: 'backup';
  destPath: string;
  totalPages: number;
}

export interface CloseReply {
  ok: true;
  kind: 'close';
}

export type Reply =
  | OpenReply
  | ApplyReply
  | ReloadSessionsReply
  | CheckSessionsReply
  | LoadSessionsReply
  | ReloadRestReply
  | CountStartedReply
  | CheckpointReply
  | RetentionReply
  | BackupReply
  | CloseReply
  | TaskError;

/** Maps each task kind to its success reply, for typed calls from the client. */
export interface ReplyOf {
  open: OpenReply;
  apply: ApplyReply;
  reloadSessions: ReloadSessionsReply;
  checkSessions: CheckSessionsReply;
  loadSessions: LoadSessionsReply;
  reloadRest: ReloadRestReply;
  countStarted: CountStartedReply;
  checkpoint: CheckpointReply;
  retention: RetentionReply;
  backup: BackupReply;
  close: CloseReply;
}
