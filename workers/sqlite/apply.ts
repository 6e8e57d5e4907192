/**
 * Applies one batch: decode the msgpack bytes, then in ONE transaction either do nothing (the
 * seq was already applied: replay after a lost ack) or upsert every entry and record the seq.
 *
 * Never: apply part of a batch (the transaction is all or nothing, and last_seq moves with
 * it), apply a seq at or below last_seq, or keep anything from one batch to the next.
 */
import { performance } from 'node:perf_hooks';
import { decode, packr, type ApplyReply, type ApplyTask, type SessionRow, type WireBatch } from '../../src/model/protocol.js';
import { WorkerFailure } from './errors.js';
import type { Store } from './statements.js';

function badBatch(seq: number, why: string): WorkerFailure {
  return new WorkerFailure('BAD_BATCH', `apply seq ${seq}: ${why}`);
}

/** Cheap shape checks: a batch that would fail a NOT NULL constraint is a bug, not a disk error. */
function decodeBatch(task: ApplyTask): WireBatch {
  let batch: WireBatch;
  try {
    batch = decode<WireBatch>(task.bytes);
  } catch (err) {
    throw badBatch(task.seq, `bytes do not decode as msgpack (${(err as Error).message})`);
  }
  if (typeof batch !== 'object' || batch === null) throw badBatch(task.seq, 'not a batch object');
  if (batch.seq !== task.seq) throw badBatch(task.seq, `batch says seq ${String(batch.seq)}`);
  for (const key of ['sessions', 'highScores', 'notices', 'settings'] as const) {
    if (!Array.isArray(batch[key])) throw badBatch(task.seq, `${key} is not an array`);
  }
  for (const s of batch.sessions) {
    if (
      typeof s?.id !== 'string' ||
      (s.status !== 'active' && s.status !== 'ended') ||
      typeof s.startedAtMs !== 'number' ||
      typeof s.durationSeconds !== 'number' ||
      !(s.data instanceof Uint8Array) ||
      (s.level != null && !(s.level instanceof Uint8Array))
    ) {
      throw badBatch(task.seq, `malformed session row ${JSON.stringify(s?.id ?? null)}`);
    }
  }
  for (const h of batch.highScores) {
    if (!Number.isSafeInteger(h?.id) || typeof h.createdAtMs !== 'number') throw badBatch(task.seq, 'malformed high score');
  }
  for (const n of batch.notices) {
    if (typeof n?.id !== 'string' || typeof n.validFrom !== 'string' || typeof n.validTo !== 'string') {
      throw badBatch(task.seq, 'malformed notice');
    }
  }
  for (const s of batch.settings) {
    if (typeof s?.key !== 'string') throw badBatch(task.seq, 'malformed setting');
  }
  return batch;
}

/** A zero-copy Buffer view of bytes decoded from the batch (better-sqlite3 binds Buffers). */
function blob(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The session's bytes are bound as the main thread encoded them. The common case — an active
 * session that already has its row — updates `data` only, which touches no index (the indexes
 * cover status, ended_at and started_at); a new row or an ended session takes the full upsert.
 */
function writeSession(store: Store, s: SessionRow): number {
  const data = blob(s.data);
  const updated = s.level == null && s.status === 'active' && store.st.updateActiveSessionData.run(data, s.id).changes === 1;
  if (!updated) store.st.upsertSession.run(s.id, s.status, s.startedAtMs, s.endedAtMs ?? null, s.result ?? null, s.durationSeconds, data);
  if (s.level != null) store.st.insertLevel.run(s.id, blob(s.level));
  return 1;
}

function writeBatch(store: Store, batch: WireBatch): number {
  const { st } = store;
  let rows = 0;
  for (const entry of batch.sessions) rows += writeSession(store, entry);
  if (batch.stats != null) {
    st.upsertStats.run(packr.pack(batch.stats));
    rows++;
  }
  let maxHighScoreId = 0;
  for (const h of batch.highScores) {
    st.upsertHighScore.run(h.id, h.createdAtMs, packr.pack(h));
    if (h.id > maxHighScoreId) maxHighScoreId = h.id;
    rows++;
  }
  if (maxHighScoreId > 0) st.raiseMaxHighScoreId.run(maxHighScoreId);
  for (const n of batch.notices) {
    st.upsertNotice.run(n.id, n.validFrom, n.validTo, packr.pack(n));
    rows++;
  }
  for (const s of batch.settings) {
    st.upsertSetting.run(s.key, packr.pack(s));
    rows++;
  }
  st.setMeta.run(batch.seq, 'last_seq');
  return rows;
}

export function applyBatch(store: Store, task: ApplyTask): ApplyReply {
  if (!Number.isSafeInteger(task.seq) || task.seq < 1) throw badBatch(task.seq, 'seq must be a positive integer');
  const batch = decodeBatch(task);
  const started = performance.now();
  const rows = store.db
    .transaction((): number | null => {
      const lastSeq = store.st.getMeta.get('last_seq') ?? 0;
      if (task.seq <= lastSeq) return null;
      return writeBatch(store, batch);
    })
    .immediate();
  const commitMs = performance.now() - started;
  return { ok: true, kind: 'apply', seq: task.seq, applied: rows !== null, rows: rows ?? 0, commitMs };
}
