/**
 * Applies one WireBatch as ONE PostgreSQL statement, so one round trip (batch-sql.ts builds it):
 *
 *   last_seq = seq WHERE last_seq < seq ─none─► nothing written, applied: false
 *     │ moved
 *   upsert sessions, artifacts, levels (one row each), high scores, notices, settings,
 *   idempotency keys, admin sessions; insert audit rows; delete admin sessions, high scores
 *   (+max id), notices; add stats deltas ─► commit (WAL flushed) when the statement ends
 *
 * Only the non-empty parts are in the statement. Each table's rows are transposed into column
 * arrays and written by one `unnest` sub-statement, whatever their number. A statement outside
 * BEGIN is its own transaction: any error rolls all of it back, last_seq included.
 *
 * All sub-statements see one snapshot, so the order in which they run cannot matter: a key the
 * batch both upserts and deletes (the queue never sends that; a later change wins when a batch is
 * gathered) keeps only its delete here, which leaves what "upsert, then delete" would leave.
 * Applies run one at a time (the persistence worker runs one task at a time, in seq order).
 *
 * Never: apply part of a batch, apply a seq at or below last_seq, or overwrite a counter (deltas
 * are added, times only move forward).
 */
import type { DeleteTable, UpsertTable, WireBatch } from '../../src/model/rows.js';
import type { ApplyResult } from '../../src/model/stored.js';
import { applyStatement, PART_ORDER, type PartName } from './batch-sql.js';
import { WorkerFailure } from './errors.js';
import { type Client, run } from './pool.js';

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

type Rows = readonly (readonly unknown[])[];

/** One row per level: the trash can as columns, the terrain as the JSON array the create answer sent. */
function levelRows(levels: NonNullable<WireBatch['upserts']['levels']>): unknown[][] {
  return levels.map(([sessionId, level]) => {
    const { position, bounds } = level.trashCan;
    return [sessionId, position.x, position.y, bounds.x, bounds.y, bounds.width, bounds.height, JSON.stringify(level.terrain)];
  });
}

/** The batch's upserts of `table` without the keys its deletes name (the key is each tuple's first column). */
function withoutDeleted(batch: WireBatch, table: UpsertTable & DeleteTable): Rows | undefined {
  const rows = batch.upserts[table] as Rows | undefined;
  const deleted = batch.deletes[table] as readonly unknown[] | undefined;
  if (rows === undefined || deleted === undefined || deleted.length === 0) return rows;
  const gone = new Set(deleted);
  return rows.filter((row) => !gone.has(Array.isArray(row) ? row[0] : undefined));
}

/** The largest high-score id the batch names (stored or deleted): every one was handed out. */
function maxHighScoreId(batch: WireBatch): number {
  let max = 0;
  for (const h of batch.upserts.highScores ?? []) if (Array.isArray(h) && h[0] > max) max = h[0];
  // A delete may have replaced the pending upsert of a score created in the same batch: its id
  // was handed out all the same and must never be handed out again.
  for (const id of batch.deletes.highScores ?? []) if (Number.isSafeInteger(id) && id > max) max = id;
  return max;
}

/** The parameters of each present part, in PART_ORDER; absent (empty) parts are left out. */
function partValues(batch: WireBatch): Partial<Record<PartName, unknown[]>> {
  const { upserts, deletes, stats } = batch;
  const out: Partial<Record<PartName, unknown[]>> = {};
  const table = (name: UpsertTable, rows: Rows | undefined) => {
    if (rows !== undefined && rows.length > 0) out[name] = columns(rows, ROW_WIDTH[name]);
  };
  table('sessions', upserts.sessions);
  table('artifacts', upserts.artifacts);
  if (upserts.levels !== undefined && upserts.levels.length > 0) out.levels = columns(levelRows(upserts.levels), 8);
  table('highScores', withoutDeleted(batch, 'highScores'));
  table('notices', withoutDeleted(batch, 'notices'));
  table('settings', upserts.settings);
  table('idempotencyKeys', upserts.idempotencyKeys);
  table('adminSessions', withoutDeleted(batch, 'adminSessions'));
  table('audit', upserts.audit);
  if (deletes.adminSessions !== undefined && deletes.adminSessions.length > 0) out.deleteAdminSessions = [deletes.adminSessions];
  if (deletes.highScores !== undefined && deletes.highScores.length > 0) out.deleteHighScores = [deletes.highScores];
  const maxId = maxHighScoreId(batch);
  if (maxId > 0) out.raiseMaxHighScoreId = [maxId];
  if (deletes.notices !== undefined && deletes.notices.length > 0) out.deleteNotices = [deletes.notices];
  if (stats !== null && stats !== undefined) {
    out.addStats = [
      stats.startedCount,
      stats.endedCount,
      stats.staleEndedCount,
      stats.wonCount,
      stats.lostCount,
      stats.abandonedCount,
      stats.latestCompletedAtMs,
      stats.latestActivityAtMs,
    ];
  }
  return out;
}

/** Applies the batch with one statement on `client` (autocommit: the statement is the transaction). */
export async function applyBatch(client: Client, batch: WireBatch): Promise<ApplyResult> {
  const parts = partValues(batch);
  const values: unknown[] = [batch.seq];
  let mask = 0;
  PART_ORDER.forEach((name, bit) => {
    const v = parts[name];
    if (v === undefined) return;
    mask |= 1 << bit;
    values.push(...v);
  });
  const [applied, rows] = (await run<[number, number]>(client, applyStatement(mask), values)).rows[0];
  return applied === 1 ? { applied: true, rows } : { applied: false, rows: 0 };
}
