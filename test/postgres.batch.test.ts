/**
 * The one-statement apply (workers/postgres/batch-sql.ts) keeps every guarantee of a batch: a
 * replayed seq writes nothing (counters not counted twice, even when two connections race with
 * the same seq), a constraint violation anywhere leaves nothing applied, any subset of tables
 * (down to none) applies on its own, and a key upserted and deleted in one batch ends deleted.
 */
import { describe, expect, it } from 'vitest';
import type { WireBatch } from '../src/model/rows.js';
import {
  T0,
  adminSessionRow,
  artifactRows,
  auditRow,
  batch,
  delta,
  highScoreRow,
  everyPartBatch,
  noticeRow,
  restQuery,
  sessionRow,
  settingRow,
  snapshot,
  sql,
  usePostgres,
} from './postgres.fixtures.js';

const pg = usePostgres();

describe('postgres one-statement apply', () => {
  it('applies a batch of every table: each part written, the previous keys deleted, counters added', async () => {
    const { driver, url } = await pg.open();
    expect(await driver.apply(everyPartBatch(1, 1))).toEqual({ applied: true, rows: 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 });
    // Deletes of the previous batch's keys: 3 rows more.
    expect(await driver.apply(everyPartBatch(2, 2))).toEqual({ applied: true, rows: 12 + 3 });
    const rest = await driver.rest(restQuery(10));
    expect(rest.highScores.map((h) => h.id)).toEqual([2]);
    expect(rest.maxHighScoreId).toBe(2);
    expect(rest.notices.map((x) => x.id)).toEqual(['n2']);
    expect(rest.adminSessions).toEqual([adminSessionRow(2)]);
    expect(rest.settings.map((x) => x.key)).toEqual(['k1', 'k2']);
    expect(rest.audit).toEqual([auditRow(1), auditRow(2)]);
    expect(rest.idempotencyKeys.map((r) => r[1]).sort()).toEqual(['k1', 'k2']);
    expect(rest.stats).toMatchObject({ startedCount: 4, wonCount: 2, latestActivityAtMs: T0 + 2 });
    expect(await sql(url, 'SELECT session_id FROM session_levels ORDER BY 1')).toEqual([{ session_id: 's1' }, { session_id: 's2' }]);
    expect(await driver.countStarted(T0, T0 + 1)).toBe(4);
    expect(await driver.lastSeq()).toBe(2);
  });

  it('applies a batch with only some tables present, or none, and touches nothing else', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(everyPartBatch(1, 1));
    let before = await snapshot(url);
    // No parts at all: only last_seq moves.
    expect(await driver.apply(batch(2))).toEqual({ applied: true, rows: 0 });
    let after = await snapshot(url);
    expect(after.meta).toEqual([{ key: 'last_seq', value: 2 }, { key: 'max_high_score_id', value: 1 }]);
    expect({ ...after, meta: before.meta }).toEqual(before);

    const shapes: [WireBatch, string[]][] = [
      [batch(3, { stats: delta({ lostCount: 1 }) }), ['stats']],
      [batch(4, { upserts: { settings: [settingRow('k1', 9)] } }), ['settings']],
      [batch(5, { deletes: { notices: ['n1'] } }), ['notices']],
      [batch(6, { upserts: { artifacts: [['s1', 0, 'artifact_0', 1, 2, 'deposited', T0, T0 + 9]] }, stats: delta({ endedCount: 1 }) }), ['artifacts', 'stats']],
      [batch(7, { deletes: { highScores: [50] } }), ['high_scores']], // nothing to delete: only the mark moves
    ];
    for (const [b, changed] of shapes) {
      before = await snapshot(url);
      expect((await driver.apply(b)).applied).toBe(true);
      after = await snapshot(url);
      for (const t of Object.keys(before)) {
        if (t === 'meta' || changed.includes(t)) continue;
        expect(after[t], `seq ${b.seq}: ${t}`).toEqual(before[t]);
      }
      expect(await driver.lastSeq()).toBe(b.seq);
    }
    const rest = await driver.rest(restQuery(10));
    expect(rest.stats).toMatchObject({ startedCount: 2, endedCount: 1, lostCount: 1, wonCount: 1 });
    expect(rest.settings.find((s) => s.key === 'k1')?.value).toBe(9);
    expect(rest.notices).toEqual([]);
    expect(rest.maxHighScoreId).toBe(50);
  });

  it('writes nothing for a replayed seq of a batch of every table: counters are not counted twice', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(everyPartBatch(1, 1));
    await driver.apply(everyPartBatch(2, 2));
    const before = await snapshot(url);
    for (const seq of [2, 1]) {
      expect(await driver.apply(everyPartBatch(seq, 3))).toEqual({ applied: false, rows: 0 });
      expect(await driver.apply(everyPartBatch(seq, 2))).toEqual({ applied: false, rows: 0 });
    }
    expect(await snapshot(url)).toEqual(before);
    expect((await driver.rest(restQuery(0))).stats).toMatchObject({ startedCount: 4, wonCount: 2 });
  });

  it('applies a seq raced by two connections exactly once', async () => {
    const { driver, url } = await pg.open();
    const other = (await pg.open(url)).driver;
    await driver.apply(batch(1, { stats: delta({ startedCount: 1 }) }));
    for (let seq = 2; seq <= 11; seq++) {
      const b = batch(seq, { upserts: { sessions: [sessionRow(`s${seq}`)] }, stats: delta({ startedCount: 1, latestActivityAtMs: T0 + seq }) });
      const results = await Promise.all([driver.apply(b), other.apply(b), driver.apply(b)]);
      expect(results.filter((r) => r.applied)).toHaveLength(1);
    }
    expect(await driver.lastSeq()).toBe(11);
    expect((await driver.rest(restQuery(0))).stats).toMatchObject({ startedCount: 11, latestActivityAtMs: T0 + 11 });
  });

  it('leaves nothing of a batch of every table when its last part, the counters, or one audit row violates a CHECK', async () => {
    const { driver, url } = await pg.open();
    await driver.apply(everyPartBatch(1, 1));
    const before = await snapshot(url);
    const bads = [
      everyPartBatch(2, 2, {}, delta({ startedCount: 1, endedCount: -5 })), // ended_count >= 0
      everyPartBatch(2, 2, { audit: [auditRow(2), [3, T0, 'security', 'info', '', 'm', '{}']] }), // event_type length
      everyPartBatch(2, 2, { artifacts: [...artifactRows('s2'), ['s2', -1, 'a', 0, 0, 'ground', T0, T0]] }), // idx >= 0
    ];
    for (const bad of bads) {
      const err = await driver.apply(bad).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'POSTGRES', retryable: false });
      expect((err as Error).message).toMatch(/^apply seq 2: 23514: /);
      expect(await snapshot(url)).toEqual(before);
    }
    // The same seq, fixed, applies.
    expect((await driver.apply(everyPartBatch(2, 2))).applied).toBe(true);
  });

  it('leaves a key upserted and deleted in one batch deleted, as an upsert followed by a delete would', async () => {
    const { driver } = await pg.open();
    await driver.apply(batch(1, { upserts: { notices: [noticeRow('old')], adminSessions: [adminSessionRow(1)], highScores: [highScoreRow(1)] } }));
    const result = await driver.apply(
      batch(2, {
        upserts: {
          notices: [noticeRow('old'), noticeRow('new'), noticeRow('kept')],
          adminSessions: [adminSessionRow(1), adminSessionRow(2)],
          highScores: [highScoreRow(1), highScoreRow(2)],
        },
        deletes: { notices: ['old', 'new'], adminSessions: [adminSessionRow(1)[0], adminSessionRow(2)[0]], highScores: [1, 2] },
      }),
    );
    // Only 'kept' is written; the three stored rows are deleted.
    expect(result).toEqual({ applied: true, rows: 1 + 3 });
    const rest = await driver.rest(restQuery(10));
    expect(rest.notices.map((x) => x.id)).toEqual(['kept']);
    expect(rest.adminSessions).toEqual([]);
    expect(rest.highScores).toEqual([]);
    expect(rest.maxHighScoreId).toBe(2);
  });
});
