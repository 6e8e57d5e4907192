/**
 * Opening the PostgreSQL driver: migrations from an empty database, a second open that finds the
 * schema current, two servers opening at once, refusal of a newer schema with the database left
 * untouched, an unreachable server, and a location that never shows the password.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WorkerFailure } from '../workers/failure.js';
import pg_ from 'pg';
import type { PoolClient } from 'pg';
import { LATEST_PG_SCHEMA_VERSION, PG_MIGRATIONS, migrate } from '../workers/postgres/migrations.js';
import { openPostgres, safeLocation } from '../workers/postgres/open.js';
import { T0, adminSessionRow, auditRow, batch, highScoreRow, noticeRow, restQuery, sessionRow, sql, tokenHash, usePostgres } from './postgres.fixtures.js';

const pg = usePostgres();

const TABLES = ['admin_sessions', 'artifacts', 'audit_log', 'idempotency_keys', 'meta', 'notices', 'session_levels', 'sessions', 'settings', 'stats', 'high_scores', 'vibefixer_schema'].sort();

async function tablesOf(url: string): Promise<string[]> {
  const rows = await sql<{ t: string }>(url, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  return rows.map((r) => r.t);
}

/** A port with nothing listening on it (bound, then closed). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('openPostgres', () => {
  it('migrates an empty database to the latest schema and says so', async () => {
    const url = await pg.server().createDatabase();
    expect(await tablesOf(url)).toEqual([]);
    const opened = await pg.open(url);
    expect(opened).toMatchObject({ created: true, migratedFrom: 0, schemaVersion: LATEST_PG_SCHEMA_VERSION, quarantinedTo: null, quarantineReason: null });
    expect(LATEST_PG_SCHEMA_VERSION).toBe(8);
    expect(await tablesOf(url)).toEqual(TABLES);
    expect(await sql(url, 'SELECT version, description FROM vibefixer_schema')).toEqual(
      PG_MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
    );
    expect(await sql(url, 'SELECT key, value::float8 AS value FROM meta ORDER BY key')).toEqual([
      { key: 'last_seq', value: 0 },
      { key: 'max_high_score_id', value: 0 },
    ]);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM stats')).toEqual([{ n: 1 }]);
    expect(await opened.driver.lastSeq()).toBe(0);
  });

  it('opens a current database without migrating and keeps its data', async () => {
    const first = await pg.open();
    await first.driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] } }));
    await first.driver.close();
    const again = await pg.open(first.url);
    expect(again).toMatchObject({ created: false, migratedFrom: 8, schemaVersion: 8 });
    expect(await again.driver.lastSeq()).toBe(1);
    expect((await sql(first.url, 'SELECT count(*)::int AS n FROM vibefixer_schema'))[0]).toEqual({ n: 4 });
  });

  it('migrates once when several servers open the same empty database at once (advisory lock)', async () => {
    const url = await pg.server().createDatabase();
    const all = await Promise.all([1, 2, 3].map(() => pg.open(url)));
    expect(all.map((o) => o.migratedFrom).sort()).toEqual([0, 8, 8]);
    expect(all.map((o) => o.created).sort()).toEqual([false, false, true]);
    expect(await sql(url, 'SELECT version FROM vibefixer_schema ORDER BY 1')).toEqual([{ version: 5 }, { version: 6 }, { version: 7 }, { version: 8 }]);
    expect(await tablesOf(url)).toEqual(TABLES);
  });

  it('refuses a database whose schema is newer with SCHEMA_TOO_NEW and changes nothing in it', async () => {
    const opened = await pg.open();
    await opened.driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] } }));
    await opened.driver.close();
    await sql(opened.url, "INSERT INTO vibefixer_schema (version, description) VALUES (9, 'from the future')");
    const dump = async () => ({
      tables: await tablesOf(opened.url),
      schema: await sql(opened.url, 'SELECT version, description, applied_at FROM vibefixer_schema ORDER BY version'),
      meta: await sql(opened.url, 'SELECT * FROM meta ORDER BY key'),
      sessions: await sql(opened.url, 'SELECT * FROM sessions'),
      stats: await sql(opened.url, 'SELECT * FROM stats'),
    });
    const before = await dump();
    const err = await openPostgres({ url: opened.url, poolSize: 2, statementTimeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerFailure);
    expect(err).toMatchObject({ code: 'SCHEMA_TOO_NEW', retryable: false });
    expect((err as Error).message).toContain('has schema version 9 but this server knows up to 8');
    expect((err as Error).message).not.toContain('vibefixer-test'); // the password
    expect(await dump()).toEqual(before);
  });

  it('reopens a current database without migrating, and refuses to create or migrate one on reopen (NOT_OPEN)', async () => {
    const empty = await pg.server().createDatabase();
    await expect(openPostgres({ url: empty, poolSize: 1, statementTimeoutMs: 5_000 }, true)).rejects.toMatchObject({
      code: 'NOT_OPEN',
      message: expect.stringContaining('is at schema version 0, not 8; not migrating during a reopen'),
    });
    expect(await tablesOf(empty)).toEqual([]);
    const current = await pg.open();
    const reopened = await openPostgres({ url: current.url, poolSize: 1, statementTimeoutMs: 5_000 }, true);
    expect(reopened).toMatchObject({ created: false, migratedFrom: 8 });
    await reopened.driver.close();
  });

  it('migrates a schema 6 database to the latest: its rows kept, old notices without times, the new tables empty and checked', async () => {
    const url = await pg.server().createDatabase();
    const client = new pg_.Client({ connectionString: url });
    await client.connect();
    try {
      expect(await migrate(client as unknown as PoolClient, 'test', 6)).toBe(0);
    } finally {
      await client.end();
    }
    expect(await tablesOf(url)).toEqual(TABLES.filter((t) => t !== 'admin_sessions' && t !== 'audit_log'));
    await sql(url, "INSERT INTO notices VALUES ('old', 'Old', 'kept', '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z')");
    await sql(url, "INSERT INTO sessions VALUES ('s1', 'active', 'seed', 1, 60, 100, 0, 0, 0, NULL, NULL, NULL)");
    await sql(url, "UPDATE meta SET value = 3 WHERE key = 'last_seq'");

    const opened = await pg.open(url);
    expect(opened).toMatchObject({ created: false, migratedFrom: 6, schemaVersion: LATEST_PG_SCHEMA_VERSION });
    expect(await tablesOf(url)).toEqual(TABLES);
    expect(await opened.driver.lastSeq()).toBe(3);
    expect(await opened.driver.activeSessionsPage(null, 10)).toEqual([['s1', 1, 60]]);
    const rest = await opened.driver.rest(restQuery(10));
    expect(rest.notices).toEqual([{ id: 'old', title: 'Old', message: 'kept', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-02-01T00:00:00.000Z' }]);
    expect(rest.adminSessions).toEqual([]);
    expect(rest.audit).toEqual([]);

    // An admin edit of the old notice sets its times; the new tables take rows and check them.
    await opened.driver.apply(batch(4, { upserts: { notices: [noticeRow('old', T0, T0 + 1)], adminSessions: [adminSessionRow(1)], audit: [auditRow(1)] } }));
    expect((await opened.driver.rest(restQuery(10))).notices[0]).toMatchObject({ id: 'old', createdAtMs: T0, updatedAtMs: T0 + 1 });
    const refused = [
      () => sql(url, `INSERT INTO admin_sessions VALUES ('${tokenHash(2).toUpperCase().replace(/0/g, 'A')}', 1, 2)`),
      () => sql(url, `INSERT INTO admin_sessions VALUES ('${tokenHash(3).slice(1)}', 1, 2)`),
      () => sql(url, `INSERT INTO admin_sessions VALUES ('${tokenHash(4)}', 2, 2)`),
      () => sql(url, `INSERT INTO audit_log VALUES (9, 1, 'other', 'info', 'e', 'm', '{}')`),
      () => sql(url, `INSERT INTO audit_log VALUES (9, 1, 'security', 'critical', 'e', 'm', '{}')`),
      () => sql(url, `INSERT INTO audit_log VALUES (9, 1, 'security', 'info', '', 'm', '{}')`),
      () => sql(url, `INSERT INTO audit_log VALUES (9, 1, 'security', 'info', '${'e'.repeat(65)}', 'm', '{}')`),
      () => sql(url, `INSERT INTO audit_log VALUES (9, 1, 'security', 'info', 'e', 'm', '{not json')`),
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toThrow();
    expect(await sql(url, 'SELECT count(*)::int AS n FROM audit_log')).toEqual([{ n: 1 }]);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM admin_sessions')).toEqual([{ n: 1 }]);
    expect(await sql(url, "SELECT indexname FROM pg_indexes WHERE indexname IN ('admin_sessions_expires_at', 'audit_log_at') ORDER BY 1")).toEqual([
      { indexname: 'admin_sessions_expires_at' },
      { indexname: 'audit_log_at' },
    ]);
  });

  it('migrates a schema 7 database to 8: whole high scores kept, and a fractional remainingUnchecked (2.5) stored and read back', async () => {
    const url = await pg.server().createDatabase();
    const client = new pg_.Client({ connectionString: url });
    await client.connect();
    try {
      expect(await migrate(client as unknown as PoolClient, 'test', 7)).toBe(0);
    } finally {
      await client.end();
    }
    await sql(url, "INSERT INTO high_scores VALUES (1, 1000, 'old', 'won', 3)");

    const opened = await pg.open(url);
    expect(opened).toMatchObject({ created: false, migratedFrom: 7, schemaVersion: 8 });
    const [id, createdAtMs, tag, result] = highScoreRow(5);
    await opened.driver.apply(batch(1, { upserts: { highScores: [[id, createdAtMs, tag, result, 2.5]] } }));
    expect((await opened.driver.rest(restQuery(10))).highScores).toEqual([
      expect.objectContaining({ id: 5, remainingUnchecked: 2.5 }),
      expect.objectContaining({ id: 1, remainingUnchecked: 3 }),
    ]);
    await expect(sql(url, "INSERT INTO high_scores VALUES (6, 1, 'neg', 'won', -0.5)")).rejects.toThrow();
  });

  it('migrates a database from every older schema version to the latest, keeping its rows and reporting the version it found', async () => {
    const first = PG_MIGRATIONS[0].version;
    for (let version = first; version < LATEST_PG_SCHEMA_VERSION; version++) {
      const url = await pg.server().createDatabase();
      const client = new pg_.Client({ connectionString: url });
      await client.connect();
      try {
        expect(await migrate(client as unknown as PoolClient, 'test', version)).toBe(0);
      } finally {
        await client.end();
      }
      await sql(url, "INSERT INTO sessions VALUES ('s1', 'active', 'seed', 1, 60, 100, 0, 0, 0, NULL, NULL, NULL)");
      await sql(url, "INSERT INTO high_scores VALUES (1, 1000, 'old', 'won', 3)");
      await sql(url, "UPDATE meta SET value = 3 WHERE key = 'last_seq'");

      const opened = await pg.open(url);
      expect(opened, `from version ${version}`).toMatchObject({ created: false, migratedFrom: version, schemaVersion: LATEST_PG_SCHEMA_VERSION });
      expect(await opened.driver.lastSeq()).toBe(3);
      expect(await opened.driver.activeSessionsPage(null, 10)).toEqual([['s1', 1, 60]]);
      expect((await opened.driver.rest(restQuery(10))).highScores).toEqual([expect.objectContaining({ id: 1, remainingUnchecked: 3 })]);
      await opened.driver.apply(batch(4, { upserts: { sessions: [sessionRow('s2')] } }));
      expect(await opened.driver.lastSeq()).toBe(4);
      await opened.driver.close();
    }
  });

  it('answers UNAVAILABLE (retryable) when nothing listens at the URL', async () => {
    const port = await deadPort();
    const err = await openPostgres({ url: `postgres://u:secret@127.0.0.1:${port}/x`, poolSize: 1, statementTimeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((err as Error).message).toMatch(new RegExp(`^open postgres://u@127\\.0\\.0\\.1:${port}/x: ECONNREFUSED`));
    expect((err as Error).message).not.toContain('secret');
  });

  it('answers POSTGRES (not retryable) for a wrong password or a missing database', async () => {
    const url = new URL(pg.server().url);
    url.password = 'wrong';
    await expect(openPostgres({ url: url.toString(), poolSize: 1, statementTimeoutMs: 1_000 })).rejects.toMatchObject({ code: 'POSTGRES', retryable: false, message: expect.stringContaining('28P01') });
    const missing = new URL(pg.server().url);
    missing.pathname = '/no_such_db';
    await expect(openPostgres({ url: missing.toString(), poolSize: 1, statementTimeoutMs: 1_000 })).rejects.toMatchObject({ code: 'POSTGRES', message: expect.stringContaining('3D000') });
  });

  it('refuses bad options by name before connecting', async () => {
    const ok = { url: 'postgres://127.0.0.1:1/x', poolSize: 1, statementTimeoutMs: 1 };
    await expect(openPostgres({ ...ok, url: 'mysql://x' })).rejects.toThrow('openPostgres: url must start with postgres:// or postgresql://');
    await expect(openPostgres({ ...ok, poolSize: 0 })).rejects.toThrow('openPostgres: poolSize must be an integer in 1..1000, got 0');
    await expect(openPostgres({ ...ok, statementTimeoutMs: 1.5 })).rejects.toThrow('openPostgres: statementTimeoutMs must be a positive integer, got 1.5');
  });

  it('shows a location without the password', () => {
    expect(safeLocation('postgres://app:s3cret@db.example:5433/game?sslmode=require')).toBe('postgres://app@db.example:5433/game?sslmode=require');
    expect(safeLocation('postgresql://db/game?password=s3cret&x=1')).toBe('postgresql://db/game?x=1');
    expect(safeLocation('not a url s3cret')).not.toContain('s3cret');
  });
});
