import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { type ColdSessionRow, decode } from '../src/model/protocol.js';
import { sessionOfRows } from '../src/model/rows.js';
import {
  applyTask,
  batch,
  closeWorker,
  endedSession,
  failed,
  highScore,
  notice,
  ok,
  openTask,
  session,
  setting,
  stats,
  tempDbPath,
  removeTempDirs,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

describe('persistence worker: reload', () => {
  it('lists active sessions as cold rows (id, start, duration) from the index, without their artifacts', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    const sessions = [session('b', { startedAtMs: 20, durationSeconds: 60 }), session('a', { startedAtMs: 10, durationSeconds: 600.5 })];
    ok(await handle(applyTask(batch(1, { sessions: [...sessions, endedSession('c', 30)].map((s) => ({ session: s })) }))), 'apply');
    const page = ok(await handle({ kind: 'reloadSessions', after: null, limit: 10 }), 'reloadSessions');
    expect(decode<ColdSessionRow[]>(page.page)).toEqual([['a', 10, 600.5], ['b', 20, 60]]);
    expect(page).toMatchObject({ count: 2, nextAfter: null });
  });

  it('loads the stored rows of active sessions on first use: found, and missing (unknown or ended)', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: ['a', 'b', 'c'].map((id) => ({ session: session(id, { score: 7 }) })) }))), 'apply');
    ok(await handle(applyTask(batch(2, { sessions: [{ session: endedSession('c', 5) }] }))), 'apply');
    await closeWorker();

    ok(await handle(openTask(dbPath)), 'open');
    const loaded = ok(await handle({ kind: 'loadSessions', ids: ['a', 'b', 'c', 'nope'] }), 'loadSessions');
    expect(loaded.sessions.map(([header, artifacts]) => sessionOfRows(header, artifacts))).toEqual([
      session('a', { score: 7 }),
      session('b', { score: 7 }),
    ]);
    // Artifact rows come back in spawn order (idx), each with its session id.
    expect(loaded.sessions[0][1].map((row) => [row[0], row[1]])).toEqual([['a', 0], ['a', 1]]);
    expect(loaded.missingIds).toEqual(['c', 'nope']);
  });

  it('returns the counters, the newest high scores, notices and settings in one reply (zeros on a new database)', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    expect(ok(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100 }), 'reloadRest')).toMatchObject({
      stats: stats(), highScores: [], maxHighScoreId: 0, notices: [], settings: [],
    });
    ok(
      await handle(
        applyTask(
          batch(1, {
            stats: stats({ startedCount: 3 }),
            highScores: [highScore(1, 10), highScore(2, 20), highScore(3, 20)],
            notices: [notice('n2'), notice('n1')],
            settings: [setting('b', 2), setting('a', 1)],
          }),
        ),
      ),
      'apply',
    );
    await closeWorker();
    ok(await handle(openTask(dbPath)), 'open');
    const rest = ok(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100 }), 'reloadRest');
    expect(rest).toMatchObject({
      stats: stats({ startedCount: 3 }),
      highScores: [highScore(3, 20), highScore(2, 20), highScore(1, 10)], // created_at DESC, id DESC
      maxHighScoreId: 3,
      notices: [notice('n1'), notice('n2')],
      settings: [setting('a', 1), setting('b', 2)],
    });
    expect(ok(await handle({ kind: 'reloadRest', highScoreLimit: 0, idempotencySinceMs: 0, idempotencyLimit: 100 }), 'reloadRest').highScores).toEqual([]);
    expect(failed(await handle({ kind: 'reloadRest', highScoreLimit: -1 }))).toMatchObject({ code: 'INTERNAL' });
  });

  it('counts sessions started in a half-open window [fromMs, toMs)', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    const sessions = [100, 200, 300].map((startedAtMs, i) => ({ session: session(`s${i}`, { startedAtMs }) }));
    ok(await handle(applyTask(batch(1, { sessions }))), 'apply');
    expect(ok(await handle({ kind: 'countStarted', fromMs: 100, toMs: 300 }), 'countStarted').count).toBe(2);
    expect(ok(await handle({ kind: 'countStarted', fromMs: 301, toMs: 400 }), 'countStarted').count).toBe(0);
  });
});
