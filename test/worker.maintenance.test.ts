import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { MS_PER_DAY, RETENTION_CHUNK_ROWS } from '../workers/sqlite/maintenance.js';
import {
  applyTask,
  batch,
  closeWorker,
  currentDb,
  endedSession,
  failed,
  highScore,
  level,
  ok,
  openTask,
  readRows,
  session,
  tempDbPath,
  tempDir,
  removeTempDirs,
  sessionsOfPage,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

const NOW = 1_800_000_000_000;

function ended(id: string, endedAtMs: number) {
  return { session: endedSession(id, endedAtMs, { startedAtMs: endedAtMs - 1000 }), level: level() };
}

async function count(dbPath: string, table: string): Promise<number> {
  const [{ n }] = await readRows<{ n: number }>(dbPath, `SELECT count(*) AS n FROM ${table}`);
  return n;
}

async function activeIds(): Promise<string[]> {
  const page = ok(await handle({ kind: 'reloadSessions', after: null, limit: 1000 }), 'reloadSessions');
  return (await sessionsOfPage(page.page)).map((s) => s.id);
}

describe('persistence worker: retention', () => {
  it('deletes only ended sessions (with their artifacts and level) and high scores older than the retention, never active sessions', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    const old = NOW - 10 * MS_PER_DAY;
    const recent = NOW - 1 * MS_PER_DAY;
    const b = batch(1, {
      sessions: [
        ended('old-ended', old),
        ended('recent-ended', recent),
        { session: session('old-active', { startedAtMs: old }), level: level() },
      ],
      highScores: [highScore(1, old), highScore(2, recent)],
    });
    ok(await handle(applyTask(b)), 'apply');

    const reply = ok(
      await handle({ kind: 'retention', nowMs: NOW, sessionRetentionDays: 7, highScoreRetentionDays: 7, idempotencyWindowMs: 86_400_000, auditRetentionDays: 0, auditMaxRows: 100_000 }),
      'retention',
    );
    expect(reply).toMatchObject({ deletedSessions: 1, deletedHighScores: 1 });
    expect(await count(dbPath, 'sessions')).toBe(2);
    // The deleted session's artifacts and level went with it.
    expect(await readRows(dbPath, 'SELECT DISTINCT session_id FROM artifacts ORDER BY session_id')).toEqual([
      { session_id: 'old-active' },
      { session_id: 'recent-ended' },
    ]);
    expect(await readRows(dbPath, 'SELECT session_id FROM session_levels ORDER BY session_id')).toEqual([
      { session_id: 'old-active' },
      { session_id: 'recent-ended' },
    ]);
    expect(await activeIds()).toEqual(['old-active']);
    const rest = ok(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest');
    expect(rest.highScores).toEqual([highScore(2, recent)]);
    expect(rest.maxHighScoreId).toBe(2);
  });

  it('keeps everything forever when the retention is 0 days', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [ended('ancient', 1)], highScores: [highScore(1, 1)] }))), 'apply');
    const reply = ok(
      await handle({ kind: 'retention', nowMs: NOW, sessionRetentionDays: 0, highScoreRetentionDays: 0, idempotencyWindowMs: 86_400_000, auditRetentionDays: 0, auditMaxRows: 100_000 }),
      'retention',
    );
    expect(reply).toMatchObject({ deletedSessions: 0, deletedHighScores: 0 });
    expect(await count(dbPath, 'sessions')).toBe(1);
  });

  it('deletes more rows than one chunk, in several short transactions', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    const n = RETENTION_CHUNK_ROWS * 2 + 17;
    const sessions = Array.from({ length: n }, (_, i) => ended(`e${i}`, 1000 + i));
    const highScores = Array.from({ length: n }, (_, i) => highScore(i + 1, 1000 + i));
    ok(await handle(applyTask(batch(1, { sessions, highScores }))), 'apply');
    const reply = ok(
      await handle({ kind: 'retention', nowMs: NOW, sessionRetentionDays: 1, highScoreRetentionDays: 1, idempotencyWindowMs: 86_400_000, auditRetentionDays: 0, auditMaxRows: 100_000 }),
      'retention',
    );
    expect(reply).toMatchObject({ deletedSessions: n, deletedHighScores: n });
    for (const table of ['sessions', 'artifacts', 'session_levels', 'high_scores']) {
      expect(await count(dbPath, table), table).toBe(0);
    }
  });

  it('still reports the highest high-score id ever written after retention emptied the table', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask(batch(1, { highScores: [highScore(41, 1)] }))), 'apply');
    ok(await handle({ kind: 'retention', nowMs: NOW, sessionRetentionDays: 0, highScoreRetentionDays: 1, idempotencyWindowMs: 86_400_000, auditRetentionDays: 0, auditMaxRows: 100_000 }), 'retention');
    expect(ok(await handle({ kind: 'reloadRest', highScoreLimit: 10, idempotencySinceMs: 0, idempotencyLimit: 100, nowMs: 0, auditLimit: 100 }), 'reloadRest')).toMatchObject({
      highScores: [],
      maxHighScoreId: 41,
    });
  });
});

