/**
 * Housekeeping on PostgreSQL: retention in short chunks, and the file backup it refuses (use
 * pg_dump or the server's own backups; PostgreSQL runs its own checkpoints).
 *
 * Never: delete an active session, hold one long transaction over the whole retention (each
 * chunk is one statement and its own transaction; retention is idempotent, so a failure between
 * chunks only leaves work for the next run), or wait on rows an apply holds (SKIP LOCKED).
 */
import type { RetentionResult } from '../../src/model/stored.js';
import type { RetentionCutoffs } from '../driver.js';
import { WorkerFailure } from './errors.js';
import { type Client, run } from './pool.js';
import { SQL } from './statements.js';

/** Rows deleted per retention statement: each stays short, so an apply waits at most one. */
export const PG_RETENTION_CHUNK_ROWS = 1000;
/** Bound on chunks per run (1000 x 10 000 = 10 M rows); what is left waits for the next run. */
export const PG_RETENTION_MAX_CHUNKS = 10_000;

function checkCutoff(value: number | null, name: string): void {
  if (value !== null && !Number.isFinite(value)) {
    throw new WorkerFailure('INTERNAL', `retention: ${name} must be a number or null, got ${String(value)}`);
  }
}

/**
 * Ended sessions (with artifacts and level), old high scores (null keeps them), expired
 * idempotency keys and admin sessions, audit rows older than `auditBeforeMs` (null: kept by age)
 * and beyond the newest `auditMaxRows`, in chunks until a chunk comes back short; `borrow` runs
 * each on a pooled connection.
 */
export async function retention(
  borrow: <T>(fn: (c: Client) => Promise<T>) => Promise<T>,
  cutoffs: RetentionCutoffs,
): Promise<RetentionResult> {
  const { sessionsBeforeMs, highScoresBeforeMs, idempotencyBeforeMs, adminSessionsBeforeMs, auditBeforeMs, auditMaxRows } = cutoffs;
  checkCutoff(sessionsBeforeMs, 'sessionsBeforeMs');
  checkCutoff(highScoresBeforeMs, 'highScoresBeforeMs');
  checkCutoff(idempotencyBeforeMs, 'idempotencyBeforeMs');
  checkCutoff(adminSessionsBeforeMs, 'adminSessionsBeforeMs');
  checkCutoff(auditBeforeMs, 'auditBeforeMs');
  if (!Number.isSafeInteger(auditMaxRows) || auditMaxRows < 0) {
    throw new WorkerFailure('INTERNAL', `retention: auditMaxRows must be a non-negative integer, got ${String(auditMaxRows)}`);
  }
  const chunks = async (sql: typeof SQL.deleteEndedChunk, cutoff: number | null): Promise<number> => {
    if (cutoff === null) return 0;
    let total = 0;
    for (let i = 0; i < PG_RETENTION_MAX_CHUNKS; i++) {
      const n = await borrow(async (c) => (await run(c, sql, [cutoff, PG_RETENTION_CHUNK_ROWS])).rowCount ?? 0);
      total += n;
      if (n < PG_RETENTION_CHUNK_ROWS) break;
    }
    return total;
  };
  const deletedSessions = await chunks(SQL.deleteEndedChunk, sessionsBeforeMs);
  const deletedHighScores = await chunks(SQL.deleteHighScoresChunk, highScoresBeforeMs);
  await chunks(SQL.deleteIdempotencyChunk, idempotencyBeforeMs);
  await chunks(SQL.deleteAdminSessionsChunk, adminSessionsBeforeMs);
  const deletedAuditRows =
    (await chunks(SQL.deleteAuditBeforeChunk, auditBeforeMs)) + (await chunks(SQL.deleteAuditBeyondChunk, auditMaxRows));
  return { deletedSessions, deletedHighScores, deletedAuditRows };
}

export function backupUnsupported(location: string): WorkerFailure {
  return new WorkerFailure(
    'UNSUPPORTED',
    `backup: the PostgreSQL driver (${location}) cannot write a file backup; use pg_dump or the database server's own backups`,
  );
}
