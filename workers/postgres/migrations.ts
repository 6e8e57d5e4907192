/**
 * Numbered PostgreSQL migrations, mirroring SCHEMA-V5.md and the SQLite migrations after it. The version lives in the table
 * `vibefixer_schema` (one row per applied migration); migration N takes the database from the
 * previous entry to N in ONE transaction, and the whole run holds an advisory lock, so two servers
 * starting at once migrate once, one waiting for the other, and a crash leaves N-1 or N.
 *
 * PostgreSQL has no history before schema 5: its first migration IS version 5, and every later
 * version mirrors the SQLite migration of the same number, so both drivers report the same number
 * for the same tables (the copy command relies on it).
 *
 * Types: every SQLite INTEGER is a BIGINT here (SQLite's are 64-bit: a value SQLite accepts must
 * not fail here, or a copy between the two would), positions and durations double precision. Text keys use COLLATE "C":
 * byte order, as SQLite's BINARY, so pages `ORDER BY id` / `id > $after` walk the same order on
 * both drivers and never depend on the database's locale.
 *
 * Never: edit or reorder a shipped migration (append one), run one outside its transaction and
 * lock, or write anything to a database whose version is newer than LATEST_PG_SCHEMA_VERSION.
 */
import type { PoolClient } from 'pg';
import { WorkerFailure } from './errors.js';

export interface PgMigration {
  version: number;
  description: string;
  sql: string;
}

/** pg_advisory_lock key of schema migrations (any constant every server agrees on). */
export const MIGRATION_LOCK_KEY = 0x76_69_62_65; // 'vibe'

export const VERSION_TABLE = 'vibefixer_schema';

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 5,
    description: 'schema 5: typed rows (sessions, artifacts, levels, stats, high scores, notices, settings)',
    sql: `
      CREATE TABLE meta (
        key TEXT COLLATE "C" PRIMARY KEY,
        value BIGINT NOT NULL
      );
      INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('max_high_score_id', 0);

      CREATE TABLE sessions (
        id TEXT COLLATE "C" PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
        seed TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        duration_seconds DOUBLE PRECISION NOT NULL CHECK (duration_seconds > 0),
        player_speed_percent DOUBLE PRECISION NOT NULL,
        score BIGINT NOT NULL CHECK (score >= 0),
        remaining_artifact_count BIGINT NOT NULL CHECK (remaining_artifact_count >= 0),
        artifact_count BIGINT NOT NULL CHECK (artifact_count >= 0),
        ended_at BIGINT,
        end_reason TEXT CHECK (end_reason IN ('ended', 'stale')),
        result TEXT CHECK (result IN ('won', 'lost')),
        CHECK ((status = 'active') = (ended_at IS NULL))
      );
      CREATE INDEX sessions_active_schedule ON sessions (status, id, started_at, duration_seconds)
        WHERE status = 'active';
      CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE status = 'ended';
      CREATE INDEX sessions_started_at ON sessions (started_at);

      CREATE TABLE artifacts (
        session_id TEXT COLLATE "C" NOT NULL,
        idx BIGINT NOT NULL CHECK (idx >= 0),
        id TEXT NOT NULL,
        x DOUBLE PRECISION NOT NULL,
        y DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ground', 'inAir', 'flying', 'deposited', 'carried')),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (session_id, idx)
      );

      -- One row per level, written once. terrain is the JSON array the create answer sends, as TEXT
      -- with a JSON check (SQLite: json_valid and json_type), not jsonb: jsonb reorders keys, and
      -- the level must read back (and copy) byte for byte.
      CREATE TABLE session_levels (
        session_id TEXT COLLATE "C" PRIMARY KEY,
        trash_x DOUBLE PRECISION NOT NULL,
        trash_y DOUBLE PRECISION NOT NULL,
        trash_bounds_x DOUBLE PRECISION NOT NULL,
        trash_bounds_y DOUBLE PRECISION NOT NULL,
        trash_bounds_width DOUBLE PRECISION NOT NULL,
        trash_bounds_height DOUBLE PRECISION NOT NULL,
        terrain TEXT NOT NULL CHECK (json_typeof(terrain::json) = 'array')
      );

      CREATE TABLE stats (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        started_count BIGINT NOT NULL DEFAULT 0 CHECK (started_count >= 0),
        ended_count BIGINT NOT NULL DEFAULT 0 CHECK (ended_count >= 0),
        stale_ended_count BIGINT NOT NULL DEFAULT 0 CHECK (stale_ended_count >= 0),
        won_count BIGINT NOT NULL DEFAULT 0 CHECK (won_count >= 0),
        lost_count BIGINT NOT NULL DEFAULT 0 CHECK (lost_count >= 0),
        abandoned_count BIGINT NOT NULL DEFAULT 0 CHECK (abandoned_count >= 0),
        latest_completed_at BIGINT,
        latest_activity_at BIGINT
      );
      INSERT INTO stats (id) VALUES (1);

      CREATE TABLE high_scores (
        id BIGINT PRIMARY KEY,
        created_at BIGINT NOT NULL,
        player_tag TEXT NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('won', 'lost')),
        remaining_unchecked BIGINT NOT NULL CHECK (remaining_unchecked >= 0)
      );
      CREATE INDEX high_scores_created_at ON high_scores (created_at, id);

      CREATE TABLE notices (
        id TEXT COLLATE "C" PRIMARY KEY,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL
      );

      CREATE TABLE settings (
        key TEXT COLLATE "C" PRIMARY KEY,
        value DOUBLE PRECISION NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 6,
    description: 'idempotency keys: the answers of writes that carried one, per client, for safe retries',
    sql: `
      CREATE TABLE idempotency_keys (
        client TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        fingerprint TEXT NOT NULL,
        status BIGINT NOT NULL CHECK (status BETWEEN 200 AND 299),
        body TEXT NOT NULL,
        seq BIGINT NOT NULL CHECK (seq >= 1),
        created_at BIGINT NOT NULL,
        PRIMARY KEY (client, key)
      );
      CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
    `,
  },
  {
    version: 7,
    description: 'admin console: admin sessions (by token hash), the audit log, notice creation and update times',
    // details stays TEXT with a JSON check (SQLite: CHECK json_valid), not jsonb: jsonb would
    // reorder keys and drop whitespace, and a row must read back (and copy) byte for byte.
    sql: `
      CREATE TABLE admin_sessions (
        token_hash TEXT COLLATE "C" PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL CHECK (expires_at > created_at)
      );
      CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at);
      CREATE TABLE audit_log (
        id BIGINT PRIMARY KEY,
        at BIGINT NOT NULL,
        category TEXT NOT NULL CHECK (category IN ('security', 'gameplay')),
        severity TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high')),
        event_type TEXT NOT NULL CHECK (char_length(event_type) BETWEEN 1 AND 64),
        message TEXT NOT NULL,
        details TEXT NOT NULL CHECK (details::jsonb IS NOT NULL)
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      ALTER TABLE notices ADD COLUMN created_at BIGINT;
      ALTER TABLE notices ADD COLUMN updated_at BIGINT;
    `,
  },
  {
    version: 8,
    description: 'high scores: remainingUnchecked is any number from 0 to 9999 (CONTRACT accepts 2.5), not an integer',
    // Version 5 declared it BIGINT after SQLite's INTEGER column, which keeps 2.5 as a REAL by its
    // type affinity; PostgreSQL refused the row, and the batch holding it could never commit.
    sql: `
      ALTER TABLE high_scores ALTER COLUMN remaining_unchecked TYPE DOUBLE PRECISION;
    `,
  },
];

export const LATEST_PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version;

/** The schema version of the connected database, 0 when it has none; reads only. */
export async function schemaVersionOf(client: PoolClient): Promise<number> {
  // A query on the catalog, not to_regclass(): that one may answer from this connection's catalog
  // cache, which an advisory lock does not refresh, and miss a table another server just created.
  const exists = await client.query<{ e: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1) AS e',
    [VERSION_TABLE],
  );
  if (!exists.rows[0].e) return 0;
  const found = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${VERSION_TABLE}`);
  return found.rows[0].v ?? 0;
}

