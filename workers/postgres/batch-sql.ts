/**
 * The text of the ONE statement that applies a batch: a chain of data-modifying CTEs, one per
 * non-empty part of the batch, behind a guard that moves last_seq forward:
 *
 *   WITH seq AS (UPDATE meta SET value = $1 WHERE key = 'last_seq' AND value < $1 RETURNING 1),
 *        w0  AS (INSERT INTO sessions … SELECT * FROM unnest($2::text[], …) WHERE EXISTS (SELECT 1 FROM seq)
 *                ON CONFLICT (id) DO UPDATE SET … RETURNING 1),
 *        …   (one CTE per present upsert table, delete, the high-score mark, the stats deltas)
 *   SELECT (SELECT count(*) FROM seq) AS applied, (SELECT count(*) FROM w0) + … AS rows
 *
 * One statement is one implicit transaction: all of it commits (WAL flushed) or none of it, with
 * no BEGIN/COMMIT round trips. A seq at or below last_seq updates no meta row, so every other
 * part's EXISTS guard is false and nothing is written. A concurrent apply of the same seq waits on
 * the last_seq row lock, re-checks `value < $1` on the committed row, and writes nothing.
 *
 * Each combination of present parts is its own named statement (`vf_apply_<mask>`): prepared once
 * per connection and re-executed without re-parsing; the text of a mask never changes.
 * Not a server-side function: that would need a PostgreSQL-only migration, and both drivers keep
 * the same schema numbers (the copy command relies on it).
 *
 * Never: bind values into the text (everything is a parameter), let one row be modified twice in
 * the statement (all CTEs see one snapshot: apply.ts drops an upsert whose key the same batch
 * deletes), or write a part without the seq guard.
 */
import type { Sql } from './statements.js';

/** One CTE of the apply statement: its SQL given the first parameter number, and how many parameters it binds. */
export interface Part {
  /** Counted in the `rows` of the apply result (every part but the high-score mark). */
  readonly counted: boolean;
  readonly params: number;
  readonly cte: (first: number) => string;
}

const GUARD = 'EXISTS (SELECT 1 FROM seq)';

function placeholders(first: number, types: readonly string[], suffix: string): string {
  return types.map((t, i) => `$${first + i}::${t}${suffix}`).join(', ');
}

/** INSERT … SELECT FROM unnest(one array per column) ON CONFLICT …: one statement, any number of rows. */
function upsert(table: string, columns: string, types: readonly string[], conflict: string): Part {
  return {
    counted: true,
    params: types.length,
    cte: (first) =>
      `INSERT INTO ${table} (${columns}) SELECT * FROM unnest(${placeholders(first, types, '[]')}) WHERE ${GUARD} ${conflict} RETURNING 1`,
  };
}

function deleteByKey(table: string, key: string, type: string): Part {
  return { counted: true, params: 1, cte: (first) => `DELETE FROM ${table} WHERE ${key} = ANY($${first}::${type}[]) AND ${GUARD} RETURNING 1` };
}

