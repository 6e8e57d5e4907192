/**
 * The storage-driver seam: what the persistence worker's handler (workers/persist.ts) asks of a
 * database, whatever it is. SQLite (workers/sqlite/) is one implementation; PostgreSQL
 * (workers/postgres/) is the other. Nothing above this interface may assume either.
 *
 *   main thread ──task──► workers/persist.ts handle() ──► StorageDriver ──► SQLite file | PostgreSQL
 *
 * Rules every driver keeps (DESIGN.md invariants 1, 2, 6):
 * - `apply` is ONE transaction: every upsert, delete and counter delta of the batch and the new
 *   last seq commit together or not at all; a seq at or below the stored last seq is a no-op
 *   (`applied: false`), so a batch replayed after a lost acknowledgement changes nothing.
 * - A table's rows map onto one multi-row statement where the database allows it; counters are
 *   added (`StatsDelta`), never overwritten.
 * - Failures are thrown as `WorkerFailure` (workers/failure.ts) with a stable code and whether a
 *   retry can help; the handler turns them into TaskError data for the main thread.
 * - No timers, no state beyond the connection(s) and prepared statements.
 */
import type { ColdSessionRow } from '../src/model/records.js';
import type { WireBatch } from '../src/model/rows.js';
import type { ApplyResult, LoadedSessions, RestQuery, RetentionResult, StoredRest } from '../src/model/stored.js';

export interface RetentionCutoffs {
  sessionsBeforeMs: number | null;
  highScoresBeforeMs: number | null;
  idempotencyBeforeMs: number;
  /** Admin sessions that expired before this are deleted. */
  adminSessionsBeforeMs: number;
  /** Audit rows older than this are deleted (null: kept by age); at most `auditMaxRows` newest are kept. */
  auditBeforeMs: number | null;
  auditMaxRows: number;
}

export type { ApplyResult, LoadedSessions, RestQuery, RetentionResult, StoredRest, StoredSession } from '../src/model/stored.js';

export interface StorageDriver {
  /** 'sqlite' or 'postgres', for logs and errors. */
  readonly kind: string;
  /** Where the data lives, safe to log (a path; a URL without its password). */
  readonly location: string;

  /** The seq of the last applied batch (0 for a new database). */
  lastSeq(): Promise<number>;
  apply(batch: WireBatch): Promise<ApplyResult>;

  /** Active sessions ordered by id, after `after` (null: from the start), at most `limit`. */
  activeSessionsPage(after: string | null, limit: number): Promise<ColdSessionRow[]>;
  loadSessions(ids: readonly string[]): Promise<LoadedSessions>;
  rest(query: RestQuery): Promise<StoredRest>;
  /** Sessions whose started_at is in [fromMs, toMs). */
  countStarted(fromMs: number, toMs: number): Promise<number>;

  /**
   * Deletes ended sessions (with their artifacts and level) ended before `sessionsBeforeMs`, high
   * scores created before `highScoresBeforeMs` (null keeps them), and idempotency keys created
   * before `idempotencyBeforeMs`. In short chunks.
   */
  retention(cutoffs: RetentionCutoffs): Promise<RetentionResult>;
  /** An online copy of the committed state into `destPath`; a driver that cannot refuses (UNSUPPORTED). */
  backup(destPath: string): Promise<{ totalPages: number }>;
  close(): Promise<void>;
}

/** What opening a database found and did, for the start-up log and /health. */
export interface OpenedDriver {
  driver: StorageDriver;
  /** The database was empty (or absent) and was initialised. */
  created: boolean;
  schemaVersion: number;
  /** The schema version found before migrating (0 for a new database). */
  migratedFrom: number;
  /** SQLite only: where a corrupt file was moved, or null. */
  quarantinedTo: string | null;
  quarantineReason: string | null;
  /** A full integrity check ran at open (SQLite: after an unclean shutdown). */
  integrityChecked: boolean;
}
