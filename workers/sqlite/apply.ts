/**
 * Applies one batch in ONE transaction: either nothing (the seq was already applied: a replay
 * after a lost acknowledgement) or every row of it and the new last seq together.
 *
 * Each row is bound as it came (a tuple in column order, src/model/rows.ts) to a statement
 * prepared once; SQLite runs a prepared statement per row in a transaction as fast as one
 * multi-row statement, without building SQL per batch.
 *
 * Never: apply part of a batch, apply a seq at or below last_seq, or keep anything from one
 * batch to the next.
 */
import type { LevelRow, UpsertTable, WireBatch } from '../../src/model/rows.js';
import type { ApplyResult } from '../../src/model/stored.js';
import { WorkerFailure } from '../failure.js';
import type { Store } from './statements.js';

function badBatch(seq: unknown, why: string): WorkerFailure {
  return new WorkerFailure('BAD_BATCH', `apply seq ${String(seq)}: ${why}`);
}

/** Cheap shape checks: a batch that is not even shaped like one is a bug, not a disk error. */
export function checkBatch(batch: WireBatch, seq: number): void {
  if (typeof batch !== 'object' || batch === null) throw badBatch(seq, 'not a batch object');
  if (batch.seq !== seq) throw badBatch(seq, `batch says seq ${String(batch.seq)}`);
  if (typeof batch.upserts !== 'object' || batch.upserts === null) throw badBatch(seq, 'upserts is not an object');
  if (typeof batch.deletes !== 'object' || batch.deletes === null) throw badBatch(seq, 'deletes is not an object');
  // Upserts and deletes name the same tables: checked apart, so one cannot hide the other.
  for (const [table, rows] of Object.entries(batch.upserts)) {
    if (!Array.isArray(rows)) throw badBatch(seq, `upserts.${table} is not a list`);
    const width = ROW_WIDTH[table as UpsertTable];
    if (width === undefined) throw badBatch(seq, `upserts.${table} is not a table`);
    // O(rows), no column checks: the column types and CHECK constraints are the database's job.
    for (const row of rows as unknown[]) {
      if (!Array.isArray(row) || row.length !== width) throw badBatch(seq, `a row of upserts.${table} is not a ${width}-column tuple`);
    }
  }
  for (const [table, keys] of Object.entries(batch.deletes)) {
    if (!Array.isArray(keys)) throw badBatch(seq, `deletes.${table} is not a list`);
  }
  if (batch.stats != null && (typeof batch.stats !== 'object' || Array.isArray(batch.stats))) throw badBatch(seq, 'stats is not an object or null');
}

/** Columns per row tuple (src/model/rows.ts). */
const ROW_WIDTH: Record<UpsertTable, number> = { sessions: 12, artifacts: 8, levels: 2, highScores: 5, notices: 7, settings: 3, idempotencyKeys: 7, adminSessions: 3, audit: 7 };

function writeLevel(store: Store, [sessionId, level]: LevelRow): number {
  const { position, bounds } = level.trashCan;
  // One row, the terrain as the JSON array the create answer sent (JSON.stringify keeps the
  // record's key order). Written once: a later level row for the same session changes nothing.
  return store.st.insertLevel.run(
    sessionId, position.x, position.y, bounds.x, bounds.y, bounds.width, bounds.height, JSON.stringify(level.terrain),
  ).changes;
}

function writeBatch(store: Store, batch: WireBatch): number {
  const { st } = store;
  const { upserts, deletes } = batch;
  let rows = 0;
  for (const row of upserts.sessions ?? []) rows += st.upsertSession.run(...row).changes;
  for (const row of upserts.artifacts ?? []) rows += st.upsertArtifact.run(...row).changes;
  for (const row of upserts.levels ?? []) rows += writeLevel(store, row);
  let maxHighScoreId = 0;
  for (const row of upserts.highScores ?? []) {
    rows += st.upsertHighScore.run(...row).changes;
    if (row[0] > maxHighScoreId) maxHighScoreId = row[0];
  }
  for (const row of upserts.notices ?? []) rows += st.upsertNotice.run(...row).changes;
  for (const row of upserts.settings ?? []) rows += st.upsertSetting.run(...row).changes;
  for (const row of upserts.idempotencyKeys ?? []) rows += st.upsertIdempotencyKey.run(...row).changes;
  for (const row of upserts.adminSessions ?? []) rows += st.upsertAdminSession.run(...row).changes;
  for (const row of upserts.audit ?? []) rows += st.upsertAudit.run(...row).changes;
  for (const hash of deletes.adminSessions ?? []) rows += st.deleteAdminSession.run(hash).changes;
  for (const id of deletes.highScores ?? []) {
    rows += st.deleteHighScore.run(id).changes;
    // A delete may have replaced the pending upsert of a score created in the same batch: its id
    // was handed out all the same and must never be handed out again.
    if (Number.isSafeInteger(id) && id > maxHighScoreId) maxHighScoreId = id;
  }
  if (maxHighScoreId > 0) st.raiseMaxHighScoreId.run(maxHighScoreId);
  for (const id of deletes.notices ?? []) rows += st.deleteNotice.run(id).changes;
  if (batch.stats != null) rows += st.addCounts.run(batch.stats).changes;
  st.setMeta.run(batch.seq, 'last_seq');
  return rows;
}

export function applyBatch(store: Store, batch: WireBatch): ApplyResult {
  const rows = store.db
    .transaction((): number | null => {
      const lastSeq = store.st.getMeta.get('last_seq') ?? 0;
      if (batch.seq <= lastSeq) return null;
      return writeBatch(store, batch);
    })
    .immediate();
  return { applied: rows !== null, rows: rows ?? 0 };
}