export function schemaTooNew(location: string, version: number): WorkerFailure {
  return new WorkerFailure(
    'SCHEMA_TOO_NEW',
    `database ${location} has schema version ${version} but this server knows up to ` +
      `${LATEST_PG_SCHEMA_VERSION}; it was written by a newer release. Refusing to use it, the database ` +
      'was not modified: run the newer release or point VIBEFIXER_PG_URL at another database',
  );
}

/**
 * Runs every migration above the database's version up to `target` (default: latest), each in its
 * own transaction, all under one session-level advisory lock: a second server opening at the same
 * time waits, then finds the schema current. The version is read again under the lock (another
 * server, or a newer release, may have migrated meanwhile); that is the version returned.
 */
export async function migrate(client: PoolClient, location: string, target = LATEST_PG_SCHEMA_VERSION): Promise<number> {
  const first = await schemaVersionOf(client);
  if (first > LATEST_PG_SCHEMA_VERSION) throw schemaTooNew(location, first);
  if (first >= target) return first;
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    const from = await schemaVersionOf(client);
    if (from > LATEST_PG_SCHEMA_VERSION) throw schemaTooNew(location, from);
    for (const migration of PG_MIGRATIONS) {
      if (migration.version <= from || migration.version > target) continue;
      await client.query('BEGIN');
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (
             version INTEGER PRIMARY KEY,
             description TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
           )`,
        );
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${VERSION_TABLE} (version, description) VALUES ($1, $2)`, [
          migration.version,
          migration.description,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return from;
  } finally {
    // A lost connection releases the lock by itself; then this fails too, and changes nothing.
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}
