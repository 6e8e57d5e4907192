/**
 * The PostgreSQL driver's apply against a real server: every table round-trips exactly, a
 * replayed seq changes nothing, counters add across batches, and a batch is all or nothing.
 */
import { describe, expect, it } from 'vitest';
import { WorkerFailure } from '../workers/failure.js';
import {
  T0,
  adminSessionRow,
  artifactRows,
  auditRow,
  batch,
  delta,
  endedRow,
  highScoreRow,
  levelRow,
  noticeRow,
  sessionRow,
  settingRow,
  idempotencyRow,
  restQuery,
  snapshot,
  sql,
  usePostgres,
} from './postgres.fixtures.js';

const pg = usePostgres();

describe('postgres apply', () => {
  it('writes every table in one batch and reads each row back exactly, numbers as numbers', async () => {
    const { driver, url } = await pg.open();
    const s1 = sessionRow('s1');
    const s2 = endedRow('s2', T0 + 5_000);
    const result = await driver.apply(
      batch(1, {
        upserts: {
          sessions: [s1, s2],
          artifacts: [...artifactRows('s1'), ...artifactRows('s2')],
          levels: [levelRow('s1')],
          highScores: [highScoreRow(1), highScoreRow(2)],
          notices: [noticeRow('n1')],
          settings: [settingRow('spawnRate', 1.25)],
          idempotencyKeys: [idempotencyRow('client-a', 'k1', T0 + 1), idempotencyRow('client-b', 'k1', T0 + 2)],
          adminSessions: [adminSessionRow(1)],
          audit: [auditRow(1), auditRow(2)],
        },
        stats: delta({ startedCount: 2, endedCount: 1, wonCount: 1, latestCompletedAtMs: T0 + 5_000, latestActivityAtMs: T0 + 6_000 }),
      }),
    );
    // sessions, artifacts, the level (one row), high scores, notice, setting, idempotency keys, admin session, audit, stats.
    expect(result).toEqual({ applied: true, rows: 2 + 4 + 1 + 2 + 1 + 1 + 2 + 1 + 2 + 1 });
    expect(await driver.lastSeq()).toBe(1);

    const loaded = await driver.loadSessions(['s1', 's2', 'nope']);
    expect(loaded.sessions).toEqual([[s1, artifactRows('s1')]]);
    expect(loaded.missingIds).toEqual(['s2', 'nope']); // s2 is ended: not an active session
    expect(typeof loaded.sessions[0][0][3]).toBe('number'); // BIGINT started_at

    const rest = await driver.rest(restQuery(10));
    expect(rest).toEqual({
      stats: {
        startedCount: 2,
        endedCount: 1,
        staleEndedCount: 0,
        wonCount: 1,
        lostCount: 0,
        abandonedCount: 0,
        latestCompletedAtMs: T0 + 5_000,
        latestActivityAtMs: T0 + 6_000,
      },
      highScores: [
        { id: 2, createdAtMs: T0 + 2, playerTag: 'player2', result: 'lost', remainingUnchecked: 2 },
        { id: 1, createdAtMs: T0 + 1, playerTag: 'player1', result: 'won', remainingUnchecked: 1 },
      ],
      maxHighScoreId: 2,
      notices: [
        {
          id: 'n1', title: 'Title n1', message: 'Maintenance tonight', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-12-31T00:00:00.000Z',
          createdAtMs: T0, updatedAtMs: T0 + 5,
        },
      ],
      settings: [{ key: 'spawnRate', value: 1.25, updatedAtMs: T0 }],
      idempotencyKeys: [idempotencyRow('client-a', 'k1', T0 + 1), idempotencyRow('client-b', 'k1', T0 + 2)],
      adminSessions: [adminSessionRow(1)],
      audit: [auditRow(1), auditRow(2)],
    });
    expect(typeof rest.audit[0][1]).toBe('number'); // BIGINT at
    expect(rest.audit[0][6]).toBe('{"id":1,"note":"a b"}'); // details as written, byte for byte

    // Ended sessions and levels are not read at run time: check them as stored.
    const ended = await sql(url, "SELECT * FROM sessions WHERE id = 's2'");
    expect(ended).toEqual([
      {
        id: 's2', status: 'ended', seed: 'seed-s2', started_at: T0, duration_seconds: 120, player_speed_percent: 100,
        score: 7, remaining_artifact_count: 0, artifact_count: 2, ended_at: T0 + 5_000, end_reason: 'ended', result: 'won',
      },
    ]);
    // One row per level; the terrain as the JSON text the create answer sends, byte for byte (TEXT, not jsonb).
    expect(await sql(url, 'SELECT * FROM session_levels')).toEqual([
      {
        session_id: 's1', trash_x: 700, trash_y: 450, trash_bounds_x: 680, trash_bounds_y: 430, trash_bounds_width: 40, trash_bounds_height: 50.5,
        terrain:
          '[{"id":"terrain_ground","type":"ground","bounds":{"x":0,"y":500,"width":800,"height":100}},' +
          '{"id":"terrain_1","type":"stone","bounds":{"x":120.5,"y":400,"width":64,"height":16}}]',
      },
    ]);
  });

  it('updates the mutable columns on conflict and keeps seed, started_at and the first level', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')], artifacts: artifactRows('s1'), levels: [levelRow('s1')] } }));
    const changed = sessionRow('s1', { 1: 'ended', 2: 'other-seed', 3: T0 + 1, 6: 9, 7: 0, 9: T0 + 9_000, 10: 'stale', 11: 'lost' });
    const moved = artifactRows('s1').map((a): typeof a => [a[0], a[1], `${a[2]}x`, 1.5, 2.5, 'deposited', T0 + 77, T0 + 999]);
    const otherLevel = levelRow('s1');
    otherLevel[1].trashCan.position.x = 1;
    await driver.apply(batch(2, { upserts: { sessions: [changed], artifacts: moved, levels: [otherLevel] } }));

    const [row] = await sql(url, "SELECT seed, started_at::float8 AS started_at, status, score, ended_at::float8 AS ended_at, end_reason, result FROM sessions");
    expect(row).toEqual({ seed: 'seed-s1', started_at: T0, status: 'ended', score: 9, ended_at: T0 + 9_000, end_reason: 'stale', result: 'lost' });
    const arts = await sql(url, 'SELECT idx, id, x, y, status, created_at::float8 AS c, updated_at::float8 AS u FROM artifacts ORDER BY idx');
    // created_at is not updated: the artifact keeps its spawn time.
    expect(arts).toEqual([
      { idx: 0, id: 'artifact_0x', x: 1.5, y: 2.5, status: 'deposited', c: T0, u: T0 + 999 },
      { idx: 1, id: 'artifact_1x', x: 1.5, y: 2.5, status: 'deposited', c: T0 + 1, u: T0 + 999 },
    ]);
    expect((await sql(url, 'SELECT trash_x FROM session_levels'))[0]).toEqual({ trash_x: 700 });
  });

  it('stores only a JSON array as a level terrain: the schema refuses any other text', async () => {
    const { url } = await pg.open();
    for (const bad of ['{}', 'not json', '"[]"', '']) {
      await expect(sql(url, 'INSERT INTO session_levels VALUES ($1, 1, 2, 3, 4, 5, 6, $2)', [`bad ${bad}`, bad]), bad).rejects.toThrow(
        /violates check constraint|invalid input syntax for type json/,
      );
    }
    expect(await sql(url, "INSERT INTO session_levels VALUES ('good', 1, 2, 3, 4, 5, 6, '[]') RETURNING terrain")).toEqual([{ terrain: '[]' }]);
  });

  it('keeps 64-bit integers as SQLite does: a score, an idx and a high-score id past 2^31 round-trip exactly', async () => {
    const { driver } = await pg.open();
    const big = 2 ** 40 + 7;
    const s = sessionRow('s1', { 6: big });
    const a = artifactRows('s1', 1).map((r): typeof r => [r[0], 3_000_000_000, r[2], r[3], r[4], r[5], r[6], r[7]]);
    await driver.apply(batch(big, { upserts: { sessions: [s], artifacts: a, highScores: [highScoreRow(big)] } }));
    expect((await driver.loadSessions(['s1'])).sessions).toEqual([[s, a]]);
    const rest = await driver.rest(restQuery(1));
    expect([rest.highScores[0].id, rest.maxHighScoreId, await driver.lastSeq()]).toEqual([big, big, big]);
  });

  it('ignores a replayed seq: applied false, nothing written, last_seq unchanged', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] }, stats: delta({ startedCount: 1 }) }));
    await driver.apply(batch(2, { upserts: { notices: [noticeRow('n1')] } }));
    const before = await snapshot(url);
    for (const seq of [1, 2]) {
      const replay = batch(seq, { upserts: { sessions: [sessionRow('s1', { 6: 99 })], notices: [noticeRow('n2')] }, stats: delta({ startedCount: 1 }) });
      expect(await driver.apply(replay)).toEqual({ applied: false, rows: 0 });
    }
    expect(await snapshot(url)).toEqual(before);
    expect(await driver.lastSeq()).toBe(2);
  });

  it('adds counters across batches and keeps the latest times as high-water marks', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { stats: delta({ startedCount: 3, lostCount: 1, latestActivityAtMs: T0 + 50 }) }));
    await driver.apply(batch(2, { stats: delta({ startedCount: 2, endedCount: 4, staleEndedCount: 1, abandonedCount: 2, latestCompletedAtMs: T0 + 10, latestActivityAtMs: T0 + 20 }) }));
    await driver.apply(batch(3, { stats: delta({ wonCount: 5, latestCompletedAtMs: T0 + 5 }) }));
    expect((await driver.rest(restQuery(0))).stats).toEqual({
      startedCount: 5,
      endedCount: 4,
      staleEndedCount: 1,
      wonCount: 5,
      lostCount: 1,
      abandonedCount: 2,
      latestCompletedAtMs: T0 + 10,
      latestActivityAtMs: T0 + 50,
    });
  });

  it('deletes high scores and notices by key; the max high score id keeps every id stored or deleted', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { upserts: { highScores: [1, 2, 3].map((id) => highScoreRow(id)), notices: [noticeRow('a'), noticeRow('b')] } }));
    const result = await driver.apply(batch(2, { deletes: { highScores: [3, 2, 42], notices: ['a'] } }));
    expect(result).toEqual({ applied: true, rows: 3 });
    const rest = await driver.rest(restQuery(10));
    expect(rest.highScores.map((h) => h.id)).toEqual([1]);
    expect(rest.maxHighScoreId).toBe(42); // a deleted id was handed out all the same (as SQLite)
    expect(rest.notices.map((n) => n.id)).toEqual(['b']);
  });

  it('updates an admin session\'s expiry on conflict, deletes admin sessions by token hash, and never rewrites an audit row', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { upserts: { adminSessions: [adminSessionRow(1, T0 + 100), adminSessionRow(2, T0 + 100)], audit: [auditRow(1)] } }));
    // A refreshed session: the new expiry, the first created_at.
    const refreshed = await driver.apply(
      batch(2, { upserts: { adminSessions: [adminSessionRow(1, T0 + 500, T0 + 50)], audit: [[1, T0 + 9, 'security', 'high', 'changed', 'changed', '{}'], auditRow(2)] } }),
    );
    expect(refreshed).toEqual({ applied: true, rows: 1 + 1 }); // the replayed audit id writes nothing
    let rest = await driver.rest(restQuery(0));
    expect(rest.adminSessions.find((r) => r[0] === adminSessionRow(1)[0])).toEqual(adminSessionRow(1, T0 + 500, T0));
    expect(rest.audit).toEqual([auditRow(1), auditRow(2)]);
    const deleted = await driver.apply(batch(3, { deletes: { adminSessions: [adminSessionRow(1)[0], adminSessionRow(77)[0]] } }));
    expect(deleted).toEqual({ applied: true, rows: 1 });
    rest = await driver.rest(restQuery(0));
    expect(rest.adminSessions).toEqual([adminSessionRow(2, T0 + 100)]);
  });

  it('raises the max high score id for a deleted id even when its upsert never reached the database', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { upserts: { highScores: [highScoreRow(1)] } }));
    // Score 5 was created and deleted within one batch: only its delete arrives.
    await driver.apply(batch(2, { deletes: { highScores: [5] } }));
    expect((await driver.rest(restQuery(10))).maxHighScoreId).toBe(5);
    await driver.apply(batch(3, { deletes: { highScores: [1] } }));
    expect((await driver.rest(restQuery(10))).maxHighScoreId).toBe(5);
  });

  it('fails a batch with a bad admin session or audit row as a whole (token hash, category, details JSON)', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s0')] } }));
    const before = await snapshot(url);
    const bads = [
      batch(2, { upserts: { sessions: [sessionRow('s1')], adminSessions: [['NOT-HEX', T0, T0 + 1]] } }),
      batch(2, { upserts: { sessions: [sessionRow('s1')], adminSessions: [adminSessionRow(1, T0, T0)] } }),
      batch(2, { upserts: { sessions: [sessionRow('s1')], audit: [[1, T0, 'other' as never, 'info', 'e', 'm', '{}']] } }),
      batch(2, { upserts: { sessions: [sessionRow('s1')], audit: [[1, T0, 'security', 'info', 'e', 'm', '{broken']] } }),
    ];
    for (const bad of bads) {
      await expect(driver.apply(bad)).rejects.toMatchObject({ code: 'POSTGRES', retryable: false });
      expect(await snapshot(url)).toEqual(before);
    }
    expect(await driver.lastSeq()).toBe(1);
  });

  it('fails a batch atomically: a CHECK violation in one row leaves nothing of the batch and last_seq unchanged', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s0')] }, stats: delta({ startedCount: 1 }) }));
    const before = await snapshot(url);
    const bad = batch(2, {
      upserts: {
        sessions: [sessionRow('s1'), sessionRow('s2', { 6: -1 })], // score >= 0 violated in the second row
        artifacts: artifactRows('s1'),
        highScores: [highScoreRow(7)],
        notices: [noticeRow('n')],
      },
      stats: delta({ startedCount: 2 }),
    });
    const err = await driver.apply(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerFailure);
    expect(err).toMatchObject({ code: 'POSTGRES', retryable: false });
    expect((err as Error).message).toMatch(/^apply seq 2: 23514: /);
    expect(await snapshot(url)).toEqual(before);
    expect(await driver.lastSeq()).toBe(1);
    // The driver goes on: the next good batch with the same seq applies.
    expect((await driver.apply(batch(2, { upserts: { sessions: [sessionRow('s1')] } }))).applied).toBe(true);
  });

  it('refuses a malformed batch as BAD_BATCH without touching the database', async () => {
    const { driver } = await pg.open();
    await expect(driver.apply(batch(0))).rejects.toMatchObject({ code: 'BAD_BATCH', retryable: false });
    const short = batch(1, { upserts: { sessions: [['s1', 'active'] as never] } });
    await expect(driver.apply(short)).rejects.toMatchObject({ code: 'BAD_BATCH' });
    const oldNotice = batch(1, { upserts: { notices: [['n', 't', 'm', 'a', 'b'] as never] } });
    await expect(driver.apply(oldNotice)).rejects.toMatchObject({ code: 'BAD_BATCH' });
    await expect(driver.apply(batch(1, { upserts: { nope: [] } as never }))).rejects.toMatchObject({ code: 'BAD_BATCH' });
    expect(await driver.lastSeq()).toBe(0);
  });

  it('applies a batch of 2000 sessions and 4000 artifacts (one unnest part per table, one statement)', async () => {
    const { driver } = await pg.open();
    const ids = Array.from({ length: 2_000 }, (_, i) => `s${String(i).padStart(5, '0')}`);
    const result = await driver.apply(batch(1, { upserts: { sessions: ids.map((id) => sessionRow(id)), artifacts: ids.flatMap((id) => artifactRows(id)) } }));
    expect(result).toEqual({ applied: true, rows: 6_000 });
    expect(await driver.countStarted(T0, T0 + 1)).toBe(2_000);
  });
});
