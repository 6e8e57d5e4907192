/**
 * The one-shot copy of a whole database into an EMPTY one of the same schema, whatever the two
 * drivers (SQLite file → PostgreSQL, and back):
 *
 *   check: same schema version, target empty
 *   batch 1: notices, settings, stats (the source's counters, added to the target's zeros)
 *   batches: sessions page by page (header, artifacts, level), then high scores, idempotency
 *            keys, admin sessions and audit rows in chunks
 *   meta: last_seq and max_high_score_id as in the source
 *   verify: row counts of every table; stats, notices (with their times), settings, admin
 *           sessions, audit rows and last_seq equal on both sides
 *
 * Writes go through the target's ordinary `apply` (one transaction per batch, seqs 1..N);
 * `importMeta` then sets last_seq to the source's, so a server started on the copy numbers its
 * batches on from where the source stopped.
 *
 * Never: write into a database that is not empty, run beside a server on either database, or
 * call a copy good without the verification.
 */
import { highScoreRow, noticeRow, settingRow } from '../../src/model/convert.js';
import type { WireBatch } from '../../src/model/rows.js';
import type { RestQuery } from '../../src/model/stored.js';
import { WorkerFailure } from '../failure.js';
import type { CopyEndpoint, TableCounts } from './endpoint.js';

export const COPY_SESSIONS_PER_BATCH = 500;
export const COPY_HIGH_SCORES_PER_BATCH = 5_000;

/** The rest without limits: every high score, idempotency key, admin session (expired or not) and audit row. */
const EVERYTHING: RestQuery = {
  highScoreLimit: Number.MAX_SAFE_INTEGER,
  idempotencySinceMs: Number.MIN_SAFE_INTEGER,
  idempotencyLimit: Number.MAX_SAFE_INTEGER,
  nowMs: Number.MIN_SAFE_INTEGER,
  auditLimit: Number.MAX_SAFE_INTEGER,
};

export interface CopyProgress {
  phase: 'start' | 'sessions' | 'highScores' | 'verify' | 'done';
  sessions: number;
  highScores: number;
  batches: number;
}

export interface CopyReport {
  batches: number;
  sessions: number;
  highScores: number;
  lastSeq: number;
  counts: TableCounts;
}

export interface CopyOptions {
  sessionsPerBatch?: number;
  onProgress?: (p: CopyProgress) => void;
}

/** JSON with object keys sorted: two drivers may build the same record in another key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function fail(why: string): WorkerFailure {
  return new WorkerFailure('INTERNAL', `copy: ${why}`);
}

export async function copyDatabase(source: CopyEndpoint, target: CopyEndpoint, options: CopyOptions = {}): Promise<CopyReport> {
  const perBatch = options.sessionsPerBatch ?? COPY_SESSIONS_PER_BATCH;
  const progress: CopyProgress = { phase: 'start', sessions: 0, highScores: 0, batches: 0 };
  const tell = (phase: CopyProgress['phase']) => options.onProgress?.({ ...progress, phase });

  if (source.schemaVersion !== target.schemaVersion) {
    throw fail(`schema versions differ (source ${source.schemaVersion}, target ${target.schemaVersion}); migrate both to the same release first`);
  }
  if (!(await target.isEmpty())) throw fail(`the target (${target.driver.location}) is not empty; copy only into an empty database`);
  tell('start');

  const lastSeq = await source.driver.lastSeq();
  const rest = await source.driver.rest(EVERYTHING);
  let seq = 0;
  const apply = async (parts: Omit<WireBatch, 'seq'>) => {
    const result = await target.driver.apply({ seq: ++seq, ...parts });
    if (!result.applied) throw fail(`the target refused batch ${seq} as already applied; is a server running on it?`);
    progress.batches++;
  };

  await apply({
    upserts: { notices: rest.notices.map(noticeRow), settings: rest.settings.map(settingRow) },
    deletes: {},
    stats: rest.stats,
  });

  tell('sessions');
  let after: string | null = null;
  for (;;) {
    const page = await source.exportSessionsPage(after, perBatch);
    if (page.length === 0) break;
    await apply({
      upserts: {
        sessions: page.map(([h]) => h),
        artifacts: page.flatMap(([, a]) => a),
        levels: page.flatMap(([, , l]) => (l === null ? [] : [l])),
      },
      deletes: {},
      stats: null,
    });
    progress.sessions += page.length;
    tell('sessions');
    after = page[page.length - 1][0][0];
    if (page.length < perBatch) break;
  }

  tell('highScores');
  const highScores = rest.highScores.map(highScoreRow);
  for (let i = 0; i < highScores.length; i += COPY_HIGH_SCORES_PER_BATCH) {
    const chunk = highScores.slice(i, i + COPY_HIGH_SCORES_PER_BATCH);
    await apply({ upserts: { highScores: chunk }, deletes: {}, stats: null });
    progress.highScores += chunk.length;
    tell('highScores');
  }
  for (let i = 0; i < rest.idempotencyKeys.length; i += COPY_HIGH_SCORES_PER_BATCH) {
    await apply({ upserts: { idempotencyKeys: rest.idempotencyKeys.slice(i, i + COPY_HIGH_SCORES_PER_BATCH) }, deletes: {}, stats: null });
  }
  for (let i = 0; i < rest.adminSessions.length; i += COPY_HIGH_SCORES_PER_BATCH) {
    await apply({ upserts: { adminSessions: rest.adminSessions.slice(i, i + COPY_HIGH_SCORES_PER_BATCH) }, deletes: {}, stats: null });
  }
  for (let i = 0; i < rest.audit.length; i += COPY_HIGH_SCORES_PER_BATCH) {
    await apply({ upserts: { audit: rest.audit.slice(i, i + COPY_HIGH_SCORES_PER_BATCH) }, deletes: {}, stats: null });
  }
  await target.importMeta(lastSeq, rest.maxHighScoreId);

  tell('verify');
  const [from, to] = await Promise.all([source.counts(), target.counts()]);
  const differ = (Object.keys(from) as (keyof TableCounts)[]).filter((t) => from[t] !== to[t]);
  if (differ.length > 0) {
    throw fail(`verification failed: ${differ.map((t) => `${t} ${from[t]} in the source, ${to[t]} in the target`).join('; ')}`);
  }
  // Everything but the high scores and idempotency keys (counted above) compared row for row.
  const small: RestQuery = { ...EVERYTHING, highScoreLimit: 0, idempotencyLimit: 0 };
  const [fromRest, toRest] = await Promise.all([source.driver.rest(small), target.driver.rest(small)]);
  // Admin sessions come back in no promised order: compare them sorted by token hash.
  for (const r of [fromRest, toRest]) r.adminSessions.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (canonical(fromRest) !== canonical(toRest)) {
    throw fail('verification failed: stats, notices, settings, admin sessions, audit rows or max high score id differ');
  }
  const toLastSeq = await target.driver.lastSeq();
  if (toLastSeq !== lastSeq) throw fail(`verification failed: last_seq ${lastSeq} in the source, ${toLastSeq} in the target`);
  tell('done');
  return { batches: progress.batches, sessions: progress.sessions, highScores: progress.highScores, lastSeq, counts: to };
}
