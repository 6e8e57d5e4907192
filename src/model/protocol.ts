/**
 * The thread protocol between the main thread (src/persist/) and the persistence worker
 * (workers/persist.ts). This file, with the records (records.ts) and typed rows (rows.ts) it
 * re-exports, is the ONLY thing both sides share: a closed union of task kinds, their replies,
 * the msgpackr options and the batch encoding. It holds no logic that touches a database or a
 * socket.
 *
 * Rules that must never be broken:
 * - Bytes crossing the thread are exact-size ArrayBuffers moved (transferred), never a view
 *   into msgpackr's reused buffer (see `ownBytes`).
 * - Errors cross the thread as data (`TaskError`), never as thrown exceptions.
 * - Plain msgpack only (no shared structures, no records extension): a batch decodes the same
 *   in any thread, whatever was encoded before it.
 */
import { Packr } from 'msgpackr';
import type { WireBatch } from './rows.js';
import type { ApplyResult, LoadedSessions, RestQuery, RetentionResult, StoredRest } from './stored.js';

export type * from './records.js';
export type * from './rows.js';
export type * from './stored.js';

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

/** Which database the worker opens, and how. */
export type StorageOptions =
  | {
      driver: 'sqlite';
      dbPath: string;
      synchronous: Synchronous;
      /** VIBEFIXER_CHECKPOINT_INTERVAL_MS (the checkpointer thread's pace); 0 or absent = no periodic checkpoint. */
      checkpointIntervalMs?: number;
      /** Log each checkpoint (VIBEFIXER_LOG_LEVEL=debug or trace). */
      logCheckpoints?: boolean;
    }
  | { driver: 'postgres'; url: string; poolSize: number; statementTimeoutMs: number };

/**
 * Piscina `workerData` of the persistence worker. A thread that piscina starts to replace a
 * crashed one has received no `open` task: it reopens this database by itself at its first task
 * (never creating, migrating or quarantining anything).
 */
export interface PersistWorkerData {
  storage: StorageOptions;
}

export interface OpenTask {
  kind: 'open';
  storage: StorageOptions;
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
  /** Keyset pagination over active sessions by id; null for the first page. */
  after: string | null;
  limit: number;
}

export interface ReloadRestTask extends RestQuery {
  kind: 'reloadRest';
}

/** Reads active sessions (header and artifacts) on their first use after a restart. */
export interface LoadSessionsTask {
  kind: 'loadSessions';
  ids: string[];
}

export interface CountStartedTask {
  kind: 'countStarted';
  fromMs: number;
  toMs: number;
}

export interface RetentionTask {
  kind: 'retention';
  nowMs: number;
  /** 0 keeps forever. */
  sessionRetentionDays: number;
  highScoreRetentionDays: number;
  /** Idempotency keys older than this are deleted. */
  idempotencyWindowMs: number;
  /** Audit rows older than this many days are deleted (0 keeps them by age), and beyond the newest auditMaxRows. */
  auditRetentionDays: number;
  auditMaxRows: number;
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
  | LoadSessionsTask
  | ReloadRestTask
  | CountStartedTask
  | RetentionTask
  | BackupTask
  | CloseTask;

/** Stable error codes; the README lists them. */
export type ErrorCode =
  | 'NOT_OPEN' // a task other than open reached a worker with no database
  | 'SCHEMA_TOO_NEW' // the database was written by a newer version: refuse, touch nothing
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
  /** 'sqlite' | 'postgres' and where (a path, or a URL without its password), for the logs. */
  driver: string;
  location: string;
  /** Where a corrupt file was moved (SQLite), or null. */
  quarantinedTo: string | null;
  quarantineReason: string | null;
  /** A full integrity check ran (SQLite runs quick_check only after an unclean shutdown). */
  integrityChecked: boolean;
  created: boolean;
  schemaVersion: number;
  migratedFrom: number;
  lastSeq: number;
  sessionsToday: number;
}

export interface ApplyReply extends ApplyResult {
  ok: true;
  kind: 'apply';
  seq: number;
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

export interface ReloadRestReply extends StoredRest {
  ok: true;
  kind: 'reloadRest';
}

export interface LoadSessionsReply extends LoadedSessions {
  ok: true;
  kind: 'loadSessions';
}

export interface CountStartedReply {
  ok: true;
  kind: 'countStarted';
  count: number;
}

export interface RetentionReply extends RetentionResult {
  ok: true;
  kind: 'retention';
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
  | LoadSessionsReply
  | ReloadRestReply
  | CountStartedReply
  | RetentionReply
  | BackupReply
  | CloseReply
  | TaskError;

/** Maps each task kind to its success reply, for typed calls from the client. */
export interface ReplyOf {
  open: OpenReply;
  apply: ApplyReply;
  reloadSessions: ReloadSessionsReply;
  loadSessions: LoadSessionsReply;
  reloadRest: ReloadRestReply;
  countStarted: CountStartedReply;
  retention: RetentionReply;
  backup: BackupReply;
  close: CloseReply;
}