describe('persistence worker: WAL, backup, close', () => {
  it('commits without checkpointing: with no checkpointer the WAL keeps every frame (no auto-checkpoint inside a commit)', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    // Several commits past the 1,000 WAL pages at which SQLite's default would have
    // checkpointed (and restarted the WAL) inside a commit.
    for (let seq = 1; seq <= 4; seq++) {
      const sessions = Array.from({ length: 3000 }, (_, i) => ({ session: session(`s${seq}-${i}`), level: level() }));
      ok(await handle(applyTask(batch(seq, { sessions }))), 'apply');
    }
    // SQLite's default would have reset the WAL at 1,000 pages; without a checkpoint it holds them all.
    const pageSize = currentDb().pragma('page_size', { simple: true }) as number;
    expect(fs.statSync(`${dbPath}-wal`).size).toBeGreaterThan(1000 * pageSize);
  });

  it('writes a consistent backup with VACUUM INTO and refuses to overwrite an existing file', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s'), level: level() }] }))), 'apply');
    const dest = path.join(tempDir(), 'backups', 'copy.sqlite');
    const reply = ok(await handle({ kind: 'backup', destPath: dest }), 'backup');
    expect(reply.destPath).toBe(dest);

    const copy = new Database(dest, { readonly: true });
    expect(copy.pragma('page_count', { simple: true })).toBe(reply.totalPages);
    expect(copy.pragma('quick_check', { simple: true })).toBe('ok');
    expect(copy.prepare('SELECT id FROM sessions').pluck().all()).toEqual(['s']);
    copy.close();

    const sizeBefore = fs.statSync(dest).size;
    expect(failed(await handle({ kind: 'backup', destPath: dest }))).toMatchObject({ code: 'IO', retryable: false });
    expect(fs.statSync(dest).size).toBe(sizeBefore);
  });

  it('closes with an empty WAL, releases the lock, and answers NOT_OPEN afterwards', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s') }] }))), 'apply');
    ok(await handle({ kind: 'close' }), 'close');
    expect(fs.existsSync(`${dbPath}-wal`) ? fs.statSync(`${dbPath}-wal`).size : 0).toBe(0);
    ok(await handle({ kind: 'close' }), 'close'); // closing twice is a no-op
    expect(failed(await handle({ kind: 'countStarted', fromMs: 0, toMs: 1 })).code).toBe('NOT_OPEN');
    const other = new Database(dbPath, { timeout: 100 });
    expect(other.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(1);
    other.close();
  });
});

describe('persistence worker: disk full', () => {
  it('returns DISK_FULL, retryable, keeps the last applied seq, and applies the same batch once space returns', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('before') }] }))), 'apply');

    // Fault-injection seam: cap the file at its current size, as a full disk would.
    const db = currentDb();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = applyTask(
      batch(2, { sessions: Array.from({ length: 500 }, (_, i) => ({ session: session(`big${i}`), level: level() })) }),
    );
    const full = failed(await handle(big));
    expect(full).toMatchObject({ code: 'DISK_FULL', retryable: true });
    expect(await activeIds()).toEqual(['before']);

    db.pragma('max_page_count = 1000000');
    // Each session: its header, 2 artifacts and its level (one row).
    expect(ok(await handle(big), 'apply')).toMatchObject({ seq: 2, applied: true, rows: 500 * 4 });
    await closeWorker();
    expect(ok(await handle(openTask(dbPath)), 'open').lastSeq).toBe(2);
    expect(await activeIds()).toHaveLength(501);
  });
});