/** Every part an apply can have, in statement order (the order of the part mask's bits). */
export const PARTS = {
  // id, seed and started_at are immutable: never in the UPDATE.
  sessions: upsert(
    'sessions',
    `id, status, seed, started_at, duration_seconds, player_speed_percent, score,
     remaining_artifact_count, artifact_count, ended_at, end_reason, result`,
    ['text', 'text', 'text', 'bigint', 'float8', 'float8', 'bigint', 'bigint', 'bigint', 'bigint', 'text', 'text'],
    `ON CONFLICT (id) DO UPDATE SET
       status = excluded.status, duration_seconds = excluded.duration_seconds,
       player_speed_percent = excluded.player_speed_percent, score = excluded.score,
       remaining_artifact_count = excluded.remaining_artifact_count, artifact_count = excluded.artifact_count,
       ended_at = excluded.ended_at, end_reason = excluded.end_reason, result = excluded.result`,
  ),
  artifacts: upsert(
    'artifacts',
    'session_id, idx, id, x, y, status, created_at, updated_at',
    ['text', 'bigint', 'text', 'float8', 'float8', 'text', 'bigint', 'bigint'],
    `ON CONFLICT (session_id, idx) DO UPDATE SET
       id = excluded.id, x = excluded.x, y = excluded.y, status = excluded.status, updated_at = excluded.updated_at`,
  ),
  // Levels are written once (the terrain as JSON text): a later row for the session never replaces the first.
  levels: upsert(
    'session_levels',
    'session_id, trash_x, trash_y, trash_bounds_x, trash_bounds_y, trash_bounds_width, trash_bounds_height, terrain',
    ['text', 'float8', 'float8', 'float8', 'float8', 'float8', 'float8', 'text'],
    'ON CONFLICT (session_id) DO NOTHING',
  ),
  highScores: upsert(
    'high_scores',
    'id, created_at, player_tag, result, remaining_unchecked',
    ['bigint', 'bigint', 'text', 'text', 'float8'], // remaining_unchecked: any number 0–9999 (migration 8)
    `ON CONFLICT (id) DO UPDATE SET
       created_at = excluded.created_at, player_tag = excluded.player_tag, result = excluded.result,
       remaining_unchecked = excluded.remaining_unchecked`,
  ),
  notices: upsert(
    'notices',
    'id, title, message, valid_from, valid_to, created_at, updated_at',
    ['text', 'text', 'text', 'text', 'text', 'bigint', 'bigint'],
    `ON CONFLICT (id) DO UPDATE SET
       title = excluded.title, message = excluded.message, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
       created_at = coalesce(notices.created_at, excluded.created_at), updated_at = excluded.updated_at`,
  ),
  settings: upsert(
    'settings',
    'key, value, updated_at',
    ['text', 'float8', 'bigint'],
    'ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
  ),
  idempotencyKeys: upsert(
    'idempotency_keys',
    'client, key, fingerprint, status, body, seq, created_at',
    ['text', 'text', 'text', 'bigint', 'text', 'bigint', 'bigint'],
    `ON CONFLICT (client, key) DO UPDATE SET
       fingerprint = excluded.fingerprint, status = excluded.status, body = excluded.body,
       seq = excluded.seq, created_at = excluded.created_at`,
  ),
  adminSessions: upsert(
    'admin_sessions',
    'token_hash, created_at, expires_at',
    ['text', 'bigint', 'bigint'],
    'ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at',
  ),
  // Audit rows are written once: a replayed id keeps the first row.
  audit: upsert(
    'audit_log',
    'id, at, category, severity, event_type, message, details',
    ['bigint', 'bigint', 'text', 'text', 'text', 'text', 'text'],
    'ON CONFLICT (id) DO NOTHING',
  ),
  deleteAdminSessions: deleteByKey('admin_sessions', 'token_hash', 'text'),
  deleteHighScores: deleteByKey('high_scores', 'id', 'bigint'),
  deleteNotices: deleteByKey('notices', 'id', 'text'),
  // Every high-score id handed out, stored or deleted since: never handed out again.
  raiseMaxHighScoreId: {
    counted: false,
    params: 1,
    cte: (first) => `UPDATE meta SET value = greatest(value, $${first}::bigint) WHERE key = 'max_high_score_id' AND ${GUARD} RETURNING 1`,
  },
  // Counters add; times are high-water marks (greatest() ignores NULL on either side).
  addStats: {
    counted: true,
    params: 8,
    cte: (p) => `UPDATE stats SET
       started_count = started_count + $${p}::bigint, ended_count = ended_count + $${p + 1}::bigint,
       stale_ended_count = stale_ended_count + $${p + 2}::bigint, won_count = won_count + $${p + 3}::bigint,
       lost_count = lost_count + $${p + 4}::bigint, abandoned_count = abandoned_count + $${p + 5}::bigint,
       latest_completed_at = greatest(latest_completed_at, $${p + 6}::bigint),
       latest_activity_at = greatest(latest_activity_at, $${p + 7}::bigint)
     WHERE id = 1 AND ${GUARD} RETURNING 1`,
  },
} as const satisfies Record<string, Part>;

export type PartName = keyof typeof PARTS;
export const PART_ORDER = Object.keys(PARTS) as PartName[];

function build(mask: number): Sql {
  const ctes = ["seq AS (UPDATE meta SET value = $1::bigint WHERE key = 'last_seq' AND value < $1::bigint RETURNING 1)"];
  const counted: string[] = [];
  let next = 2;
  PART_ORDER.forEach((name, bit) => {
    if ((mask & (1 << bit)) === 0) return;
    const part: Part = PARTS[name];
    ctes.push(`w${bit} AS (${part.cte(next)})`);
    if (part.counted) counted.push(`(SELECT count(*) FROM w${bit})`);
    next += part.params;
  });
  const rows = counted.length === 0 ? '0' : counted.join(' + ');
  return {
    name: `vf_apply_${mask.toString(36)}`,
    text: `WITH ${ctes.join(',\n')}\nSELECT (SELECT count(*) FROM seq) AS applied, ${rows} AS rows`,
  };
}

const cache = new Map<number, Sql>();

/** The apply statement for the parts whose bits (PART_ORDER index) are set; built once per mask. */
export function applyStatement(mask: number): Sql {
  let found = cache.get(mask);
  if (found === undefined) {
    found = build(mask);
    cache.set(mask, found);
  }
  return found;
}
