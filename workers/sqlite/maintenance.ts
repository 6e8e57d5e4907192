/**
 * Housekeeping the main thread asks for: retention deletes, an online backup, and the final close
 * with its TRUNCATE checkpoint (the periodic checkpoints run beside the commits: checkpointer.ts).
 *
 * Never: run on its own (no timers here; the main thread decides when), delete an active
 * session, or write the backup over an existing file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RetentionResult } from '../../src/model/stored.js';
import type { RetentionCutoffs } from '../driver.js';
import { WorkerFailure } from '../failure.js';
import type { Store } from './statements.js';

export const MS_PER_DAY = 86_400_000;
/** Rows deleted per retention transaction: each stays short, so an apply waits at most one. */
export const RETENTION_CHUNK_ROWS = 1000;

/**
 * Deletes ended sessions (with their artifacts and level) that ended before `sessionCutoff`, and
 * high scores created before `highScoreCutoff`; null keeps them. Deletes run in chunks of
 * RETENTION_CHUNK_ROWS sessions, one short transaction each: retention is idempotent, so a crash
 * between chunks only leaves work for the next run.
 */
export function retention(store: Store, cutoffs: RetentionCutoffs): RetentionResult {
  const { db, st } = store;
  const sessionCutoff = cutoffs.sessionsBeforeMs;
  const highScoreCutoff = cutoffs.highScoresBeforeMs;

  const deleteSessionChunk = db.transaction((cutoff: number): number => {
    const ids = st.endedBefore.all(cutoff, RETENTION_CHUNK_ROWS);
    for (const id of ids) {
      st.deleteSession.run(id);
      st.deleteArtifactsOf.run(id);
      st.deleteLevel.run(id);
    }
    return ids.length;
  });
  const deleteHighScoreChunk = db.transaction(
    (cutoff: number): number => st.deleteHighScoresBefore.run(cutoff, RETENTION_CHUNK_ROWS).changes,
  );

  let deletedSessions = 0;
  if (sessionCutoff !== null) {
    for (let n = RETENTION_CHUNK_ROWS; n === RETENTION_CHUNK_ROWS; ) {
      n = deleteSessionChunk.immediate(sessionCutoff);
      deletedSessions += n;
    }
  }
  let deletedHighScores = 0;
  if (highScoreCutoff !== null) {
    for (let n = RETENTION_CHUNK_ROWS; n === RETENTION_CHUNK_ROWS; ) {
      n = deleteHighScoreChunk.immediate(highScoreCutoff);
      deletedHighScores += n;
    }
  }
  // Idempotency keys, expired admin sessions and old audit rows: the same short chunks.
  const chunked = (run: () => number): number => {
    let total = 0;
    for (let n = RETENTION_CHUNK_ROWS; n === RETENTION_CHUNK_ROWS; total += n) n = db.transaction(run).immediate();
    return total;
  };
  chunked(() => st.deleteIdempotencyBefore.run(cutoffs.idempotencyBeforeMs, RETENTION_CHUNK_ROWS).changes);
  db.transaction(() => st.deleteAdminSessionsBefore.run(cutoffs.adminSessionsBeforeMs)).immediate();
  let deletedAuditRows = 0;
  if (cutoffs.auditBeforeMs !== null) {
    const before = cutoffs.auditBeforeMs;
    deletedAuditRows += chunked(() => st.deleteAuditBefore.run(before, RETENTION_CHUNK_ROWS).changes);
  }
  deletedAuditRows += chunked(() => st.deleteAuditBeyond.run(cutoffs.auditMaxRows, RETENTION_CHUNK_ROWS).changes);
  return { deletedSessions, deletedHighScores, deletedAuditRows };
}

/**
 * `VACUUM INTO` rather than better-sqlite3's async `db.backup()`: one synchronous statement
 * reading one consistent snapshot, so `handle()` stays synchronous and no other task can
 * interleave with a half-copied backup; the copy is also compacted. It blocks applies for its
 * duration (the worker has one thread), so the main thread should schedule it off-peak.
 */
export function backup(store: Store, dest: string): { totalPages: number } {
  const destPath = path.resolve(dest);
  if (destPath === store.dbPath || destPath.startsWith(`${store.dbPath}-`)) {
    throw new WorkerFailure('INTERNAL', `backup: destination ${destPath} is the database itself`);
  }
  if (fs.existsSync(destPath)) {
    throw new WorkerFailure('IO', `backup: destination ${destPath} already exists; not overwriting it`);
  }
  fs.mkdirSync(path.dirname(destPath), { recursive: true });
  store.st.vacuumInto.run(destPath);
  // VACUUM INTO does not fsync its output: make the backup durable before saying it exists.
  const fd = fs.openSync(destPath, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const totalPages = Math.ceil(fs.statSync(destPath).size / store.st.pageSize.get()!);
  return { totalPages };
}

/**
 * TRUNCATE checkpoint (the -wal file ends empty), close (the last connection to close removes
 * the -wal and -shm files), then release the ownership lock and remove its file. The
 * checkpointer's connection must be closed first (driver.ts).
 */
export function close(store: Store): void {
  try {
    // The next start may skip quick_check (open.ts): this run ends with a consistent file.
    store.st.setMeta.run(1, 'clean_close');
    store.st.checkpointTruncate.get();
  } finally {
    try {
      // Even when the checkpoint fails the file is closed; SQLite retries it on close.
      store.db.close();
    } finally {
      store.owner?.release(true);
    }
  }
}
