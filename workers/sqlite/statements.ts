/**
 * Every SQL statement the SQLite driver runs after open (schema 5, typed-rows.ts), prepared once
 * right after migrations, and the `Store` handle (connection + statements).
 *
 * Never: prepare a statement per task, build SQL from values (everything is bound), or hold
 * any state other than the connection and its statements.
 */
import type Database from 'better-sqlite3';
import type { Ownership } from './owner.js';
import type { AdminSessionRow, ArtifactRow, AuditRow, HighScoreRow, IdempotencyRow, NoticeRow, SessionRow, SettingRow, StatsDelta } from '../../src/model/rows.js';

export interface Store {
  readonly db: Database.Database;
  readonly dbPath: string;
  readonly st: Statements;
  /** The lock file that makes this process the file's one owner (owner.ts); released at close. */
  readonly owner?: Ownership;
}

export type Statements = ReturnType<typeof prepareStatements>;

type Level = [sessionId: string, x: number, y: number, bx: number, by: number, bw: number, bh: number, terrain: string];
type Counts = [started: number, ended: number, staleEnded: number, won: number, lost: number, abandoned: number, completedAt: number | null, activityAt: number | null];

export function prepareStatements(db: Database.Database) {
  return {
    // --- meta -----------------------------------------------------------------------------
    getMeta: db.prepare<[string], number>('SELECT value FROM meta WHERE key = ?').pluck(),
    setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE key = ?'),
    raiseMaxHighScoreId: db.prepare<[number]>("UPDATE meta SET value = max(value, ?) WHERE key = 'max_high_score_id'"),

    // --- apply: one statement per row, bound positionally from the row tuple ---------------
    // id, seed and started_at never change: leaving them out of the UPDATE keeps the
    // started_at index entry untouched.
    upsertSession: db.prepare<SessionRow>(`
      INSERT INTO sessions (id, status, seed, started_at, duration_seconds, player_speed_percent, score,
        remaining_artifact_count, artifact_count, ended_at, end_reason, result)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        status = excluded.status, duration_seconds = excluded.duration_seconds,
        player_speed_percent = excluded.player_speed_percent, score = excluded.score,
        remaining_artifact_count = excluded.remaining_artifact_count, artifact_count = excluded.artifact_count,
        ended_at = excluded.ended_at, end_reason = excluded.end_reason, result = excluded.result`),
    upsertArtifact: db.prepare<ArtifactRow>(`
      INSERT INTO artifacts (session_id, idx, id, x, y, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (session_id, idx) DO UPDATE SET
        id = excluded.id, x = excluded.x, y = excluded.y, status = excluded.status, updated_at = excluded.updated_at`),
    // Written once, one row per level (the terrain as JSON text): a later row for the same
    // session never replaces the first level.
    insertLevel: db.prepare<Level>('INSERT INTO session_levels VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING'),
    upsertHighScore: db.prepare<HighScoreRow>(`
      INSERT INTO high_scores (id, created_at, player_tag, result, remaining_unchecked) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, player_tag = excluded.player_tag,
        result = excluded.result, remaining_unchecked = excluded.remaining_unchecked`),
    deleteHighScore: db.prepare<[number]>('DELETE FROM high_scores WHERE id = ?'),
    upsertNotice: db.prepare<NoticeRow>(`
      INSERT INTO notices (id, title, message, valid_from, valid_to, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET title = excluded.title, message = excluded.message,
        valid_from = excluded.valid_from, valid_to = excluded.valid_to,
        created_at = coalesce(notices.created_at, excluded.created_at), updated_at = excluded.updated_at`),
    upsertAdminSession: db.prepare<AdminSessionRow>(`
      INSERT INTO admin_sessions (token_hash, created_at, expires_at) VALUES (?, ?, ?)
      ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at`),
    deleteAdminSession: db.prepare<[string]>('DELETE FROM admin_sessions WHERE token_hash = ?'),
    upsertAudit: db.prepare<AuditRow>(`
      INSERT INTO audit_log (id, at, category, severity, event_type, message, details) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO NOTHING`),
    deleteNotice: db.prepare<[string]>('DELETE FROM notices WHERE id = ?'),
    upsertIdempotencyKey: db.prepare<IdempotencyRow>(`
      INSERT INTO idempotency_keys (client, key, fingerprint, status, body, seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (client, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
        body = excluded.body, seq = excluded.seq, created_at = excluded.created_at`),
    upsertSetting: db.prepare<SettingRow>(`
      INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
    // Counters are added, times only move forward: a delta never overwrites another writer's count.
    addCounts: db.prepare<[StatsDelta]>(`
      UPDATE stats SET
        started_count = started_count + @startedCount, ended_count = ended_count + @endedCount,
        stale_ended_count = stale_ended_count + @staleEndedCount, won_count = won_count + @wonCount,
        lost_count = lost_count + @lostCount, abandoned_count = abandoned_count + @abandonedCount,
        latest_completed_at = max(coalesce(latest_completed_at, @latestCompletedAtMs), coalesce(@latestCompletedAtMs, latest_completed_at)),
        latest_activity_at = max(coalesce(latest_activity_at, @latestActivityAtMs), coalesce(@latestActivityAtMs, latest_activity_at))
      WHERE id = 1`),

    // --- reads ----------------------------------------------------------------------------
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
    activeHeader: db
      .prepare<[string], SessionRow>(`
        SELECT id, status, seed, started_at, duration_seconds, player_speed_percent, score,
          remaining_artifact_count, artifact_count, ended_at, end_reason, result
        FROM sessions WHERE id = ? AND status = 'active'`)
      .raw(),
    artifactsOf: db
      .prepare<[string], ArtifactRow>(
        'SELECT session_id, idx, id, x, y, status, created_at, updated_at FROM artifacts WHERE session_id = ? ORDER BY idx',
      )
      .raw(),
    stats: db
      .prepare<[], Counts>(`
        SELECT started_count, ended_count, stale_ended_count, won_count, lost_count, abandoned_count,
          latest_completed_at, latest_activity_at
        FROM stats WHERE id = 1`)
      .raw(),
    newestHighScores: db
      .prepare<[number], HighScoreRow>(
        'SELECT id, created_at, player_tag, result, remaining_unchecked FROM high_scores ORDER BY created_at DESC, id DESC LIMIT ?',
      )
      .raw(),
    maxHighScoreIdInTable: db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM high_scores').pluck(),
    allNotices: db
      .prepare<[], NoticeRow>('SELECT id, title, message, valid_from, valid_to, created_at, updated_at FROM notices ORDER BY id')
      .raw(),
    validAdminSessions: db
      .prepare<[number], AdminSessionRow>('SELECT token_hash, created_at, expires_at FROM admin_sessions WHERE expires_at > ?')
      .raw(),
    newestAudit: db
      .prepare<[number], AuditRow>('SELECT id, at, category, severity, event_type, message, details FROM audit_log ORDER BY id DESC LIMIT ?')
      .raw(),
    allSettings: db.prepare<[], SettingRow>('SELECT key, value, updated_at FROM settings ORDER BY key').raw(),
    newestIdempotencyKeys: db
      .prepare<[number, number], IdempotencyRow>(
        'SELECT client, key, fingerprint, status, body, seq, created_at FROM idempotency_keys WHERE created_at >= ? ORDER BY created_at DESC LIMIT ?',
      )
      .raw(),
    countStarted: db
      .prepare<[number, number], number>('SELECT count(*) FROM sessions WHERE started_at >= ? AND started_at < ?')
      .pluck(),

    // --- retention ------------------------------------------------------------------------
    endedBefore: db
      .prepare<[number, number], string>("SELECT id FROM sessions WHERE status = 'ended' AND ended_at < ? LIMIT ?")
      .pluck(),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
    deleteArtifactsOf: db.prepare<[string]>('DELETE FROM artifacts WHERE session_id = ?'),
    deleteLevel: db.prepare<[string]>('DELETE FROM session_levels WHERE session_id = ?'),
    deleteAdminSessionsBefore: db.prepare<[number]>('DELETE FROM admin_sessions WHERE expires_at <= ?'),
    deleteAuditBefore: db.prepare<[number, number]>(
      'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)',
    ),
    deleteAuditBeyond: db.prepare<[number, number]>(
      'DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ? ORDER BY id LIMIT ?)',
    ),
    deleteIdempotencyBefore: db.prepare<[number, number]>(
      'DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)',
    ),
    deleteHighScoresBefore: db.prepare<[number, number]>(
      'DELETE FROM high_scores WHERE id IN (SELECT id FROM high_scores WHERE created_at < ? LIMIT ?)',
    ),

    // --- maintenance ----------------------------------------------------------------------
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
