/**
 * Numbered schema migrations. The schema version lives in `PRAGMA user_version`; migration N
 * takes a database at version N-1 to version N inside one transaction, so a crash leaves the
 * file at N-1 or N, never between.
 *
 * Never: edit or reorder a migration that has shipped (add a new one), run a migration outside
 * its transaction, or open a file whose version is newer than `LATEST_SCHEMA_VERSION`
 * (open.ts refuses those before calling `migrate`).
 *
 * Schema 1–4 stored each entity as one msgpack document (a BLOB). Schema 5 (typed-rows.ts) keeps
 * what a change touches as its own row with typed columns; migration 5 converts every document.
 */
import type Database from 'better-sqlite3';
import { decode } from '../../src/model/protocol.js';
import { toTypedRows } from './typed-rows.js';

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'tables',
    up(db) {
      db.exec(`
        CREATE TABLE meta (
          key TEXT PRIMARY KEY,
          value INTEGER NOT NULL
        );
        INSERT INTO meta (key, value) VALUES ('last_seq', 0);
        CREATE TABLE sessions (
          id TEXT PRIMARY KEY,
          status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
          started_at INTEGER NOT NULL,
          ended_at INTEGER,
          result TEXT,
          data BLOB NOT NULL
        );
        CREATE TABLE session_levels (
          id TEXT PRIMARY KEY,
          data BLOB NOT NULL
        );
        CREATE TABLE stats (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          data BLOB NOT NULL
        );
        CREATE TABLE high_scores (
          id INTEGER PRIMARY KEY,
          created_at INTEGER NOT NULL,
          data BLOB NOT NULL
        );
        CREATE TABLE notices (
          id TEXT PRIMARY KEY,
          valid_from TEXT NOT NULL,
          valid_to TEXT NOT NULL,
          data BLOB NOT NULL
        );
        CREATE TABLE settings (
          key TEXT PRIMARY KEY,
          data BLOB NOT NULL
        );
      `);
    },
  },
  {
    version: 2,
    description: 'indexes for reload, retention and sessionsToday; high-score id high-water mark',
    up(db) {
      db.exec(`
        CREATE INDEX sessions_active ON sessions (id) WHERE status = 'active';
        CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE status = 'ended';
        CREATE INDEX sessions_started_at ON sessions (started_at);
        CREATE INDEX high_scores_created_at ON high_scores (created_at, id);
        INSERT INTO meta (key, value)
          SELECT 'max_high_score_id', coalesce(max(id), 0) FROM high_scores;
      `);
    },
  },
  {
    version: 3,
    description: 'sessions.duration_seconds, so reload can schedule the stale sweep without decoding rows',
    up(db) {
      db.exec('ALTER TABLE sessions ADD COLUMN duration_seconds REAL NOT NULL DEFAULT 0');
      const rows = db.prepare<[], [string, Buffer]>("SELECT id, data FROM sessions WHERE status = 'active'").raw().all();
      const set = db.prepare<[number, string]>('UPDATE sessions SET duration_seconds = ? WHERE id = ?');
      for (const [id, data] of rows) {
        try {
          const duration = decode<{ durationSeconds?: unknown }>(data).durationSeconds;
          if (typeof duration === 'number') set.run(duration, id);
        } catch {
          // An undecodable row keeps 0; reload skips it as before.
        }
      }
    },
  },
  {
    version: 4,
    description: 'reload reads a covering index of active sessions; the record check reads them in rowid order',
    up(db) {
      db.exec(`
        CREATE INDEX sessions_active_schedule ON sessions (status, id, started_at, duration_seconds) WHERE status = 'active';
        CREATE INDEX sessions_active_rowid ON sessions (status) WHERE status = 'active';
        DROP INDEX sessions_active;
      `);
    },
  },
  {
    version: 5,
    description: 'typed rows: session headers, one row per artifact, levels, counter columns (documents converted)',
    up: toTypedRows,
  },
  {
    version: 6,
    description: 'idempotency keys: the answers of writes that carried one, per client, for safe retries',
    up(db) {
      db.exec(`
        CREATE TABLE idempotency_keys (
          client TEXT NOT NULL,
          key TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          status INTEGER NOT NULL CHECK (status BETWEEN 200 AND 299),
          body TEXT NOT NULL,
          seq INTEGER NOT NULL CHECK (seq >= 1),
          created_at INTEGER NOT NULL,
          PRIMARY KEY (client, key)
        );
        CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
      `);
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Run every migration above the file's version up to `target` (default: latest), each in its
 * own transaction that also bumps user_version. Returns the version found before migrating.
 * `target` exists so tests can build a database as an older release left it.
 */
export function migrate(db: Database.Database, target = LATEST_SCHEMA_VERSION): number {
  const from = schemaVersionOf(db);
  for (const migration of MIGRATIONS) {
    if (migration.version <= from || migration.version > target) continue;
    db.transaction(() => {
      migration.up(db);
      // user_version cannot take a bound parameter; the value is a trusted integer.
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return from;
}
