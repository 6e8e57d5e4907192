/**
 * The PostgreSQL side of the one-shot copy (workers/copy/endpoint.ts): whole-table reads for an
 * export, the meta values set after an import, and per-table counts for the verification.
 *
 * Never: used by a running server (the export reads every row), or lower a value a running
 * server relies on while one is connected (the copy runs offline).
 */
import type pg from 'pg';
import type { LevelRecord } from '../../src/model/records.js';
import type { ArtifactRow, SessionRow } from '../../src/model/rows.js';
import { COPIED_TABLES, type CopyEndpoint, type ExportedSession, type TableCounts } from '../copy/endpoint.js';
import type { OpenedDriver } from '../driver.js';
import { WorkerFailure } from './errors.js';
import { createPool, inTransaction, run, withClient } from './pool.js';
import { openPostgres, type PostgresOptions } from './open.js';
import { checkLimit, SNAPSHOT } from './reload.js';
import { SQL } from './statements.js';

const EXPORT = {
  sessions: {
    name: 'vf_export_sessions',
    text: `SELECT id, status, seed, started_at, duration_seconds, player_speed_percent, score,
                  remaining_artifact_count, artifact_count, ended_at, end_reason, result
           FROM sessions WHERE id > $1 ORDER BY id LIMIT $2`,
  },
  artifacts: {
    name: 'vf_export_artifacts',
    text: `SELECT session_id, idx, id, x, y, status, created_at, updated_at FROM artifacts
           WHERE session_id = ANY($1::text[]) ORDER BY session_id, idx`,
  },
  levels: {
    name: 'vf_export_levels',
    text: `SELECT session_id, trash_x, trash_y, trash_bounds_x, trash_bounds_y, trash_bounds_width, trash_bounds_height, terrain
           FROM session_levels WHERE session_id = ANY($1::text[])`,
  },
} as const;

type StoredLevel = [string, number, number, number, number, number, number, terrain: string];

async function exportPage(client: pg.PoolClient, after: string | null, limit: number): Promise<ExportedSession[]> {
  checkLimit(limit, 'exportSessionsPage');
  const headers = (await run<SessionRow>(client, EXPORT.sessions, [after ?? '', limit])).rows;
  const ids = headers.map((h) => h[0]);
  const out = new Map<string, ExportedSession>(headers.map((h) => [h[0], [h, [], null]]));
  for (const a of (await run<ArtifactRow>(client, EXPORT.artifacts, [ids])).rows) out.get(a[0])![1].push(a);
  for (const l of (await run<StoredLevel>(client, EXPORT.levels, [ids])).rows) {
    // The terrain text is what the apply wrote (JSON.stringify of the level's terrain): parsed, it
    // is that terrain again, and the target's apply writes the same text.
    const level: LevelRecord = {
      terrain: JSON.parse(l[7]) as LevelRecord['terrain'],
      trashCan: { position: { x: l[1], y: l[2] }, bounds: { x: l[3], y: l[4], width: l[5], height: l[6] } },
    };
    out.get(l[0])![2] = [l[0], level];
  }
  return [...out.values()];
}

/** Opens (and migrates) a PostgreSQL database as a copy source or target. */
export async function openPostgresCopyEndpoint(options: PostgresOptions): Promise<CopyEndpoint> {
  const opened: OpenedDriver = await openPostgres(options);
  // A second, small pool for the export reads: the driver's own pool stays private to it.
  const pool = createPool({ ...options, poolSize: 1 });
  return {
    driver: opened.driver,
    schemaVersion: opened.schemaVersion,
    exportSessionsPage: (after, limit) => inTransaction(pool, 'exportSessionsPage', (c) => exportPage(c, after, limit), SNAPSHOT),
    async isEmpty() {
      return withClient(pool, 'isEmpty', async (c) => {
        const rows = (await c.query<{ n: number }>(
          `SELECT ${COPIED_TABLES.map((t) => `(SELECT count(*) FROM ${t})`).join(' + ')}
                + (SELECT value FROM meta WHERE key = 'last_seq') AS n`,
        )).rows;
        return rows[0].n === 0;
      });
    },
    async importMeta(lastSeq, maxHighScoreId) {
      if (!Number.isSafeInteger(lastSeq) || lastSeq < 0 || !Number.isSafeInteger(maxHighScoreId) || maxHighScoreId < 0) {
        throw new WorkerFailure('INTERNAL', `importMeta: bad values ${lastSeq}, ${maxHighScoreId}`);
      }
      await inTransaction(pool, 'importMeta', async (c) => {
        await run(c, SQL.setLastSeq, [lastSeq]);
        await run(c, SQL.raiseMaxHighScoreId, [maxHighScoreId]);
      });
    },
    async counts() {
      return withClient(pool, 'counts', async (c) => {
        const out = {} as TableCounts;
        for (const table of COPIED_TABLES) out[table] = (await c.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n;
        return out;
      });
    },
    async close() {
      await Promise.allSettled([opened.driver.close(), pool.end()]);
    },
  };
}
