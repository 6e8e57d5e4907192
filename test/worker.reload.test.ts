import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { decode, packr, type SessionRecord } from '../src/model/protocol.js';
import {
  applyTask,
  batch,
  closeWorker,
  highScore,
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

/** Write rows behind the worker's back with a raw connection (the worker must be closed). */
function tamper(dbPath: string, sql: string, ...params: unknown[]): void {
  const db = new Database(dbPath);
  db.prepare(sql).run(...params);
  db.close();
}

describe('persistence worker: reload of damaged rows', () => {
  it('reports undecodable session rows in the stored-record check, and never loads them', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    const ids = ['s1', 's2', 's3', 's4', 's5', 's6', 's7'];
    ok(handle(applyTask(batch(1, { sessions: ids.map((id) => ({ session: session(id, { score: id.length }) })) }))), 'apply');
    closeWorker();

    const valid = packr.pack(session('s2'));
    tamper(dbPath, "UPDATE sessions SET data = ? WHERE id = 's2'", Buffer.from([0xc1, 0xff, 0x13, 0x37]));
    // Each of these would shift or break a concatenated page if it slipped through:
    tamper(dbPath, "UPDATE sessions SET data = ? WHERE id = 's3'", Buffer.concat([valid, Buffer.from([0x01])]));
    tamper(dbPath, "UPDATE sessions SET data = ? WHERE id = 's4'", valid.subarray(0, valid.length - 3));
    tamper(dbPath, "UPDATE sessions SET data = ? WHERE id = 's5'", packr.pack(42));
    tamper(dbPath, "UPDATE sessions SET data = ? WHERE id = 's6'", packr.pack(session('someone-else')));
    tamper(dbPath, "UPDATE sessions SET data = 'not a blob' WHERE id = 's7'");

    ok(handle(openTask(dbPath)), 'open');
    const check = ok(handle({ kind: 'checkSessions', after: null, limit: 100 }), 'checkSessions');
    expect(check).toMatchObject({ checked: 7, skippedIds: ['s2', 's3', 's4', 's5', 's6', 's7'], nextAfter: null });
    const page = ok(handle({ kind: 'reloadSessions', after: null, limit: 100 }), 'reloadSessions');
    expect(page.count).toBe(7); // reload reads the index only
    const loaded = ok(handle({ kind: 'loadSessions', ids }), 'loadSessions');
    expect(loaded.skippedIds).toEqual(['s2', 's3', 's4', 's5', 's6', 's7']);
    expect(loaded.records.map(([, bytes]) => decode<SessionRecord>(bytes))).toEqual([session('s1', { score: 2 })]);
  });

  it('reloads a row outside the fast check (it holds a timestamp) by re-encoding it', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    ok(handle(applyTask(batch(1, { sessions: [{ session: session('a') }, { session: session('b') }] }))), 'apply');
    closeWorker();
    const odd = { ...session('b'), at: new Date(86_400_000) };
    tamper(dbPath, "UPDATE sessions SET data = ? WHERE id = 'b'", packr.pack(odd));

    ok(handle(openTask(dbPath)), 'open');
    const page = ok(handle({ kind: 'reloadSessions', after: null, limit: 10 }), 'reloadSessions');
    expect(ok(handle({ kind: 'checkSessions', after: null, limit: 10 }), 'checkSessions').skippedIds).toEqual([]);
    expect(sessionsOfPage(page.page)).toEqual([session('a'), odd]);
  });

  it('loads the stored records of active sessions on first use: found, missing (unknown or ended) and undecodable', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    ok(handle(applyTask(batch(1, { sessions: ['a', 'b', 'c'].map((id) => ({ session: session(id, { score: 7 }) })) }))), 'apply');
    ok(handle(applyTask(batch(2, { sessions: [{ session: session('c', { status: 'ended', endedAtMs: 5, result: 'won' }) }] }))), 'apply');
    closeWorker();
    tamper(dbPath, "UPDATE sessions SET data = x'c1' WHERE id = 'b'");

    ok(handle(openTask(dbPath)), 'open');
    const loaded = ok(handle({ kind: 'loadSessions', ids: ['a', 'b', 'c', 'nope'] }), 'loadSessions');
    expect(loaded.records.map(([id, bytes]) => [id, decode<SessionRecord>(bytes).score])).toEqual([['a', 7]]);
    expect(loaded.skippedIds).toEqual(['b']);
    expect(loaded.missingIds).toEqual(['c', 'nope']);
  });

  it('keeps checking after a page whose last row was skipped', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    ok(handle(applyTask(batch(1, { sessions: ['a', 'b', 'c'].map((id) => ({ session: session(id) })) }))), 'apply');
    closeWorker();
    tamper(dbPath, "UPDATE sessions SET data = x'c1' WHERE id = 'b'");

    ok(handle(openTask(dbPath)), 'open');
    const first = ok(handle({ kind: 'checkSessions', after: null, limit: 2 }), 'checkSessions');
    expect(first).toMatchObject({ checked: 2, skippedIds: ['b'] });
    expect(first.nextAfter).not.toBeNull();
    const second = ok(handle({ kind: 'checkSessions', after: first.nextAfter, limit: 2 }), 'checkSessions');
    expect(second).toMatchObject({ checked: 1, skippedIds: [], nextAfter: null });
  });

  it('counts undecodable stats, high score, notice and setting rows as skipped and returns the rest', () => {
    const dbPath = tempDbPath();
    ok(handle(openTask(dbPath)), 'open');
    ok(
      handle(
        applyTask(
          batch(1, {
            stats: stats({ startedCount: 3 }),
            highScores: [highScore(1, 10), highScore(2, 20)],
            notices: [notice('n1'), notice('n2')],
            settings: [setting('a', 1), setting('b', 2)],
          }),
        ),
      ),
      'apply',
    );
    closeWorker();
    tamper(dbPath, "UPDATE stats SET data = x'c1c1'");
    tamper(dbPath, "UPDATE high_scores SET data = x'dd' WHERE id = 2");
    tamper(dbPath, "UPDATE notices SET data = x'00ff' WHERE id = 'n1'");
    tamper(dbPath, "UPDATE settings SET data = 12 WHERE key = 'b'");

    ok(handle(openTask(dbPath)), 'open');
    const rest = ok(handle({ kind: 'reloadRest', highScoreLimit: 10 }), 'reloadRest');
    expect(rest).toMatchObject({
      stats: null,
      highScores: [highScore(1, 10)],
      maxHighScoreId: 2,
      notices: [notice('n2')],
      settings: [setting('a', 1)],
      skipped: 4,
    });
  });

  it('counts sessions started in a half-open window [fromMs, toMs)', () => {
    ok(handle(openTask(tempDbPath())), 'open');
    const sessions = [100, 200, 300].map((startedAtMs, i) => ({ session: session(`s${i}`, { startedAtMs }) }));
    ok(handle(applyTask(batch(1, { sessions }))), 'apply');
    expect(ok(handle({ kind: 'countStarted', fromMs: 100, toMs: 300 }), 'countStarted').count).toBe(2);
    expect(ok(handle({ kind: 'countStarted', fromMs: 301, toMs: 400 }), 'countStarted').count).toBe(0);
  });
});
