/**
 * The SQL statements the PostgreSQL driver runs after open (reads, retention, the copy's meta
 * values), as named statements: node-postgres prepares a named statement once per connection and
 * reuses the plan. The apply statement is built per batch shape in batch-sql.ts.
 *
 * Never: build SQL from values (everything is bound), or change a statement's name without its
 * text (a connection keeps the first text it prepared under a name).
 */

/** One statement: its name (prepared once per connection) and text. */
export interface Sql {
  readonly name: string;
  readonly text: string;
}

const sql = (name: string, text: string): Sql => ({ name: `vf_${name}`, text });

export const SQL = {
  // --- copy import (the apply itself is one statement per batch shape: batch-sql.ts) ------
  setLastSeq: sql('set_last_seq', "UPDATE meta SET value = $1 WHERE key = 'last_seq'"),
  raiseMaxHighScoreId: sql(
    'raise_max_high_score_id',
    "UPDATE meta SET value = greatest(value, $1) WHERE key = 'max_high_score_id'",
  ),

  // --- reads --------------------------------------------------------------------------------
  lastSeq: sql('last_seq', "SELECT value FROM meta WHERE key = 'last_seq'"),
  // An index-only scan of sessions_active_schedule; '' sorts before every id under COLLATE "C".
  activePage: sql(
    'active_page',
    `SELECT id, started_at, duration_seconds FROM sessions
     WHERE status = 'active' AND id > $1 ORDER BY id LIMIT $2`,
  ),
  activeHeaders: sql(
    'active_headers',
    `SELECT id, status, seed, started_at, duration_seconds, player_speed_percent, score,
            remaining_artifact_count, artifact_count, ended_at, end_reason, result
     FROM sessions WHERE id = ANY($1::text[]) AND status = 'active'`,
  ),
  artifactsOf: sql(
    'artifacts_of',
    `SELECT a.session_id, a.idx, a.id, a.x, a.y, a.status, a.created_at, a.updated_at
     FROM artifacts a JOIN sessions s ON s.id = a.session_id AND s.status = 'active'
     WHERE a.session_id = ANY($1::text[]) ORDER BY a.session_id, a.idx`,
  ),
  stats: sql(
    'stats',
    `SELECT started_count, ended_count, stale_ended_count, won_count, lost_count, abandoned_count,
            latest_completed_at, latest_activity_at FROM stats WHERE id = 1`,
  ),
  newestHighScores: sql(
    'newest_high_scores',
    'SELECT id, created_at, player_tag, result, remaining_unchecked FROM high_scores ORDER BY created_at DESC, id DESC LIMIT $1',
  ),
  maxHighScoreId: sql(
    'max_high_score_id',
    `SELECT greatest((SELECT value FROM meta WHERE key = 'max_high_score_id'),
                     (SELECT coalesce(max(id), 0) FROM high_scores)) AS value`,
  ),
  allNotices: sql('all_notices', 'SELECT id, title, message, valid_from, valid_to, created_at, updated_at FROM notices ORDER BY id'),
  validAdminSessions: sql(
    'valid_admin_sessions',
    'SELECT token_hash, created_at, expires_at FROM admin_sessions WHERE expires_at > $1 ORDER BY token_hash',
  ),
  // The newest `limit` by id; the caller reverses them to oldest first.
  newestAudit: sql(
    'newest_audit',
    'SELECT id, at, category, severity, event_type, message, details FROM audit_log ORDER BY id DESC LIMIT $1',
  ),
  allSettings: sql('all_settings', 'SELECT key, value, updated_at FROM settings ORDER BY key'),
  // The newest `limit` created at or after `since`; the caller reverses them to oldest first.
  newestIdempotencyKeys: sql(
    'newest_idempotency_keys',
    `SELECT client, key, fingerprint, status, body, seq, created_at FROM idempotency_keys
     WHERE created_at >= $1 ORDER BY created_at DESC, client DESC, key DESC LIMIT $2`,
  ),
  countStarted: sql('count_started', 'SELECT count(*) AS n FROM sessions WHERE started_at >= $1 AND started_at < $2'),

  // --- retention ----------------------------------------------------------------------------
  // One chunk, one statement (its own short transaction): a session goes with its artifacts and
  // level, or not at all. SKIP LOCKED: never wait on a row an apply is writing.
  deleteEndedChunk: sql(
    'delete_ended_chunk',
    `WITH doomed AS (
       SELECT id FROM sessions WHERE status = 'ended' AND ended_at < $1
       ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ), a AS (DELETE FROM artifacts WHERE session_id IN (SELECT id FROM doomed)),
     l AS (DELETE FROM session_levels WHERE session_id IN (SELECT id FROM doomed))
     DELETE FROM sessions WHERE id IN (SELECT id FROM doomed)`,
  ),
  deleteHighScoresChunk: sql(
    'delete_high_scores_chunk',
    `DELETE FROM high_scores WHERE id IN (
       SELECT id FROM high_scores WHERE created_at < $1 ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  ),
  deleteIdempotencyChunk: sql(
    'delete_idempotency_chunk',
    `DELETE FROM idempotency_keys WHERE (client, key) IN (
       SELECT client, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  ),
  deleteAdminSessionsChunk: sql(
    'delete_admin_sessions_chunk',
    `DELETE FROM admin_sessions WHERE token_hash IN (
       SELECT token_hash FROM admin_sessions WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  ),
  deleteAuditBeforeChunk: sql(
    'delete_audit_before_chunk',
    `DELETE FROM audit_log WHERE id IN (
       SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  ),
  // Keeps the newest $1 ids, as SQLite does: ids above max(id) - $1 stay (ids are handed out
  // one by one, so that is the newest $1 rows).
  deleteAuditBeyondChunk: sql(
    'delete_audit_beyond_chunk',
    `DELETE FROM audit_log WHERE id IN (
       SELECT id FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - $1::bigint
       ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
  ),
} as const;
