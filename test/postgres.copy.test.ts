/**
 * The one-shot copy (workers/copy/) between databases (PostgreSQL, SQLite files): every row arrives, the
 * verification counts match, last_seq and the high-score id mark are the source's, a non-empty
 * target is refused untouched, and the npm command prints progress and never the password.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyDatabase, type CopyProgress } from '../workers/copy/copy.js';
import { openSqliteCopyEndpoint } from '../workers/sqlite/copy.js';
import type { CopyEndpoint } from '../workers/copy/endpoint.js';
import { openPostgresCopyEndpoint } from '../workers/postgres/copy.js';
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
  sql,
  usePostgres,
  idempotencyRow,
  restQuery,
} from './postgres.fixtures.js';

const pg = usePostgres();
const ROOT = join(import.meta.dirname, '..');

/**
 * Fills any endpoint's driver with the same rows: 23 sessions (8 ended), levels, high scores, keys,
 * a notice with times and one without, an expired and a valid admin session, audit rows…
 */
async function fill(driver: CopyEndpoint['driver']): Promise<void> {
  const ids = Array.from({ length: 23 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  await driver.apply(
    batch(1, {
      upserts: {
        sessions: ids.map((id, i) => (i % 3 === 0 ? endedRow(id, T0 + i) : sessionRow(id))),
        artifacts: ids.flatMap((id) => artifactRows(id, 3)),
        levels: ids.slice(0, 20).map(levelRow),
        highScores: [1, 2, 3, 4, 5].map((id) => highScoreRow(id)),
        notices: [noticeRow('n1'), noticeRow('n0', null, null)],
        adminSessions: [adminSessionRow(1, T0 + 1), adminSessionRow(2, T0 + 9_000_000)],
        audit: [auditRow(7), auditRow(8), auditRow(12)],
        settings: [settingRow('a', 1.5)],
        idempotencyKeys: [idempotencyRow('c1', 'k1'), idempotencyRow('c2', 'k1', T0 + 1)],
      },
      stats: delta({ startedCount: 23, endedCount: 8, wonCount: 8, latestCompletedAtMs: T0 + 21, latestActivityAtMs: T0 + 99 }),
    }),
  );
  await driver.apply(batch(41, { deletes: { highScores: [5] } })); // max id stays 5; last_seq 41
}

async function filledSource(): Promise<string> {
  const { driver, url } = await pg.open();
  await fill(driver);
  await driver.close();
  return url;
}

const tempDirs: string[] = [];
function sqlitePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vibefixer-copy-'));
  tempDirs.push(dir);
  return join(dir, 'vibefixer.sqlite');
}
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const options = (url: string) => ({ url, poolSize: 2, statementTimeoutMs: 10_000 });

describe('copy between databases', () => {
  it('copies every row into an empty database and verifies the counts, stats, last_seq and high-score mark', async () => {
    const from = await openPostgresCopyEndpoint(options(await filledSource()));
    const target = await pg.server().createDatabase();
    const to = await openPostgresCopyEndpoint(options(target));
    const seen: CopyProgress[] = [];
    try {
      const report = await copyDatabase(from, to, { sessionsPerBatch: 10, onProgress: (p) => seen.push(p) });
      expect(report).toEqual({
        batches: 1 + 3 + 1 + 1 + 1 + 1,
        sessions: 23,
        highScores: 4,
        lastSeq: 41,
        counts: { sessions: 23, artifacts: 69, session_levels: 20, high_scores: 4, notices: 2, settings: 1, idempotency_keys: 2, admin_sessions: 2, audit_log: 3 },
      });
      expect(seen.map((p) => p.phase)).toEqual(['start', 'sessions', 'sessions', 'sessions', 'sessions', 'highScores', 'highScores', 'verify', 'done']);
      expect(await to.exportSessionsPage(null, 100)).toEqual(await from.exportSessionsPage(null, 100));
      expect(await to.driver.rest(restQuery(100))).toEqual(await from.driver.rest(restQuery(100)));
      // The expired admin session is copied too (a copy carries every row), the audit in id order.
      const copied = await to.driver.rest(restQuery(0));
      expect(copied.adminSessions.map((r) => r[0]).sort()).toEqual([adminSessionRow(1)[0], adminSessionRow(2)[0]]);
      expect(copied.audit).toEqual([auditRow(7), auditRow(8), auditRow(12)]);
      expect(copied.notices.map((n) => [n.id, n.createdAtMs, n.updatedAtMs])).toEqual([
        ['n0', undefined, undefined],
        ['n1', T0, T0 + 5],
      ]);
      expect(await to.driver.lastSeq()).toBe(41);
      // A server started on the copy goes on numbering after the source's last batch.
      expect((await to.driver.apply(batch(41))).applied).toBe(false);
    } finally {
      await from.close();
      await to.close();
    }
  });

  it('copies a SQLite file into PostgreSQL and back into a new SQLite file, every row and mark identical', async () => {
    const firstPath = sqlitePath();
    const sqliteSource = await openSqliteCopyEndpoint(firstPath);
    await fill(sqliteSource.driver);
    const pgUrl = await pg.server().createDatabase();
    const postgres = await openPostgresCopyEndpoint(options(pgUrl));
    const back = await openSqliteCopyEndpoint(sqlitePath());
    try {
      expect(sqliteSource.schemaVersion).toBe(postgres.schemaVersion);
      const there = await copyDatabase(sqliteSource, postgres);
      const again = await copyDatabase(postgres, back);
      expect(again.counts).toEqual(there.counts);
      expect(there.counts).toEqual({ sessions: 23, artifacts: 69, session_levels: 20, high_scores: 4, notices: 2, settings: 1, idempotency_keys: 2, admin_sessions: 2, audit_log: 3 });
      const everything = restQuery(100);
      const sorted = async (e: CopyEndpoint) => {
        const rest = await e.driver.rest(everything);
        rest.adminSessions.sort((a, b) => (a[0] < b[0] ? -1 : 1));
        return rest;
      };
      const expected = await sorted(sqliteSource);
      expect(expected.adminSessions).toHaveLength(2);
      expect(expected.audit).toHaveLength(3);
      for (const e of [postgres, back]) {
        expect(await e.exportSessionsPage(null, 100)).toEqual(await sqliteSource.exportSessionsPage(null, 100));
        expect(await sorted(e)).toEqual(expected);
        expect(await e.driver.lastSeq()).toBe(41);
        expect(await e.driver.loadSessions(['s001', 's003'])).toEqual(await sqliteSource.driver.loadSessions(['s001', 's003']));
      }
    } finally {
      await Promise.all([sqliteSource.close(), postgres.close(), back.close()]);
    }
  });

  it('refuses a target that is not empty and leaves it as it was', async () => {
    const from = await openPostgresCopyEndpoint(options(await filledSource()));
    const targetUrl = await filledSource();
    const to = await openPostgresCopyEndpoint(options(targetUrl));
    const before = await sql(targetUrl, 'SELECT * FROM sessions ORDER BY id');
    try {
      await expect(copyDatabase(from, to)).rejects.toThrow(/^copy: the target \(postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+\) is not empty/);
      expect(await sql(targetUrl, 'SELECT * FROM sessions ORDER BY id')).toEqual(before);
    } finally {
      await from.close();
      await to.close();
    }
  });

  it('runs as a command (PostgreSQL to PostgreSQL, and to a SQLite file): progress on stderr, the verified report on stdout, no password anywhere, exit 0', async () => {
    const source = await filledSource();
    const target = await pg.server().createDatabase();
    const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'workers', 'copy', 'main.js'), '--from', source, '--to', target], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ event: 'copy_verified', sessions: 23, lastSeq: 41 });
    expect(run.stderr).toMatch(/^copying postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+ -> postgres:\/\/postgres@/);
    expect(run.stderr).toContain('done: 23 sessions, 4 high scores, 6 batches');
    expect(run.stdout + run.stderr).not.toContain('vibefixer-test');

    const toFile = spawnSync(process.execPath, [join(ROOT, 'dist', 'workers', 'copy', 'main.js'), '--from', source, '--to', `sqlite:${sqlitePath()}`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(toFile.status, toFile.stderr).toBe(0);
    expect(JSON.parse(toFile.stdout)).toMatchObject({ event: 'copy_verified', sessions: 23, lastSeq: 41 });

    const bad = spawnSync(process.execPath, [join(ROOT, 'dist', 'workers', 'copy', 'main.js'), '--from', source], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('usage: npm run copy-db -- --from');
  });
});
