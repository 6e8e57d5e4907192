/**
 * Which storage the servers of this test run use, chosen by the vitest project
 * (vitest.config.ts): `sqlite` (the default, every file) or `postgres` (the storage suites again,
 * on the real PostgreSQL that test/setup/postgres.global.ts started for the run).
 *
 * Tests name their database the SQLite way, by a file path in their own temporary directory
 * (VIBEFIXER_DB_PATH). On the postgres project that path stands for one database of its own on
 * the shared server, created on first use: the same path is the same database again (a restart
 * test finds its rows), a new path is a new, empty database (tests never share rows).
 *
 * Never: fall back to SQLite silently on the postgres project (a missing PostgreSQL fails the
 * test), or hand two test paths the same database.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, inject } from 'vitest';
import type { StorageOptions } from '../../src/model/protocol.js';

export type TestStorage = 'sqlite' | 'postgres';

export const TEST_STORAGE: TestStorage = process.env.VIBEFIXER_TEST_STORAGE === 'postgres' ? 'postgres' : 'sqlite';
export const onPostgres = TEST_STORAGE === 'postgres';

/** For a guarantee of the SQLite file itself (its bytes, its lock, quarantine): skipped on the postgres project. */
export const describeOnSqlite = describe.skipIf(onPostgres);

const created = new Map<string, Promise<string>>();

function adminUrl(): string {
  const url = inject('postgresAdminUrl');
  if (typeof url !== 'string' || url === '') throw new Error('the postgres test project has no server: test/setup/postgres.global.ts did not run');
  return url;
}

/** The PostgreSQL database a test's VIBEFIXER_DB_PATH stands for (created once); resolves with its URL. */
export function databaseFor(dbPath: string): Promise<string> {
  let url = created.get(dbPath);
  if (url === undefined) {
    url = createDatabase(`vf_${createHash('sha256').update(dbPath).digest('hex').slice(0, 24)}`);
    created.set(dbPath, url);
  }
  return url;
}

async function createDatabase(name: string): Promise<string> {
  const admin = adminUrl();
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} STRATEGY FILE_COPY`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A server's environment on this run's storage: unchanged on SQLite; on PostgreSQL, a
 * VIBEFIXER_DB_PATH (and no explicit VIBEFIXER_STORAGE) becomes VIBEFIXER_STORAGE=postgres and the
 * URL of the database that path stands for. The path stays: the server ignores it on PostgreSQL.
 */
export async function storageEnv(env: Record<string, string>): Promise<Record<string, string>> {
  const dbPath = env.VIBEFIXER_DB_PATH;
  if (!onPostgres || dbPath === undefined || env.VIBEFIXER_STORAGE !== undefined) return env;
  return { ...env, VIBEFIXER_STORAGE: 'postgres', VIBEFIXER_PG_URL: await databaseFor(dbPath) };
}

/** The persistence worker's storage for a test database (to seed it through the worker before a server starts). */
export async function workerStorage(dbPath: string): Promise<StorageOptions> {
  if (!onPostgres) return { driver: 'sqlite', dbPath, synchronous: 'NORMAL' };
  return { driver: 'postgres', url: await databaseFor(dbPath), poolSize: 1, statementTimeoutMs: 5_000 };
}

/**
 * Plain SQL on a test database, as an operator's tool would run it (`sqlite3` or `psql`): the
 * schemas of both drivers have the same tables and columns. Placeholders are written `?` and
 * become `$1, $2, …` on PostgreSQL. The server must not be running on a SQLite file meanwhile.
 */
export interface OperatorSql {
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

export async function operatorSql(dbPath: string): Promise<OperatorSql> {
  if (!onPostgres) {
    const db = new Database(dbPath);
    return {
      all: async <T>(sql: string, params: unknown[] = []) => db.prepare(sql).all(...params) as T[],
      run: async (sql, params = []) => void db.prepare(sql).run(...params),
      close: async () => void db.close(),
    };
  }
  const client = new pg.Client({ connectionString: await databaseFor(dbPath) });
  await client.connect();
  let n = 0;
  const numbered = (sql: string) => sql.replace(/\?/g, () => `$${++n}`);
  const query = (sql: string, params: unknown[]) => {
    n = 0;
    return client.query(numbered(sql), params);
  };
  return {
    all: async <T>(sql: string, params: unknown[] = []) => (await query(sql, params)).rows as T[],
    run: async (sql, params = []) => void (await query(sql, params)),
    close: () => client.end(),
  };
}
