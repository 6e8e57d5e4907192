/**
 * Migration 5: from msgpack documents (schema 1–4) to typed rows. Creates the schema-5 tables,
 * converts every stored document into its rows, and drops the documents — in the one transaction
 * `migrate` runs it in, so a crash leaves the file at schema 4, untouched.
 *
 * A document that does not decode, or whose rows break a CHECK constraint, is not converted: it
 * is kept byte for byte in `migration_v5_skipped` (never silently destroyed) and counted there.
 *
 * Never: change this migration once shipped (schema 6 goes in a new one).
 */
import type Database from 'better-sqlite3';
import { decode } from '../../src/model/protocol.js';

export const SCHEMA_5 = `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
    seed TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    duration_seconds REAL NOT NULL CHECK (duration_seconds > 0),
    player_speed_percent REAL NOT NULL,
    score INTEGER NOT NULL CHECK (score >= 0),
    remaining_artifact_count INTEGER NOT NULL CHECK (remaining_artifact_count >= 0),
    artifact_count INTEGER NOT NULL CHECK (artifact_count >= 0),
    ended_at INTEGER,
    end_reason TEXT CHECK (end_reason IN ('ended', 'stale')),
    result TEXT CHECK (result IN ('won', 'lost')),
    CHECK ((status = 'active') = (ended_at IS NULL))
  );
  CREATE INDEX sessions_active_schedule ON sessions (status, id, started_at, duration_seconds) WHERE status = 'active';
  CREATE INDEX sessions_ended_at ON sessions (ended_at) WHERE status = 'ended';
  CREATE INDEX sessions_started_at ON sessions (started_at);

  CREATE TABLE artifacts (
    session_id TEXT NOT NULL,
    idx INTEGER NOT NULL CHECK (idx >= 0),
    id TEXT NOT NULL,
    x REAL NOT NULL,
    y REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ground', 'inAir', 'flying', 'deposited', 'carried')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, idx)
  ) WITHOUT ROWID;

  -- One row per level, written once: the trash can as columns, the terrain as the JSON array the
  -- create answer sends ([{id, type, bounds: {x, y, width, height}}], in answer order).
  CREATE TABLE session_levels (
    session_id TEXT PRIMARY KEY,
    trash_x REAL NOT NULL,
    trash_y REAL NOT NULL,
    trash_bounds_x REAL NOT NULL,
    trash_bounds_y REAL NOT NULL,
    trash_bounds_width REAL NOT NULL,
    trash_bounds_height REAL NOT NULL,
    terrain TEXT NOT NULL CHECK (json_valid(terrain) AND json_type(terrain) = 'array')
  );

  CREATE TABLE stats (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    started_count INTEGER NOT NULL DEFAULT 0 CHECK (started_count >= 0),
    ended_count INTEGER NOT NULL DEFAULT 0 CHECK (ended_count >= 0),
    stale_ended_count INTEGER NOT NULL DEFAULT 0 CHECK (stale_ended_count >= 0),
    won_count INTEGER NOT NULL DEFAULT 0 CHECK (won_count >= 0),
    lost_count INTEGER NOT NULL DEFAULT 0 CHECK (lost_count >= 0),
    abandoned_count INTEGER NOT NULL DEFAULT 0 CHECK (abandoned_count >= 0),
    latest_completed_at INTEGER,
    latest_activity_at INTEGER
  );
  INSERT INTO stats (id) VALUES (1);

  CREATE TABLE high_scores (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    player_tag TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('won', 'lost')),
    remaining_unchecked INTEGER NOT NULL CHECK (remaining_unchecked >= 0)
  );
  CREATE INDEX high_scores_created_at ON high_scores (created_at, id);

  CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL
  );

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE migration_v5_skipped (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    data BLOB
  );
`;

const V4_TABLES = ['sessions', 'session_levels', 'stats', 'high_scores', 'notices', 'settings'] as const;

type Doc = Record<string, unknown>;

