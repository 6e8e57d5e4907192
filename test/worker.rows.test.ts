/**
 * What each table's typed rows do when a batch applies them (workers/sqlite/apply.ts): upserts
 * keyed per table, deletes, counter deltas that add up, and CHECK constraints that make a batch
 * with a bad row fail as a whole.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import type { ArtifactRow, HighScoreRow, WireBatch } from '../src/model/protocol.js';
import {
  applyTask,
  batch,
  closeWorker,
  failed,
  highScore,
  loadRecords,
  notice,
  ok,
  openTask,
  readRows,
  session,
  setting,
  stats,
  tempDbPath,
  removeTempDirs,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

async function rest() {
  return ok(await handle({ kind: 'reloadRest', highScoreLimit: 100, idempotencySinceMs: 0, idempotencyLimit: 100 }), 'reloadRest');
}

describe('persistence worker: typed rows per table', () => {
  it('keeps id, seed and started_at of a session header and takes every other column from the latest row', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s') }] }))), 'apply');
    const later = session('s', { seed: 'other', startedAtMs: 5, durationSeconds: 90, playerSpeedPercent: 125, score: 3, remainingArtifactCount: 1 });
    ok(await handle(applyTask(batch(2, { sessions: [{ session: later }] }))), 'apply');
    expect(await loadRecords(['s'])).toEqual([{ ...later, seed: 'seed-s', startedAtMs: session('s').startedAtMs }]);
    expect(await readRows(dbPath, 'SELECT count(*) AS n FROM sessions')).toEqual([{ n: 1 }]);
  });

  it('upserts artifacts per (session, idx): the last row wins, created_at is the first one, new indexes are added', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('a') }] }))), 'apply');
    const created = session('a').artifacts.map((a) => a.createdAtMs);
    const rows: ArtifactRow[] = [
      ['a', 0, 'artifact_0', 11, 21, 'inAir', 9, 2000],
      ['a', 1, 'artifact_1', 99, 98, 'carried', 9, 2001],
      ['a', 0, 'artifact_0', 12, 22, 'deposited', 9, 2002], // a later change to the same key in one batch
      ['a', 2, 'artifact_2', 1, 2, 'flying', 1_700_000_003_000, 2003],
    ];
    const b: WireBatch = { seq: 2, upserts: { artifacts: rows }, deletes: {}, stats: null };
    ok(await handle(applyTask(b)), 'apply');
    expect(await readRows(dbPath, 'SELECT idx, id, x, y, status, created_at, updated_at FROM artifacts ORDER BY idx')).toEqual([
      { idx: 0, id: 'artifact_0', x: 12, y: 22, status: 'deposited', created_at: created[0], updated_at: 2002 },
      { idx: 1, id: 'artifact_1', x: 99, y: 98, status: 'carried', created_at: created[1], updated_at: 2001 },
      { idx: 2, id: 'artifact_2', x: 1, y: 2, status: 'flying', created_at: 1_700_000_003_000, updated_at: 2003 },
    ]);
    const [loaded] = await loadRecords(['a']);
    expect(loaded.artifacts.map((a) => a.status)).toEqual(['deposited', 'carried', 'flying']);
    expect(loaded.groundCount).toBe(0);
  });

  it('upserts and deletes high scores, and keeps the highest id ever written', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask(batch(1, { highScores: [highScore(1, 10), highScore(2, 20), highScore(3, 30)] }))), 'apply');
    const renamed = { ...highScore(1, 10), playerTag: 'renamed', result: 'lost' as const, remainingUnchecked: 4 };
    ok(await handle(applyTask(batch(2, { highScores: [renamed], deleteHighScores: [3, 99] }))), 'apply');
    expect(await rest()).toMatchObject({ highScores: [highScore(2, 20), renamed], maxHighScoreId: 3 });
  });

  it('upserts and deletes notices, and upserts settings by key', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask(batch(1, { notices: [notice('n1'), notice('n2')], settings: [setting('a', 1), setting('b', 2)] }))), 'apply');
    const changed = { ...notice('n1'), title: 'New title', message: 'New message', validTo: '2027-01-01T00:00:00.000Z' };
    const b = batch(2, { notices: [changed], deleteNotices: ['n2'], settings: [{ key: 'a', value: 1.5, updatedAtMs: 7 }] });
    ok(await handle(applyTask(b)), 'apply');
    expect(await rest()).toMatchObject({
      notices: [changed],
      settings: [{ key: 'a', value: 1.5, updatedAtMs: 7 }, setting('b', 2)],
    });
  });

  it('adds counter deltas across batches, and moves the latest times only forward', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    expect((await rest()).stats).toEqual(stats());
    ok(await handle(applyTask(batch(1, { stats: stats({ startedCount: 3, endedCount: 1, wonCount: 1, latestCompletedAtMs: 100, latestActivityAtMs: 200 }) }))), 'apply');
    ok(await handle(applyTask(batch(2, { stats: stats({ startedCount: 2, endedCount: 2, staleEndedCount: 1, lostCount: 1, abandonedCount: 1, latestCompletedAtMs: 50 }) }))), 'apply');
    ok(await handle(applyTask(batch(3, { stats: null }))), 'apply');
    expect((await rest()).stats).toEqual({
      startedCount: 5, endedCount: 3, staleEndedCount: 1, wonCount: 1, lostCount: 1, abandonedCount: 1,
      latestCompletedAtMs: 100, latestActivityAtMs: 200,
    });
    ok(await handle(applyTask(batch(4, { stats: stats({ latestCompletedAtMs: 300, latestActivityAtMs: 400 }) }))), 'apply');
    expect((await rest()).stats).toMatchObject({ startedCount: 5, latestCompletedAtMs: 300, latestActivityAtMs: 400 });
  });
});

describe('persistence worker: CHECK constraints', () => {
  it('fails a batch with a row breaking a CHECK as a whole (nothing applied, last seq unchanged); the next good batch applies', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('before') }] }))), 'apply');

    const bad = batch(2, { sessions: [{ session: session('x') }], highScores: [highScore(1, 1)], stats: stats({ startedCount: 1 }) });
    bad.upserts.artifacts![1][5] = 'bogus' as ArtifactRow[5];
    const reply = failed(await handle(applyTask(bad)));
    expect(reply).toMatchObject({ code: 'SQLITE', retryable: false });
    expect(reply.message).toMatch(/apply seq 2: SQLITE_CONSTRAINT_CHECK/);

    const badScore = batch(2, { highScores: [highScore(1, 1)] });
    badScore.upserts.highScores![0][3] = 'draw' as HighScoreRow[3];
    expect(failed(await handle(applyTask(badScore)))).toMatchObject({ code: 'SQLITE', retryable: false });
    const badHeader = batch(2, { sessions: [{ session: session('y', { endedAtMs: 5 }) }] }); // active with an end time
    expect(failed(await handle(applyTask(badHeader)))).toMatchObject({ code: 'SQLITE', retryable: false });

    expect(await loadRecords(['before', 'x', 'y']).then((s) => s.map((r) => r.id))).toEqual(['before']);
    expect(await rest()).toMatchObject({ highScores: [], stats: stats() });
    await closeWorker();
    expect(ok(await handle(openTask(dbPath)), 'open').lastSeq).toBe(1);

    const good = batch(2, { sessions: [{ session: session('x') }], highScores: [highScore(1, 1)], stats: stats({ startedCount: 1 }) });
    expect(ok(await handle(applyTask(good)), 'apply')).toMatchObject({ seq: 2, applied: true });
    expect((await loadRecords(['x'])).map((r) => r.id)).toEqual(['x']);
    expect(await rest()).toMatchObject({ highScores: [highScore(1, 1)], stats: stats({ startedCount: 1 }) });
  });
});
