/**
 * What a storage driver's reads and writes return (workers/driver.ts), as they cross the thread
 * in the replies of src/model/protocol.ts.
 */
import type { HighScoreRecord, NoticeRecord, SettingRecord, StatsRecord } from './records.js';
import type { AdminSessionRow, ArtifactRow, AuditRow, IdempotencyRow, SessionRow } from './rows.js';


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
  /** Admin sessions still valid at this instant are returned. */
  nowMs: number;
  /** The newest audit rows, at most this many. */
  auditLimit: number;
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
  /** Admin sessions not expired at `nowMs`. */
  adminSessions: AdminSessionRow[];
  /** The newest audit rows, oldest first. */
  audit: AuditRow[];
}

export interface RetentionResult {
  deletedAuditRows?: number;
  deletedSessions: number;
  deletedHighScores: number;
}