function asDoc(bytes: unknown): Doc {
  if (!(bytes instanceof Uint8Array)) throw new Error('not a BLOB');
  const value = decode<unknown>(bytes);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a document');
  return value as Doc;
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const nullableNum = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Doc => (typeof v === 'object' && v !== null ? (v as Doc) : {});

/**
 * The document's terrain as the JSON text session_levels stores: each segment rebuilt with the
 * keys in answer order ({id, type, bounds: {x, y, width, height}}), so a well-formed document
 * gives exactly what JSON.stringify gives for the level at run time. A segment of another type
 * throws: its level is skipped (kept in migration_v5_skipped), never stored half-valid.
 */
function terrainJson(terrain: unknown): string {
  const segments = (Array.isArray(terrain) ? (terrain as unknown[]) : []).map(obj).map((s, idx) => {
    if (s.type !== 'ground' && s.type !== 'stone') throw new Error(`terrain segment ${idx} has type ${String(s.type)}`);
    const b = obj(s.bounds);
    return { id: String(s.id), type: s.type, bounds: { x: num(b.x, 0), y: num(b.y, 0), width: num(b.width, 0), height: num(b.height, 0) } };
  });
  return JSON.stringify(segments);
}

export function toTypedRows(db: Database.Database): void {
  for (const index of ['sessions_ended_at', 'sessions_started_at', 'high_scores_created_at', 'sessions_active_schedule', 'sessions_active_rowid']) {
    db.exec(`DROP INDEX IF EXISTS ${index}`);
  }
  for (const table of V4_TABLES) db.exec(`ALTER TABLE ${table} RENAME TO v4_${table}`);
  db.exec(SCHEMA_5);

  const skip = db.prepare<[string, string, string, unknown]>('INSERT INTO migration_v5_skipped (kind, key, reason, data) VALUES (?, ?, ?, ?)');
  // Pages by rowid (a connection cannot write while it iterates), so memory stays flat.
  const each = <R extends unknown[]>(select: string, kind: string, convert: (row: R) => void) => {
    const [columns, table] = select.replace(/^SELECT /, '').split(' FROM ');
    const page = db.prepare<[number], unknown[]>(`SELECT rowid, ${columns} FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT 1000`).raw();
    for (let after = 0, rows = page.all(after); rows.length > 0; rows = page.all(after)) {
      for (const [rowid, ...rest] of rows) {
        after = rowid as number;
        const row = rest as R;
        try {
          convert(row);
        } catch (err) {
          const data = row[row.length - 1];
          skip.run(kind, String(row[0]), (err as Error).message, data instanceof Uint8Array ? data : null);
        }
      }
    }
  };

  const insertSession = db.prepare(
    'INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insertArtifact = db.prepare('INSERT INTO artifacts VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  each<[string, string, number, number | null, string | null, number, Uint8Array]>(
    'SELECT id, status, started_at, ended_at, result, duration_seconds, data FROM v4_sessions',
    'session',
    ([id, status, startedAt, endedAt, result, duration, data]) => {
      const d = asDoc(data);
      const artifacts = Array.isArray(d.artifacts) ? (d.artifacts as unknown[]).map(obj) : [];
      const remaining = artifacts.filter((a) => a.status !== 'deposited').length;
      // A savepoint per session: its header and artifacts go in together or not at all.
      db.transaction(() => {
        insertSession.run(
          id,
          status,
          typeof d.seed === 'string' ? d.seed : '',
          startedAt,
          num(d.durationSeconds, duration),
          num(d.playerSpeedPercent, 100),
          num(d.score, 0),
          num(d.remainingArtifactCount, remaining),
          artifacts.length,
          endedAt,
          d.endReason === 'ended' || d.endReason === 'stale' ? d.endReason : status === 'ended' ? 'ended' : null,
          result,
        );
        artifacts.forEach((a, idx) => {
          const position = obj(a.position);
          // Documents written since artifacts carried their spawn time keep it; older ones take the start.
          const createdAt = num(a.createdAtMs, startedAt);
          insertArtifact.run(id, idx, String(a.id), num(position.x, 0), num(position.y, 0), a.status, createdAt, Math.max(createdAt, endedAt ?? startedAt));
        });
      })();
    },
  );

  const insertLevel = db.prepare('INSERT INTO session_levels VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  each<[string, Uint8Array]>('SELECT id, data FROM v4_session_levels', 'level', ([id, data]) => {
    const d = asDoc(data);
    const trash = obj(d.trashCan);
    const position = obj(trash.position);
    const bounds = obj(trash.bounds);
    insertLevel.run(
      id, num(position.x, 0), num(position.y, 0), num(bounds.x, 0), num(bounds.y, 0), num(bounds.width, 0), num(bounds.height, 0),
      terrainJson(d.terrain),
    );
  });

  const setStats = db.prepare(`UPDATE stats SET started_count = ?, ended_count = ?, stale_ended_count = ?, won_count = ?,
    lost_count = ?, abandoned_count = ?, latest_completed_at = ?, latest_activity_at = ? WHERE id = 1`);
  each<[number, Uint8Array]>('SELECT id, data FROM v4_stats', 'stats', ([, data]) => {
    const d = asDoc(data);
    setStats.run(
      num(d.startedCount, 0), num(d.endedCount, 0), num(d.staleEndedCount, 0), num(d.wonCount, 0),
      num(d.lostCount, 0), num(d.abandonedCount, 0), nullableNum(d.latestCompletedAtMs), nullableNum(d.latestActivityAtMs),
    );
  });

  const insertHighScore = db.prepare('INSERT INTO high_scores VALUES (?, ?, ?, ?, ?)');
  each<[number, number, Uint8Array]>('SELECT id, created_at, data FROM v4_high_scores', 'high_score', ([id, createdAt, data]) => {
    const d = asDoc(data);
    insertHighScore.run(id, createdAt, String(d.playerTag ?? ''), d.result, num(d.remainingUnchecked, 0));
  });

  const insertNotice = db.prepare('INSERT INTO notices VALUES (?, ?, ?, ?, ?)');
  each<[string, string, string, Uint8Array]>('SELECT id, valid_from, valid_to, data FROM v4_notices', 'notice', ([id, from, to, data]) => {
    const d = asDoc(data);
    insertNotice.run(id, String(d.title ?? ''), String(d.message ?? ''), from, to);
  });

  const insertSetting = db.prepare('INSERT INTO settings VALUES (?, ?, ?)');
  each<[string, Uint8Array]>('SELECT key, data FROM v4_settings', 'setting', ([key, data]) => {
    const d = asDoc(data);
    insertSetting.run(key, d.value, num(d.updatedAtMs, 0));
  });

  for (const table of V4_TABLES) db.exec(`DROP TABLE v4_${table}`);
}
