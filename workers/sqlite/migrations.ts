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
  {
    version: 7,
    description: 'admin console: admin sessions (by token hash), the audit log, notice creation and update times',
    up(db) {
      db.exec(`
        CREATE TABLE admin_sessions (
          token_hash TEXT PRIMARY KEY CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL CHECK (expires_at > created_at)
        ) WITHOUT ROWID;
        CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);
        CREATE TABLE audit_log (
          id INTEGER PRIMARY KEY,
          at INTEGER NOT NULL,
          category TEXT NOT NULL CHECK (category IN ('security', 'gameplay')),
          severity TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high')),
          event_type TEXT NOT NULL CHECK (length(event_type) BETWEEN 1 AND 64),
          message TEXT NOT NULL,
          details TEXT NOT NULL CHECK (json_valid(details))
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        ALTER TABLE notices ADD COLUMN created_at INTEGER;
        ALTER TABLE notices ADD COLUMN updated_at INTEGER;
      `);
    },
  },
  {
    version: 8,
    description: 'high scores: remainingUnchecked is any number from 0 to 9999 (CONTRACT accepts 2.5), not an integer',
    // Version 5 declared the column INTEGER; SQLite's type affinity kept 2.5 as a REAL anyway, so no
    // value changes here: the declared type now says what is stored, as PostgreSQL's version 8 does
    // (the two drivers share schema numbers: the copy command needs them equal). SQLite cannot
    // change a column's type in place: the table is rebuilt, its rows copied as they are.
    up(db) {
      db.exec(`
        CREATE TABLE high_scores_v8 (
          id INTEGER PRIMARY KEY,
          created_at INTEGER NOT NULL,
          player_tag TEXT NOT NULL,
          result TEXT NOT NULL CHECK (result IN ('won', 'lost')),
          remaining_unchecked REAL NOT NULL CHECK (remaining_unchecked >= 0)
        );
        INSERT INTO high_scores_v8 (id, created_at, player_tag, result, remaining_unchecked)
          SELECT id, created_at, player_tag, result, remaining_unchecked FROM high_scores;
        DROP TABLE high_scores;
        ALTER TABLE high_scores_v8 RENAME TO high_scores;
        CREATE INDEX high_scores_created_at ON high_scores (created_at, id);
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
