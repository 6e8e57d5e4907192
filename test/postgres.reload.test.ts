/**
 * The PostgreSQL driver's reads and housekeeping: active-session pages in byte order (as SQLite),
 * whole sessions for their first use, the rest at start-up, the started-in-a-window count,
 * retention in chunks (a session goes with its artifacts and level), and the file-only tasks.
 */
import { describe, expect, it } from 'vitest';
import { PG_RETENTION_CHUNK_ROWS } from '../workers/postgres/maintenance.js';
import { T0, artifactRows, batch, endedRow, highScoreRow, levelRow, noticeRow, sessionRow, settingRow, sql, usePostgres, idempotencyRow, restQuery } from './postgres.fixtures.js';

const pg = usePostgres();

describe('postgres reads', () => {
  it('pages active sessions by id in byte order, after a key, skipping ended ones', async () => {
    const { driver } = await pg.open();
    const ids = ['b', 'B', 'a', 'é', 'a1', 'Z'];
    await driver.apply(batch(1, { upserts: { sessions: [...ids.map((id) => sessionRow(id, { 3: T0 + id.length })), endedRow('a0', T0)] } }));
    const sorted = [...ids].sort(); // JS sorts by UTF-16 code units: the same as bytes for these
    expect((await driver.activeSessionsPage(null, 100)).map((r) => r[0])).toEqual(sorted);
    const first = await driver.activeSessionsPage(null, 2);
    expect(first).toEqual([
      ['B', T0 + 1, 120.5],
      ['Z', T0 + 1, 120.5],
    ]);
    const next = await driver.activeSessionsPage('Z', 3);
    expect(next.map((r) => r[0])).toEqual(['a', 'a1', 'b']);
    expect(await driver.activeSessionsPage('é', 10)).toEqual([]);
    await expect(driver.activeSessionsPage(null, 0)).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('loads active sessions with their artifacts in idx order, once per id, and lists the missing', async () => {
    const { driver } = await pg.open();
    const arts = artifactRows('s1', 12);
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1'), sessionRow('s2'), endedRow('s3', T0)], artifacts: [...arts].reverse() } }));
    const loaded = await driver.loadSessions(['s2', 's1', 's1', 's3', 'zz']);
    expect(loaded.sessions).toEqual([
      [sessionRow('s2'), []],
      [sessionRow('s1'), arts],
    ]);
    expect(loaded.missingIds).toEqual(['s3', 'zz']);
    expect(await driver.loadSessions([])).toEqual({ sessions: [], missingIds: [] });
  });

  it('reads the rest: newest high scores up to the limit, max id, notices and settings by key', async () => {
    const { driver } = await pg.open();
    await driver.apply(
      batch(1, {
        upserts: {
          highScores: [highScoreRow(1, T0 + 5), highScoreRow(2, T0 + 5), highScoreRow(3, T0 + 1), highScoreRow(9, T0)],
          notices: [noticeRow('n2'), noticeRow('N1')],
          settings: [settingRow('b', 2), settingRow('a', 0.5)],
        },
      }),
    );
    const rest = await driver.rest(restQuery(3));
    expect(rest.highScores.map((h) => h.id)).toEqual([2, 1, 3]);
    expect(rest.maxHighScoreId).toBe(9);
    expect(rest.notices.map((n) => n.id)).toEqual(['N1', 'n2']);
    expect(rest.settings).toEqual([
      { key: 'a', value: 0.5, updatedAtMs: T0 },
      { key: 'b', value: 2, updatedAtMs: T0 },
    ]);
    expect((await driver.rest(restQuery(0))).highScores).toEqual([]);
    await expect((await pg.open()).driver.rest(restQuery(1))).resolves.toMatchObject({ stats: { startedCount: 0, latestActivityAtMs: null }, maxHighScoreId: 0 });
  });

  it('reads the idempotency keys created since an instant, the newest up to the limit, oldest first; a key is replaced by its latest answer', async () => {
    const { driver } = await pg.open();
    const keys = [1, 2, 3, 4].map((i) => idempotencyRow(`c${i % 2}`, `k${i}`, T0 + i));
    await driver.apply(batch(1, { upserts: { idempotencyKeys: keys } }));
    const again = idempotencyRow('c1', 'k1', T0 + 9, 2);
    await driver.apply(batch(2, { upserts: { idempotencyKeys: [again] } }));
    const read = (since: number, limit: number) => driver.rest({ highScoreLimit: 0, idempotencySinceMs: since, idempotencyLimit: limit });
    expect((await read(0, 10)).idempotencyKeys).toEqual([keys[1], keys[2], keys[3], again]);
    expect((await read(T0 + 3, 10)).idempotencyKeys).toEqual([keys[2], keys[3], again]);
    expect((await read(0, 2)).idempotencyKeys).toEqual([keys[3], again]);
    expect((await read(0, 0)).idempotencyKeys).toEqual([]);
  });

  it('counts sessions started in [from, to), ended ones included', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('a', { 3: T0 }), sessionRow('b', { 3: T0 + 999 }), endedRow('c', T0 + 5)] } }));
    expect(await driver.countStarted(T0, T0 + 1000)).toBe(3);
    expect(await driver.countStarted(T0 + 1, T0 + 999)).toBe(0);
    expect(await driver.countStarted(T0 + 999, T0 + 1000)).toBe(1);
  });
});

