import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { decode, type LevelRecord, type ReloadSessionsReply, type SessionRecord } from '../src/model/protocol.js';
import {
  applyTask,
  batch,
  closeWorker,
  failed,
  highScore,
  level,
  notice,
  ok,
  openTask,
  session,
  setting,
  stats,
  tempDbPath,
  removeTempDirs,
  sessionsOfPage,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

function reloadAll(limit = 1000): { sessions: SessionRecord[]; pages: number } {
  const sessions: SessionRecord[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const page: ReloadSessionsReply = ok(handle({ kind: 'reloadSessions', after, limit }), 'reloadSessions');
    const decoded = sessionsOfPage(page.page);
    expect(decoded).toHaveLength(page.count);
    sessions.push(...decoded);
    after = page.nextAfter;
    pages++;
  } while (after !== null);
  return { sessions, pages };
}

function levelOf(dbPath: string, id: string): LevelRecord | undefined {
  closeWorker();
  const db = new Database(dbPath, { readonly: true });
  const blob = db.prepare('SELECT data FROM session_levels WHERE id = ?').pluck().get(id) as Buffer | undefined;
  db.close();
  ok(handle(openTask(dbPath)), 'open');
  return blob === undefined ? undefined : decode<LevelRecord>(blob);
}

describe('persistence worker: apply and reload', () => {
  it('writes sessions, stats, high scores, notices and settings, and reloads them', () => {
    const dbPath = tempDbPath();
    const opened = ok(handle(openTask(dbPath)), 'open');
    expect(opened).toMatchObject({ created: true, lastSeq: 0, quarantinedTo: null, migratedFrom: 0, sessionsToday: 0 });

    const active = session('s-1', { score: 7 });
    const ended = session('s-2', { status: 'ended', endedAtMs: 1_700_000_100_000, result: 'won', endReason: 'ended' });
    const b = batch(1, {
      sessions: [{ session: active, level: level('one') }, { session: ended, level: level('two') }],
      stats: stats({ startedCount: 2, endedCount: 1, wonCount: 1 }),
      highScores: [highScore(1, 1000), highScore(2, 3000), highScore(3, 2000)],
      notices: [notice('n-1')],
      settings: [setting('playerSpeedPercent', 120)],
    });
    const applied = ok(handle(applyTask(b)), 'apply');
    expect(applied).toMatchObject({ seq: 1, applied: true, rows: 2 + 1 + 3 + 1 + 1 });
    expect(applied.commitMs).toBeGreaterThanOrEqual(0);

    expect(reloadAll().sessions).toEqual([active]); // only active sessions are reloaded
    const rest = ok(handle({ kind: 'reloadRest', highScoreLimit: 2 }), 'reloadRest');
    expect(rest.stats).toEqual(b.stats);
    expect(rest.highScores).toEqual([highScore(2, 3000), highScore(3, 2000)]); // newest first, limited
    expect(rest.maxHighScoreId).toBe(3);
    expect(rest.notices).toEqual(b.notices);
    expect(rest.settings).toEqual(b.settings);
    expect(rest.skipped).toBe(0);
    expect(ok(handle({ kind: 'countStarted', fromMs: 0, toMs: 2e12 }), 'countStarted').count).toBe(2);
  });

  it('survives a close and reopen with every row and the last seq', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    ok(handle(applyTask(batch(4, { sessions: [{ session: session('a') }], stats: stats({ startedCount: 1 }) }))), 'apply');
    closeWorker();
    const reopened = ok(handle(openTask(dbPath)), 'open');
    expect(reopened).toMatchObject({ created: false, lastSeq: 4, sessionsToday: 1, quarantinedTo: null });
    expect(reloadAll().sessions).toEqual([session('a')]);
  });

  it('writes a level once and never overwrites it with later updates', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    ok(handle(applyTask(batch(1, { sessions: [{ session: session('s'), level: level('first') }] }))), 'apply');
    ok(handle(applyTask(batch(2, { sessions: [{ session: session('s', { score: 5 }) }] }))), 'apply');
    ok(handle(applyTask(batch(3, { sessions: [{ session: session('s', { score: 6 }), level: level('other') }] }))), 'apply');
    expect(levelOf(dbPath, 's')).toEqual(level('first'));
    expect(reloadAll().sessions).toEqual([session('s', { score: 6 })]);
  });

  it('treats a re-applied seq as a no-op and leaves the data unchanged', () => {
    ok(handle(openTask(tempDbPath())), 'open');
    ok(handle(applyTask(batch(1, { sessions: [{ session: session('s', { score: 1 }) }] }))), 'apply');
    ok(handle(applyTask(batch(2, { sessions: [{ session: session('s', { score: 2 }) }] }))), 'apply');

    const replay = ok(handle(applyTask(batch(2, { sessions: [{ session: session('s', { score: 99 }) }] }))), 'apply');
    expect(replay).toMatchObject({ seq: 2, applied: false, rows: 0 });
    const older = ok(handle(applyTask(batch(1, { sessions: [{ session: session('s', { score: 98 }) }] }))), 'apply');
    expect(older.applied).toBe(false);
    expect(reloadAll().sessions).toEqual([session('s', { score: 2 })]);

    const next = ok(handle(applyTask(batch(5, { sessions: [{ session: session('s', { score: 5 }) }] }))), 'apply');
    expect(next.applied).toBe(true);
    expect(reloadAll().sessions).toEqual([session('s', { score: 5 })]);
  });

  it('drops a session from the active reload once it has ended', () => {
    ok(handle(openTask(tempDbPath())), 'open');
    ok(handle(applyTask(batch(1, { sessions: [{ session: session('a') }, { session: session('b') }] }))), 'apply');
    ok(handle(applyTask(batch(2, { sessions: [{ session: session('a', { status: 'ended', endedAtMs: 5, result: 'lost' }) }] }))), 'apply');
    expect(reloadAll().sessions.map((s) => s.id)).toEqual(['b']);
  });

  it('pages through every active session exactly once, by id, each page decoding to SessionRecord[]', () => {
    ok(handle(openTask(tempDbPath())), 'open');
    const ids = Array.from({ length: 250 }, (_, i) => `session_${String(i).padStart(4, '0')}`);
    ok(handle(applyTask(batch(1, { sessions: ids.map((id) => ({ session: session(id), level: level() })) }))), 'apply');
    const reloaded = reloadAll(100);
    expect(reloaded.pages).toBe(3);
    expect(reloaded.sessions.map((s) => s.id)).toEqual(ids);
    expect(reloaded.sessions[17]).toEqual(session(ids[17]));
    // A page that ends exactly at the last row is followed by one empty page.
    expect(reloadAll(125).pages).toBe(3);
  });

  it('returns an empty page that decodes to [] when there are no active sessions', () => {
    ok(handle(openTask(tempDbPath())), 'open');
    const page = ok(handle({ kind: 'reloadSessions', after: null, limit: 10 }), 'reloadSessions');
    expect(sessionsOfPage(page.page)).toEqual([]);
    expect(page.nextAfter).toBeNull();
  });

  it('rejects a batch that does not decode with BAD_BATCH, not retryable, and applies nothing', () => {
    ok(handle(openTask(tempDbPath())), 'open');
    const garbage = failed(handle({ kind: 'apply', seq: 1, bytes: new Uint8Array([0xc1, 0xff, 0x00]).buffer }));
    expect(garbage).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const mismatch = failed(handle({ kind: 'apply', seq: 2, bytes: applyTask(batch(3)).bytes }));
    expect(mismatch).toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const malformed = failed(handle(applyTask({ ...batch(4), sessions: [{ session: { id: 7 } as unknown as SessionRecord }] })));
    expect(malformed.code).toBe('BAD_BATCH');
    closeWorker();
    expect(ok(handle(openTask(tempDbPath())), 'open').lastSeq).toBe(0);
  });

  it('answers NOT_OPEN to a task sent before open (no workerData on this thread)', () => {
    const reply = failed(handle({ kind: 'reloadRest', highScoreLimit: 10 }));
    expect(reply).toMatchObject({ code: 'NOT_OPEN', retryable: false });
  });

  it('answers an unknown task kind with INTERNAL instead of throwing', () => {
    const reply = failed(handle({ kind: 'explode' } as never));
    expect(reply).toMatchObject({ code: 'INTERNAL', retryable: false });
  });
});
