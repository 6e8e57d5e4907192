/**
 * Applies one WireBatch in ONE PostgreSQL transaction:
 *
 *   BEGIN ─► lock last_seq row ─► seq <= last_seq? ─yes─► COMMIT (nothing written), applied: false
 *                                        │ no
 *   upsert sessions, artifacts, levels (one row each), high scores, notices, settings,
 *   idempotency keys, admin sessions; insert audit rows
 *   ─► delete admin sessions, high scores (+max id), notices ─► add stats deltas ─► last_seq = seq ─► COMMIT (WAL flushed)
 *
 * Each table's rows are transposed into column arrays and written by one `unnest` statement,
 * whatever their number. The row lock on last_seq orders concurrent applies (a second pool
 * connection, or a second process on the same database) so a replay never slips through.
 *
 * Never: apply part of a batch (any failure rolls all of it back, last_seq included), apply a
 * seq at or below last_seq, or overwrite a counter (deltas are added, times only move forward).
 */
import type { UpsertTable, WireBatch } from '../../src/model/rows.js';
import type { ApplyResult } from '../../src/model/stored.js';
import { WorkerFailure } from './errors.js';
import { type Client, run } from './pool.js';
import { SQL, type Sql } from './statements.js';

function badBatch(seq: unknown, why: string): WorkerFailure {
  return new WorkerFailure('BAD_BATCH', `apply seq ${String(seq)}: ${why}`);
}

/** Cheap shape checks: a malformed batch is a bug (never retried), not a database error. */
export function checkBatch(batch: WireBatch): void {
  if (typeof batch !== 'object' || batch === null) throw badBatch('?', 'not a batch object');
  if (!Number.isSafeInteger(batch.seq) || batch.seq < 1) throw badBatch(batch.seq, 'seq must be a positive integer');
  if (typeof batch.upserts !== 'object' || batch.upserts === null) throw badBatch(batch.seq, 'upserts is not an object');
  if (typeof batch.deletes !== 'object' || batch.deletes === null) throw badBatch(batch.seq, 'deletes is not an object');
  for (const [table, rows] of [...Object.entries(batch.upserts), ...Object.entries(batch.deletes)]) {
    if (rows !== undefined && !Array.isArray(rows)) throw badBatch(batch.seq, `${table} is not an array`);
  }
  for (const table of Object.keys(batch.upserts)) {
    if (ROW_WIDTH[table as UpsertTable] === undefined) throw badBatch(batch.seq, `upserts.${table} is not a table`);
  }
}

/** Columns per row tuple (src/model/rows.ts), as workers/sqlite/apply.ts checks them. */
const ROW_WIDTH: Record<UpsertTable, number> = {
  sessions: 12, artifacts: 8, levels: 2, highScores: 5, notices: 7, settings: 3, idempotencyKeys: 7, adminSessions: 3, audit: 7,
};

/** Rows (tuples) → one array per column, in tuple order. */
function columns(rows: readonly (readonly unknown[])[], width: number): unknown[][] {
  const cols: unknown[][] = Array.from({ length: width }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) {
      throw new WorkerFailure('BAD_BATCH', `a row has ${Array.isArray(row) ? row.length : 'no'} columns, expected ${width}`);
    }
    for (let c = 0; c < width; c++) cols[c][r] = row[c];
  }
  return cols;
}

async function upsert(client: Client, sql: Sql, rows: readonly (readonly unknown[])[] | undefined, width: number): Promise<number> {
  if (rows === undefined || rows.length === 0) return 0;
  return (await run(client, sql, columns(rows, width))).rowCount ?? 0;
}

/** One row per level: the trash can as columns, the terrain as the JSON array the create answer sent. */
async function writeLevels(client: Client, levels: WireBatch['upserts']['levels']): Promise<number> {
  if (levels === undefined || levels.length === 0) return 0;
  const rows: unknown[][] = new Array(levels.length);
  for (let i = 0; i < levels.length; i++) {
    const [sessionId, level] = levels[i];
    const { position, bounds } = level.trashCan;
    rows[i] = [sessionId, position.x, position.y, bounds.x, bounds.y, bounds.width, bounds.height, JSON.stringify(level.terrain)];
  }
  return upsert(client, SQL.insertLevels, rows, 8);
}

async function writeBatch(client: Client, batch: WireBatch): Promise<number> {
  const { upserts, deletes, stats } = batch;
  let rows = 0;
  rows += await upsert(client, SQL.upsertSessions, upserts.sessions, ROW_WIDTH.sessions);
  rows += await upsert(client, SQL.upsertArtifacts, upserts.artifacts, ROW_WIDTH.artifacts);
  rows += await writeLevels(client, upserts.levels);
  let maxHighScoreId = 0;
  for (const h of upserts.highScores ?? []) if (h[0] > maxHighScoreId) maxHighScoreId = h[0];
  rows += await upsert(client, SQL.upsertHighScores, upserts.highScores, ROW_WIDTH.highScores);
  rows += await upsert(client, SQL.upsertNotices, upserts.notices, ROW_WIDTH.notices);
  rows += await upsert(client, SQL.upsertSettings, upserts.settings, ROW_WIDTH.settings);
  rows += await upsert(client, SQL.upsertIdempotencyKeys, upserts.idempotencyKeys, ROW_WIDTH.idempotencyKeys);
  rows += await upsert(client, SQL.upsertAdminSessions, upserts.adminSessions, ROW_WIDTH.adminSessions);
  rows += await upsert(client, SQL.insertAudit, upserts.audit, ROW_WIDTH.audit);
  if (deletes.adminSessions !== undefined && deletes.adminSessions.length > 0) {
    rows += (await run(client, SQL.deleteAdminSessions, [deletes.adminSessions])).rowCount ?? 0;
  }
  if (deletes.highScores !== undefined && deletes.highScores.length > 0) {
    rows += (await run(client, SQL.deleteHighScores, [deletes.highScores])).rowCount ?? 0;
    // A delete may have replaced the pending upsert of a score created in the same batch: its id
    // was handed out all the same and must never be handed out again.
    for (const id of deletes.highScores) if (Number.isSafeInteger(id) && id > maxHighScoreId) maxHighScoreId = id;
  }
  if (maxHighScoreId > 0) await run(client, SQL.raiseMaxHighScoreId, [maxHighScoreId]);
  if (deletes.notices !== undefined && deletes.notices.length > 0) {
    rows += (await run(client, SQL.deleteNotices, [deletes.notices])).rowCount ?? 0;
  }
  if (stats !== null && stats !== undefined) {
    await run(client, SQL.addStats, [
      stats.startedCount,
      stats.endedCount,
      stats.staleEndedCount,
      stats.wonCount,
      stats.lostCount,
      stats.abandonedCount,
      stats.latestCompletedAtMs,
      stats.latestActivityAtMs,
    ]);
    rows++;
  }
  await run(client, SQL.setLastSeq, [batch.seq]);
  return rows;
}

/** The body of the apply transaction (the caller opens and commits it). */
export async function applyInTransaction(client: Client, batch: WireBatch): Promise<ApplyResult> {
  const found = await run<[number]>(client, SQL.lockLastSeq);
  const lastSeq = found.rows[0]?.[0] ?? 0;
  if (batch.seq <= lastSeq) return { applied: false, rows: 0 };
  return { applied: true, rows: await writeBatch(client, batch) };
}
