/**
 * The PostgreSQL driver's reads and housekeeping: active-session pages in byte order (as SQLite),
 * whole sessions for their first use, the rest at start-up, the started-in-a-window count,
 * retention in chunks (a session goes with its artifacts and level), and the file-only tasks.
 */
import { describe, expect, it } from 'vitest';
import { PG_RETENTION_CHUNK_ROWS } from '../workers/postgres/maintenance.js';
import type { RetentionCutoffs } from '../workers/driver.js';
import {
  T0,
  adminSessionRow,
  artifactRows,
  auditRow,
  batch,
  endedRow,
  highScoreRow,
  levelRow,
  noticeRow,
  sessionRow,
  settingRow,
  sql,
  usePostgres,
  idempotencyRow,
  restQuery,
} from './postgres.fixtures.js';

/** Cutoffs that delete nothing, with `overrides`. */
function cutoffs(overrides: Partial<RetentionCutoffs> = {}): RetentionCutoffs {
  return {
    sessionsBeforeMs: null,
    highScoresBeforeMs: null,
    idempotencyBeforeMs: 0,
    adminSessionsBeforeMs: 0,
    auditBeforeMs: null,
    auditMaxRows: 1_000_000,
    ...overrides,
  };
}

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
    const read = (since: number, limit: number) => driver.rest({ ...restQuery(0), idempotencySinceMs: since, idempotencyLimit: limit });
    expect((await read(0, 10)).idempotencyKeys).toEqual([keys[1], keys[2], keys[3], again]);
    expect((await read(T0 + 3, 10)).idempotencyKeys).toEqual([keys[2], keys[3], again]);
    expect((await read(0, 2)).idempotencyKeys).toEqual([keys[3], again]);
    expect((await read(0, 0)).idempotencyKeys).toEqual([]);
  });

  it('reads notices with their creation and update times (null for old ones), the first creation time kept on update', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { upserts: { notices: [noticeRow('a', T0, T0), noticeRow('b', null, null)] } }));
    // An update whose row carries another created_at keeps the stored one; a null never erases it.
    await driver.apply(batch(2, { upserts: { notices: [noticeRow('a', T0 + 50, T0 + 60)] } }));
    await driver.apply(batch(3, { upserts: { notices: [noticeRow('b', T0 + 7, T0 + 8)] } }));
    const { notices } = await driver.rest(restQuery(0));
    expect(notices).toEqual([
      { id: 'a', title: 'Title a', message: 'Maintenance tonight', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-12-31T00:00:00.000Z', createdAtMs: T0, updatedAtMs: T0 + 60 },
      { id: 'b', title: 'Title b', message: 'Maintenance tonight', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-12-31T00:00:00.000Z', createdAtMs: T0 + 7, updatedAtMs: T0 + 8 },
    ]);
    await driver.apply(batch(4, { upserts: { notices: [noticeRow('c', null, null)] } }));
    expect((await driver.rest(restQuery(0))).notices[2]).toEqual({ id: 'c', title: 'Title c', message: 'Maintenance tonight', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-12-31T00:00:00.000Z' });
  });

  it('reads the admin sessions still valid at nowMs, and the newest audit rows up to the limit, oldest first', async () => {
    const { driver } = await pg.open();
    const sessions = [adminSessionRow(1, T0 + 10), adminSessionRow(2, T0 + 20), adminSessionRow(3, T0 + 30)];
    const audit = [5, 1, 4, 2, 3].map((id) => auditRow(id));
    await driver.apply(batch(1, { upserts: { adminSessions: sessions, audit } }));
    const hashes = async (nowMs: number) => (await driver.rest(restQuery(0, nowMs))).adminSessions.map((r) => r[0]).sort();
    expect(await hashes(T0)).toEqual(sessions.map((r) => r[0]));
    expect(await hashes(T0 + 10)).toEqual([sessions[1][0], sessions[2][0]]); // expires_at > now only
    expect(await hashes(T0 + 30)).toEqual([]);
    expect((await driver.rest(restQuery(0))).adminSessions.find((r) => r[0] === sessions[0][0])).toEqual(sessions[0]);
    expect((await driver.rest(restQuery(0, 0, 3))).audit).toEqual([auditRow(3), auditRow(4), auditRow(5)]);
    expect((await driver.rest(restQuery(0, 0, 100))).audit).toEqual([1, 2, 3, 4, 5].map((id) => auditRow(id)));
    expect((await driver.rest(restQuery(0, 0, 0))).audit).toEqual([]);
    await expect(driver.rest(restQuery(0, 0, -1))).rejects.toMatchObject({ code: 'INTERNAL' });
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
  it('deletes ended sessions before the cutoff with their artifacts and level, in chunks, and keeps active ones', async () => {
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
    expect(await driver.retention(cutoffs({ sessionsBeforeMs: T0 + 1, highScoresBeforeMs: T0 + 1 }))).toEqual({ deletedSessions: old.length, deletedHighScores: 1, deletedAuditRows: 0 });
    expect(await sql(url, 'SELECT id FROM sessions ORDER BY id')).toEqual([{ id: 'active-old' }, { id: 'recent' }]);
    for (const table of ['artifacts', 'session_levels']) {
      expect(await sql(url, `SELECT DISTINCT session_id FROM ${table} ORDER BY 1`)).toEqual([{ session_id: 'active-old' }, { session_id: 'recent' }]);
    }
    expect((await driver.rest(restQuery(10))).highScores.map((h) => h.id)).toEqual([2]);
    // null keeps everything; a second run has nothing left to do.
    expect(await driver.retention(cutoffs())).toEqual({ deletedSessions: 0, deletedHighScores: 0, deletedAuditRows: 0 });
    expect((await driver.rest(restQuery(10))).highScores.map((h) => h.id)).toEqual([2]);
    expect(await driver.retention(cutoffs({ sessionsBeforeMs: T0 + 1, highScoresBeforeMs: T0 + 1 }))).toEqual({ deletedSessions: 0, deletedHighScores: 0, deletedAuditRows: 0 });
  });

  it('deletes idempotency keys created before their cutoff, in chunks, and keeps the newer ones', async () => {
    const { driver } = await pg.open();
    const old = Array.from({ length: PG_RETENTION_CHUNK_ROWS + 3 }, (_, i) => idempotencyRow('c', `old${i}`, T0));
    await driver.apply(batch(1, { upserts: { idempotencyKeys: [...old, idempotencyRow('c', 'new', T0 + 10)] } }));
    await driver.retention(cutoffs({ idempotencyBeforeMs: T0 + 1 }));
    expect((await driver.rest(restQuery(0))).idempotencyKeys.map((k) => k[1])).toEqual(['new']);
  });

  it('deletes admin sessions expired at or before their cutoff, and keeps the others', async () => {
    const { driver } = await pg.open();
    const rows = Array.from({ length: PG_RETENTION_CHUNK_ROWS + 2 }, (_, i) => adminSessionRow(i + 1, T0 + 10));
    await driver.apply(batch(1, { upserts: { adminSessions: [...rows, adminSessionRow(9_999_999, T0 + 11)] } }));
    await driver.retention(cutoffs({ adminSessionsBeforeMs: T0 + 9 }));
    expect((await driver.rest(restQuery(0))).adminSessions).toHaveLength(rows.length + 1);
    await driver.retention(cutoffs({ adminSessionsBeforeMs: T0 + 10 }));
    expect((await driver.rest(restQuery(0))).adminSessions).toEqual([adminSessionRow(9_999_999, T0 + 11)]);
  });

  it('deletes audit rows older than the cutoff (null keeps them by age) and beyond the newest auditMaxRows, counting them', async () => {
    const { driver } = await pg.open();
    const n = PG_RETENTION_CHUNK_ROWS + 10;
    const rows = Array.from({ length: n }, (_, i) => auditRow(i + 1, T0 + i + 1));
    await driver.apply(batch(1, { upserts: { audit: rows } }));
    const ids = async () => (await driver.rest(restQuery(0, 0, 100_000))).audit.map((r) => r[0]);
    expect(await driver.retention(cutoffs({ auditBeforeMs: null, auditMaxRows: n }))).toMatchObject({ deletedAuditRows: 0 });
    // at < T0 + 6: ids 1..5.
    expect(await driver.retention(cutoffs({ auditBeforeMs: T0 + 6 }))).toMatchObject({ deletedAuditRows: 5 });
    expect((await ids())[0]).toBe(6);
    // Keep the newest 3 by id, in chunks.
    expect(await driver.retention(cutoffs({ auditMaxRows: 3 }))).toEqual({ deletedSessions: 0, deletedHighScores: 0, deletedAuditRows: n - 5 - 3 });
    expect(await ids()).toEqual([n - 2, n - 1, n]);
    expect(await driver.retention(cutoffs({ auditBeforeMs: T0 + n, auditMaxRows: 3 }))).toMatchObject({ deletedAuditRows: 2 });
    expect(await ids()).toEqual([n]);
    expect(await driver.retention(cutoffs({ auditMaxRows: 0 }))).toMatchObject({ deletedAuditRows: 1 });
    expect(await ids()).toEqual([]);
    await expect(driver.retention(cutoffs({ auditMaxRows: -1 }))).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('refuses a file backup with UNSUPPORTED, and closes twice without error', async () => {
    const { driver } = await pg.open();
    await expect(driver.backup('/tmp/x.sqlite')).rejects.toMatchObject({ code: 'UNSUPPORTED', retryable: false, message: expect.stringContaining('pg_dump') });
    expect(driver.kind).toBe('postgres');
    expect(driver.location).not.toContain('vibefixer-test');
    await driver.close();
    await driver.close();
  });
});
