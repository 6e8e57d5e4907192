import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import type { ReloadSessionsReply, SessionRecord, WireBatch } from '../src/model/protocol.js';
import {
  applyTask,
  ARTIFACT_UPDATED_MS,
  batch,
  closeWorker,
  currentDb,
  endedSession,
  failed,
  highScore,
  level,
  notice,
  ok,
  openTask,
  readRows,
  session,
  sessionsOfPage,
  setting,
  stats,
  tempDbPath,
  removeTempDirs,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

async function reloadAll(limit = 1000): Promise<{ sessions: SessionRecord[]; pages: number }> {
  const sessions: SessionRecord[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page: ReloadSessionsReply = ok(await handle({ kind: 'reloadSessions', after, limit }), 'reloadSessions');
    const decoded = await sessionsOfPage(page.page);
    expect(decoded).toHaveLength(page.count);
    sessions.push(...decoded);
    after = page.nextAfter;
    pages++;
  } while (after !== null);
  return { sessions, pages };
}

describe('persistence worker: apply and reload', () => {
  it('writes sessions, artifacts, levels, stats, high scores, notices and settings, and reloads them', async () => {
    const dbPath = tempDbPath();
    const opened = ok(await handle(openTask(dbPath)), 'open');
    expect(opened).toMatchObject({ driver: 'sqlite', created: true, lastSeq: 0, quarantinedTo: null, migratedFrom: 0, sessionsToday: 0 });
    expect(opened.location).toContain('vibefixer.sqlite');

    const active = session('s-1', { score: 7 });
    const ended = endedSession('s-2', 1_700_000_100_000);
    const b = batch(1, {
      sessions: [{ session: active, level: level('one') }, { session: ended, level: level('two') }],
      stats: stats({ startedCount: 2, endedCount: 1, wonCount: 1, latestCompletedAtMs: 5, latestActivityAtMs: 6 }),
      highScores: [highScore(1, 1000), highScore(2, 3000), highScore(3, 2000)],
      notices: [notice('n-1')],
      settings: [setting('playerSpeedPercent', 120)],
    });
    const applied = ok(await handle(applyTask(b)), 'apply');
    // 2 headers + 4 artifacts + 2 levels (one row each) + 3 high scores + 1 notice + 1 setting + the counters.
    expect(applied).toMatchObject({ seq: 1, applied: true, rows: 2 + 4 + 2 + 3 + 1 + 1 + 1 });
    expect(applied.commitMs).toBeGreaterThanOrEqual(0);

    expect((await reloadAll()).sessions).toEqual([active]); // only active sessions are reloaded
    const rest = ok(await handle({ kind: 'reloadRest', highScoreLimit: 2, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest');
    expect(rest.stats).toEqual(b.stats);
    expect(rest.highScores).toEqual([highScore(2, 3000), highScore(3, 2000)]); // newest first, limited
    expect(rest.maxHighScoreId).toBe(3);
    expect(rest.notices).toEqual([notice('n-1')]);
    expect(rest.settings).toEqual([setting('playerSpeedPercent', 120)]);
    expect(ok(await handle({ kind: 'countStarted', fromMs: 0, toMs: 2e12 }), 'countStarted').count).toBe(2);

    // The ended session is stored too, header and artifacts, column by column.
    const [header] = await readRows(dbPath, "SELECT * FROM sessions WHERE id = 's-2'");
    expect(header).toEqual({
      id: 's-2', status: 'ended', seed: 'seed-s-2', started_at: ended.startedAtMs, duration_seconds: 120, player_speed_percent: 100,
      score: 0, remaining_artifact_count: 2, artifact_count: 2, ended_at: 1_700_000_100_000, end_reason: 'ended', result: 'won',
    });
    expect(await readRows(dbPath, "SELECT * FROM artifacts WHERE session_id = 's-2' ORDER BY idx")).toEqual(
      ended.artifacts.map((a, idx) => ({
        session_id: 's-2', idx, id: a.id, x: a.position.x, y: a.position.y, status: a.status, created_at: a.createdAtMs, updated_at: ARTIFACT_UPDATED_MS,
      })),
    );
  });

  it('survives a close and reopen with every row and the last seq', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(4, { sessions: [{ session: session('a') }], stats: stats({ startedCount: 1 }) }))), 'apply');
    await closeWorker();
    const reopened = ok(await handle(openTask(dbPath)), 'open');
    expect(reopened).toMatchObject({ created: false, lastSeq: 4, sessionsToday: 1, quarantinedTo: null });
    expect((await reloadAll()).sessions).toEqual([session('a')]);
    expect(ok(await handle({ kind: 'reloadRest', highScoreLimit: 1, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest').stats.startedCount).toBe(1);
  });

  it('writes a level once, as one row with its terrain as the JSON the create answer sends, and never overwrites it with a later level row', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s'), level: level('first') }] }))), 'apply');
    ok(await handle(applyTask(batch(2, { sessions: [{ session: session('s', { score: 5 }) }] }))), 'apply');
    const again = ok(await handle(applyTask(batch(3, { sessions: [{ session: session('s', { score: 6 }), level: level('other') }] }))), 'apply');
    expect(again.rows).toBe(1 + 2); // the header and its 2 artifacts; the second level writes nothing
    const first = level('first');
    expect(await readRows(dbPath, 'SELECT * FROM session_levels')).toEqual([
      {
        session_id: 's', trash_x: first.trashCan.position.x, trash_y: first.trashCan.position.y,
        trash_bounds_x: first.trashCan.bounds.x, trash_bounds_y: first.trashCan.bounds.y,
        trash_bounds_width: first.trashCan.bounds.width, trash_bounds_height: first.trashCan.bounds.height,
        terrain: JSON.stringify(first.terrain),
      },
    ]);
    // Byte for byte the answer's terrain: keys in answer order, segments in answer order.
    expect((await readRows<{ terrain: string }>(dbPath, 'SELECT terrain FROM session_levels'))[0].terrain).toBe(
      '[{"id":"seg-first","type":"ground","bounds":{"x":0,"y":500,"width":800,"height":100}},' +
        '{"id":"rock-first","type":"stone","bounds":{"x":120.5,"y":460,"width":40,"height":40}}]',
    );
    expect((await reloadAll()).sessions).toEqual([session('s', { score: 6 })]);
  });

  it('stores only a JSON array as a level terrain: the schema refuses any other text', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    const insert = currentDb().prepare('INSERT INTO session_levels VALUES (?, 1, 2, 3, 4, 5, 6, ?)');
    for (const bad of ['{}', 'not json', '"[]"', '']) {
      expect(() => insert.run(`bad ${bad}`, bad), bad).toThrow(/CHECK constraint failed/);
    }
    expect(insert.run('good', '[]').changes).toBe(1);
  });

  it('treats a re-applied seq as a no-op and leaves the data unchanged', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s', { score: 1 }) }], stats: stats({ startedCount: 1 }) }))), 'apply');
    ok(await handle(applyTask(batch(2, { sessions: [{ session: session('s', { score: 2 }) }], stats: stats({ endedCount: 1 }) }))), 'apply');

    const replay = ok(
      await handle(applyTask(batch(2, { sessions: [{ session: session('s', { score: 99 }) }], stats: stats({ endedCount: 1 }) }))),
      'apply',
    );
    expect(replay).toMatchObject({ seq: 2, applied: false, rows: 0 });
    const older = ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s', { score: 98 }) }], highScores: [highScore(1, 1)] }))), 'apply');
    expect(older.applied).toBe(false);
    expect((await reloadAll()).sessions).toEqual([session('s', { score: 2 })]);
    // A replayed delta is not added twice.
    const rest = ok(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest');
    expect(rest.stats).toMatchObject({ startedCount: 1, endedCount: 1 });
    expect(rest.highScores).toEqual([]);

    const next = ok(await handle(applyTask(batch(5, { sessions: [{ session: session('s', { score: 5 }) }] }))), 'apply');
    expect(next.applied).toBe(true);
    expect((await reloadAll()).sessions).toEqual([session('s', { score: 5 })]);
  });

  it('drops a session from the active reload once it has ended', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('a') }, { session: session('b') }] }))), 'apply');
    ok(await handle(applyTask(batch(2, { sessions: [{ session: endedSession('a', 5, { result: 'lost' }) }] }))), 'apply');
    expect((await reloadAll()).sessions.map((s) => s.id)).toEqual(['b']);
  });

  it('pages through every active session exactly once, by id, each session loading back to its record', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    const ids = Array.from({ length: 250 }, (_, i) => `session_${String(i).padStart(4, '0')}`);
    ok(await handle(applyTask(batch(1, { sessions: ids.map((id) => ({ session: session(id), level: level() })) }))), 'apply');
    const reloaded = await reloadAll(100);
    expect(reloaded.pages).toBe(3);
    expect(reloaded.sessions.map((s) => s.id)).toEqual(ids);
    expect(reloaded.sessions[17]).toEqual(session(ids[17]));
    // A page that ends exactly at the last row is followed by one empty page.
    expect((await reloadAll(125)).pages).toBe(3);
  });

  it('returns an empty page that decodes to [] when there are no active sessions', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    const page = ok(await handle({ kind: 'reloadSessions', after: null, limit: 10 }), 'reloadSessions');
    expect(await sessionsOfPage(page.page)).toEqual([]);
    expect(page.nextAfter).toBeNull();
  });

  it('rejects a batch that does not decode or is not shaped like one with BAD_BATCH, not retryable, and applies nothing', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    const garbage = failed(await handle({ kind: 'apply', seq: 1, bytes: new Uint8Array([0xc1, 0xff, 0x00]).buffer }));
    expect(garbage).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const mismatch = failed(await handle({ kind: 'apply', seq: 2, bytes: applyTask(batch(3)).bytes }));
    expect(mismatch).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const notAList = { ...batch(4), upserts: { sessions: 'nope' } } as unknown as WireBatch;
    expect(failed(await handle(applyTask(notAList)))).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const noUpserts = { seq: 5, deletes: {}, stats: null } as unknown as WireBatch;
    expect(failed(await handle(applyTask(noUpserts)))).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    expect(failed(await handle({ ...applyTask(batch(6)), seq: 0 }))).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    // A row that is not its table's tuple, or a list hidden behind a delete list of the same table name.
    const shortRow = batch(7, { sessions: [{ session: session('s') }] });
    shortRow.upserts.sessions![0].pop();
    expect(failed(await handle(applyTask(shortRow)))).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const hidden = { ...batch(8, { deleteHighScores: [1] }), upserts: { highScores: 'nope' } } as unknown as WireBatch;
    expect(failed(await handle(applyTask(hidden)))).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const unknownTable = { ...batch(9), upserts: { players: [[1]] } } as unknown as WireBatch;
    expect(failed(await handle(applyTask(unknownTable)))).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    expect(failed(await handle(applyTask({ ...batch(10), stats: 5 } as unknown as WireBatch)))).toMatchObject({ code: 'BAD_BATCH' });
    await closeWorker();
    expect(ok(await handle(openTask(dbPath)), 'open').lastSeq).toBe(0);
  });

  it('answers NOT_OPEN to a task sent before open (no workerData on this thread)', async () => {
    const reply = failed(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }));
    expect(reply).toMatchObject({ code: 'NOT_OPEN', retryable: false });
  });

  it('answers an unknown task kind with INTERNAL instead of throwing', async () => {
    const reply = failed(await handle({ kind: 'explode' } as never));
    expect(reply).toMatchObject({ code: 'INTERNAL', retryable: false });
  });

  it('answers an unknown storage driver with UNSUPPORTED and opens nothing', async () => {
    const reply = failed(await handle({ ...openTask(tempDbPath()), storage: { driver: 'mongo' } as never }));
    expect(reply).toMatchObject({ code: 'UNSUPPORTED', retryable: false });
    expect(failed(await handle({ kind: 'countStarted', fromMs: 0, toMs: 1 })).code).toBe('NOT_OPEN');
  });
});
