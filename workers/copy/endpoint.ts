/**
 * What the one-shot copy (workers/copy/copy.ts) needs from each storage driver beyond the
 * StorageDriver seam: the seam reads only what a running server needs (active sessions, the
 * newest high scores), while a copy must carry every row, ended sessions and levels included.
 *
 * Reads go through `exportSessionsPage` and `rest`; writes go through the ordinary `apply`
 * (one transaction per batch) and `importMeta` at the end. The copy runs with no server on
 * either database.
 *
 * Never: used by a running server (it reads whole tables), or written to a database that is not
 * empty (`isEmpty` is checked first).
 */
import type { ArtifactRow, LevelRow, SessionRow } from '../../src/model/rows.js';
import type { StorageDriver } from '../driver.js';

/** A session with everything stored for it; `level` is null when none was stored. */
export type ExportedSession = [header: SessionRow, artifacts: ArtifactRow[], level: LevelRow | null];

/** Every table a copy carries, counted on both sides for the verification (same names in both drivers). */
export const COPIED_TABLES = [
  'sessions',
  'artifacts',
  'session_levels',
  'high_scores',
  'notices',
  'settings',
  'idempotency_keys',
  'admin_sessions',
  'audit_log',
] as const;

/** Rows per table, for the verification after a copy. */
export type TableCounts = Record<(typeof COPIED_TABLES)[number], number>;

export interface CopyEndpoint {
  readonly driver: StorageDriver;
  /** The schema version of the database: a copy needs the same on both sides. */
  readonly schemaVersion: number;
  /** Every session, any status, ordered by id (byte order) after `after`, at most `limit`. */
  exportSessionsPage(after: string | null, limit: number): Promise<ExportedSession[]>;
  /** No row in any copied table, and last_seq 0. */
  isEmpty(): Promise<boolean>;
  /** Sets last_seq and max_high_score_id to the source's values (the copy's own batch seqs are not the source's). */
  importMeta(lastSeq: number, maxHighScoreId: number): Promise<void>;
  counts(): Promise<TableCounts>;
  close(): Promise<void>;
}