describe('postgres housekeeping', () => {
  it('deletes ended sessions before the cutoff with their artifacts, level and segments, in chunks, and keeps active ones', async () => {
    const { driver, url } = await pg.open();
    const old = Array.from({ length: PG_RETENTION_CHUNK_ROWS + 5 }, (_, i) => `old${i}`);
    await driver.apply(
      batch(1, {
        upserts: {
          sessions: [...old.map((id) => endedRow(id, T0)), endedRow('recent', T0 + 10_000), sessionRow('active-old', { 3: 0 })],
          artifacts: [...artifactRows('old0'), ...artifactRows('recent'), ...artifactRows('active-old')],
          levels: [levelRow('old0'), levelRow('recent'), levelRow('active-old')],
          highScores: [highScoreRow(1, T0), highScoreRow(2, T0 + 10_000)],
        },
      }),
    );
    expect(await driver.retention({ sessionsBeforeMs: T0 + 1, highScoresBeforeMs: T0 + 1, idempotencyBeforeMs: 0 })).toEqual({ deletedSessions: old.length, deletedHighScores: 1 });
    expect(await sql(url, 'SELECT id FROM sessions ORDER BY id')).toEqual([{ id: 'active-old' }, { id: 'recent' }]);
    for (const table of ['artifacts', 'session_levels', 'level_segments']) {
      expect(await sql(url, `SELECT DISTINCT session_id FROM ${table} ORDER BY 1`)).toEqual([{ session_id: 'active-old' }, { session_id: 'recent' }]);
    }
    expect((await driver.rest(restQuery(10))).highScores.map((h) => h.id)).toEqual([2]);
    // null keeps everything; a second run has nothing left to do.
    expect(await driver.retention({ sessionsBeforeMs: null, highScoresBeforeMs: null, idempotencyBeforeMs: 0 })).toEqual({ deletedSessions: 0, deletedHighScores: 0 });
    expect((await driver.rest(restQuery(10))).highScores.map((h) => h.id)).toEqual([2]);
    expect(await driver.retention({ sessionsBeforeMs: T0 + 1, highScoresBeforeMs: T0 + 1, idempotencyBeforeMs: 0 })).toEqual({ deletedSessions: 0, deletedHighScores: 0 });
  });

  it('deletes idempotency keys created before their cutoff, in chunks, and keeps the newer ones', async () => {
    const { driver } = await pg.open();
    const old = Array.from({ length: PG_RETENTION_CHUNK_ROWS + 3 }, (_, i) => idempotencyRow('c', `old${i}`, T0));
    await driver.apply(batch(1, { upserts: { idempotencyKeys: [...old, idempotencyRow('c', 'new', T0 + 10)] } }));
    await driver.retention({ sessionsBeforeMs: null, highScoresBeforeMs: null, idempotencyBeforeMs: T0 + 1 });
    expect((await driver.rest(restQuery(0))).idempotencyKeys.map((k) => k[1])).toEqual(['new']);
  });

  it('answers checkpoint with zeros, refuses a file backup with UNSUPPORTED, and closes twice without error', async () => {
    const { driver } = await pg.open();
    expect(await driver.checkpoint('PASSIVE')).toEqual({ busy: 0, logFrames: 0, checkpointedFrames: 0 });
    expect(await driver.checkpoint('TRUNCATE')).toEqual({ busy: 0, logFrames: 0, checkpointedFrames: 0 });
    await expect(driver.backup('/tmp/x.sqlite')).rejects.toMatchObject({ code: 'UNSUPPORTED', retryable: false, message: expect.stringContaining('pg_dump') });
    expect(driver.kind).toBe('postgres');
    expect(driver.location).not.toContain('vibefixer-test');
    await driver.close();
    await driver.close();
  });
});
