/**
 * The SQLite side of the one-shot copy (workers/copy/endpoint.ts): opens the file through the
 * SQLite driver (openSqlite: lock, checks, migrations), then reads whole tables and sets the meta
 * values on the driver's own connection (the file is opened with an exclusive lock, so no second
 * connection could read it).
 *
 * Never: used while a server owns the file (the lock refuses it anyway), or write anything but
 * through the driver's `apply` and the two meta values of `importMeta`.
 */
import type Database from 'better-sqlite3';
import type { LevelRecord } from '../../src/model/records.js';
import type { ArtifactRow, SessionRow } from '../../src/model/rows.js';
import { WorkerFailure } from '../failure.js';
import { openSqlite, SqliteDriver } from './driver.js';
import { COPIED_TABLES, type CopyEndpoint, type ExportedSession, type TableCounts } from '../copy/endpoint.js';

type StoredLevel = [number, number, number, number, number, number, terrain: string];

function statements(db: Database.Database) {
  return {
    sessions: db
      .prepare<[string, number], SessionRow>(
        `SELECT id, status, seed, started_at, duration_seconds, player_speed_percent, score,
                remaining_artifact_count, artifact_count, ended_at, end_reason, result
         FROM sessions WHERE id > ? ORDER BY id LIMIT ?`,
      )
      .raw(),
    artifacts: db
      .prepare<[string], ArtifactRow>(
        'SELECT session_id, idx, id, x, y, status, created_at, updated_at FROM artifacts WHERE session_id = ? ORDER BY idx',
      )
      .raw(),
    level: db
      .prepare<[string], StoredLevel>(
        `SELECT trash_x, trash_y, trash_bounds_x, trash_bounds_y, trash_bounds_width, trash_bounds_height, terrain
         FROM session_levels WHERE session_id = ?`,
      )
      .raw(),
    lastSeq: db.prepare<[], number>("SELECT value FROM meta WHERE key = 'last_seq'").pluck(),
    setLastSeq: db.prepare<[number]>("UPDATE meta SET value = ? WHERE key = 'last_seq'"),
    raiseMaxHighScoreId: db.prepare<[number]>("UPDATE meta SET value = max(value, ?) WHERE key = 'max_high_score_id'"),
    counts: COPIED_TABLES.map((t) => [t, db.prepare<[], number>(`SELECT count(*) FROM ${t}`).pluck()] as const),
  };
}

export async function openSqliteCopyEndpoint(dbPath: string): Promise<CopyEndpoint> {
  const opened = await openSqlite({ dbPath, synchronous: 'FULL' }, false);
  if (!(opened.driver instanceof SqliteDriver)) throw new WorkerFailure('INTERNAL', 'openSqlite returned another driver');
  const { db } = opened.driver.store;
  const st = statements(db);
  const count = (): TableCounts => Object.fromEntries(st.counts.map(([t, s]) => [t, s.get() ?? 0])) as TableCounts;
  return {
    driver: opened.driver,
    schemaVersion: opened.schemaVersion,
    async exportSessionsPage(after, limit): Promise<ExportedSession[]> {
      // One read transaction: the page and its artifacts and levels from one snapshot.
      return db.transaction(() =>
        st.sessions.all(after ?? '', limit).map((h): ExportedSession => {
          const stored = st.level.get(h[0]);
          // The terrain text is JSON.stringify of the level's terrain: parsed, the target's apply
          // writes the same text again.
          const level: LevelRecord | null =
            stored === undefined
              ? null
              : {
                  terrain: JSON.parse(stored[6]) as LevelRecord['terrain'],
                  trashCan: { position: { x: stored[0], y: stored[1] }, bounds: { x: stored[2], y: stored[3], width: stored[4], height: stored[5] } },
                };
          return [h, st.artifacts.all(h[0]), level === null ? null : [h[0], level]];
        }),
      )();
    },
    async isEmpty() {
      const c = count();
      return COPIED_TABLES.every((t) => c[t] === 0) && (st.lastSeq.get() ?? 0) === 0;
    },
    async importMeta(lastSeq, maxHighScoreId) {
      db.transaction(() => {
        st.setLastSeq.run(lastSeq);
        st.raiseMaxHighScoreId.run(maxHighScoreId);
      }).immediate();
    },
    async counts() {
      return count();
    },
    close: () => opened.driver.close(),
  };
}
