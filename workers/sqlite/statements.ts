/**
 * Every SQL statement the worker runs after open, prepared once right after migrations, and the
 * `Store` handle (connection + statements) that the task handlers receive.
 *
 * Never: prepare a statement per task, build SQL from values (everything is bound), or hold
 * any state other than the connection and its statements.
 */
import type Database from 'better-sqlite3';

export interface Store {
  readonly db: Database.Database;
  readonly dbPath: string;
  readonly st: Statements;
}

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
  return {
    // --- meta -----------------------------------------------------------------------------
    getMeta: db.prepare<[string], number>('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE key = ?'),
    raiseMaxHighScoreId: db.prepare<[number]>(
      "UPDATE meta SET value = max(value, ?) WHERE key = 'max_high_score_id'",
    ),

    // --- apply (upserts) ------------------------------------------------------------------
    // started_at is immutable: leaving it out of the UPDATE keeps its index entry untouched.
    upsertSession: db.prepare<[string, string, number, number | null, string | null, number, Uint8Array]>(`
      INSERT INTO sessions (id, status, started_at, ended_at, result, duration_seconds, data) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        status = excluded.status, ended_at = excluded.ended_at,
        result = excluded.result, data = excluded.data`),
    // The hot path: an active session's mutable part changes; no indexed column does.
    updateActiveSessionData: db.prepare<[Buffer, string]>("UPDATE sessions SET data = ? WHERE id = ? AND status = 'active'"),
    // Written once: a later entry carrying a level never replaces the first one.
    insertLevel: db.prepare<[string, Uint8Array]>(
      'INSERT INTO session_levels (id, data) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    upsertStats: db.prepare<[Uint8Array]>(
      'INSERT INTO stats (id, data) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
    ),
    upsertHighScore: db.prepare<[number, number, Uint8Array]>(`
      INSERT INTO high_scores (id, created_at, data) VALUES (?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, data = excluded.data`),
    upsertNotice: db.prepare<[string, string, string, Uint8Array]>(`
      INSERT INTO notices (id, valid_from, valid_to, data) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        valid_from = excluded.valid_from, valid_to = excluded.valid_to, data = excluded.data`),
    upsertSetting: db.prepare<[string, Uint8Array]>(
      'INSERT INTO settings (key, data) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET data = excluded.data',
    ),

    // --- reload ---------------------------------------------------------------------------
    // Reload: an index-only scan of the covering partial index sessions_active_schedule.
    activeFirstPage: db
      .prepare<[number], [string, number, number]>(
        "SELECT id, started_at, duration_seconds FROM sessions WHERE status = 'active' ORDER BY id LIMIT ?",
      )
      .raw(),
    activeNextPage: db
      .prepare<[string, number], [string, number, number]>(
        "SELECT id, started_at, duration_seconds FROM sessions WHERE status = 'active' AND id > ? ORDER BY id LIMIT ?",
      )
      .raw(),
    // The background check: the partial index sessions_active_rowid yields active rows in rowid
    // order, so the table is read sequentially (by id it is random access, ~10x slower).
    activeDataPage: db
      .prepare<[number, number], [number, string, Buffer]>(
        "SELECT rowid, id, data FROM sessions WHERE status = 'active' AND rowid > ? ORDER BY rowid LIMIT ?",
      )
      .raw(),
    activeSessionData: db
      .prepare<[string], Buffer>("SELECT data FROM sessions WHERE id = ? AND status = 'active'")
      .pluck(),
    statsRow: db.prepare<[], Buffer>('SELECT data FROM stats WHERE id = 1').pluck(),
    newestHighScores: db
      .prepare<[number], Buffer>('SELECT data FROM high_scores ORDER BY created_at DESC, id DESC LIMIT ?')
      .pluck(),
    maxHighScoreIdInTable: db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM high_scores').pluck(),
    allNotices: db.prepare<[], Buffer>('SELECT data FROM notices ORDER BY id').pluck(),
    allSettings: db.prepare<[], Buffer>('SELECT data FROM settings ORDER BY key').pluck(),
    countStarted: db
      .prepare<[number, number], number>('SELECT count(*) FROM sessions WHERE started_at >= ? AND started_at < ?')
      .pluck(),

    // --- retention ------------------------------------------------------------------------
    endedBefore: db
      .prepare<[number, number], string>(
        "SELECT id FROM sessions WHERE status = 'ended' AND ended_at < ? LIMIT ?",
      )
      .pluck(),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    deleteLevel: db.prepare<[string]>('DELETE FROM session_levels WHERE id = ?'),
    deleteHighScoresBefore: db.prepare<[number, number]>(
      'DELETE FROM high_scores WHERE id IN (SELECT id FROM high_scores WHERE created_at < ? LIMIT ?)',
    ),

    // --- maintenance ----------------------------------------------------------------------
    checkpointPassive: db.prepare<[], CheckpointRow>('PRAGMA wal_checkpoint(PASSIVE)'),
    checkpointTruncate: db.prepare<[], CheckpointRow>('PRAGMA wal_checkpoint(TRUNCATE)'),
    vacuumInto: db.prepare<[string]>('VACUUM INTO ?'),
    pageSize: db.prepare<[], number>('PRAGMA page_size').pluck(),
  };
}

export interface CheckpointRow {
  busy: number;
  log: number;
  checkpointed: number;
}
