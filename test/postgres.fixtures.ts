/**
 * Shared fixtures of the PostgreSQL driver tests (test/postgres.*.test.ts): one real server per
 * test file (test/helpers/postgres.ts), a fresh database per test, and row builders in the
 * tuple shapes of src/model/rows.ts.
 * Never: share a database between tests, or leave a driver or server running after the file.
 */
import { afterAll, beforeAll } from 'vitest';
import pg from 'pg';
import type { OpenedDriver } from '../workers/driver.js';
import { openPostgres } from '../workers/postgres/open.js';
import { emptyStatsDelta } from '../src/model/convert.js';
import type { RestQuery } from '../src/model/stored.js';
import {
  type AdminSessionRow,
  type ArtifactRow,
  type AuditRow,
  type HighScoreRow,
  type IdempotencyRow,
  type LevelRow,
  type NoticeRow,
  type SessionRow,
  type SettingRow,
  type StatsDelta,
  type WireBatch,
} from '../src/model/rows.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

export const T0 = 1_700_000_000_000;

/** Starts one server for the calling test file and stops it (and every driver opened) after it. */
export function usePostgres(): { server: () => TestPostgres; open: (url?: string, timeoutMs?: number) => Promise<Opened> } {
  let server: TestPostgres | null = null;
  const opened: OpenedDriver[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    for (const o of opened.splice(0)) await o.driver.close().catch(() => undefined);
    await server?.destroy();
  });
  const get = () => {
    if (server === null) throw new Error('postgres not started');
    return server;
  };
  return {
    server: get,
    /** Opens the driver on `url` (default: a fresh database). */
    async open(url?: string, statementTimeoutMs = 5_000) {
      const target = url ?? (await get().createDatabase());
      const o = await openPostgres({ url: target, poolSize: 4, statementTimeoutMs });
      opened.push(o);
      return { ...o, url: target };
    },
  };
}

export type Opened = OpenedDriver & { url: string };

/** BIGINT as a JS number, as the driver reads it (every BIGINT in the tests is a safe integer). */
const INT8_AS_NUMBER = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
} as unknown as pg.CustomTypesConfig;

/** One statement on a direct connection, for checks the driver does not expose. */
export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, types: INT8_AS_NUMBER });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export function sessionRow(id: string, overrides: Partial<Record<number, unknown>> = {}): SessionRow {
  const row: SessionRow = [id, 'active', `seed-${id}`, T0, 120.5, 87.5, 3, 2, 2, null, null, null];
  for (const [i, v] of Object.entries(overrides)) (row as unknown[])[Number(i)] = v;
  return row;
}

export function endedRow(id: string, endedAtMs: number): SessionRow {
  return [id, 'ended', `seed-${id}`, T0, 120, 100, 7, 0, 2, endedAtMs, 'ended', 'won'];
}

export function artifactRows(sessionId: string, n = 2): ArtifactRow[] {
  return Array.from({ length: n }, (_, i): ArtifactRow => [sessionId, i, `artifact_${i}`, 10.25 + i, 20.5, i % 2 === 0 ? 'ground' : 'inAir', T0 + i, T0 + 100 + i]);
}

export function levelRow(sessionId: string): LevelRow {
  return [
    sessionId,
    {
      terrain: [
        { id: 'terrain_ground', type: 'ground', bounds: { x: 0, y: 500, width: 800, height: 100 } },
        { id: 'terrain_1', type: 'stone', bounds: { x: 120.5, y: 400, width: 64, height: 16 } },
      ],
      trashCan: { position: { x: 700, y: 450 }, bounds: { x: 680, y: 430, width: 40, height: 50.5 } },
    },
  ];
}

export function highScoreRow(id: number, createdAtMs = T0 + id): HighScoreRow {
  return [id, createdAtMs, `player${id}`, id % 2 === 0 ? 'lost' : 'won', id];
}

export function noticeRow(id: string, createdAtMs: number | null = T0, updatedAtMs: number | null = T0 + 5): NoticeRow {
  return [id, `Title ${id}`, 'Maintenance tonight', '2026-01-01T00:00:00.000Z', '2026-12-31T00:00:00.000Z', createdAtMs, updatedAtMs];
}

/** A token hash: 64 lowercase hex digits, distinct per `n`. */
export function tokenHash(n: number): string {
  return n.toString(16).padStart(64, '0');
}

export function adminSessionRow(n: number, expiresAtMs = T0 + 3_600_000, createdAtMs = T0): AdminSessionRow {
  return [tokenHash(n), createdAtMs, expiresAtMs];
}

export function auditRow(id: number, atMs = T0 + id): AuditRow {
  return [id, atMs, id % 2 === 0 ? 'security' : 'gameplay', id % 3 === 0 ? 'high' : 'info', `event_${id}`, `Event ${id} happened`, `{"id":${id},"note":"a b"}`];
}

export function settingRow(key: string, value: number): SettingRow {
  return [key, value, T0];
}

export function delta(overrides: Partial<StatsDelta> = {}): StatsDelta {
  return { ...emptyStatsDelta(), ...overrides };
}

export function batch(seq: number, parts: Partial<Omit<WireBatch, 'seq'>> = {}): WireBatch {
  return { seq, upserts: {}, deletes: {}, stats: null, ...parts };
}

/**
 * The rest with `highScoreLimit` newest high scores, every idempotency key and audit row (up to
 * 1000 each), and the admin sessions valid at `nowMs` (default: every one).
 */
export function restQuery(highScoreLimit: number, nowMs = 0, auditLimit = 1000): RestQuery {
  return { highScoreLimit, idempotencySinceMs: 0, idempotencyLimit: 1000, nowMs, auditLimit };
}

export function idempotencyRow(client: string, key: string, createdAtMs = T0, seq = 1): IdempotencyRow {
  return [client, key, `fp-${key}`, 201, `{"ok":"${key}"}`, seq, createdAtMs];
}

/** A batch with every part present: nine upsert tables, three delete tables, the high-score mark, stats. */
export function everyPartBatch(seq: number, n: number, overrides: Partial<WireBatch['upserts']> = {}, stats = delta({ startedCount: 2, wonCount: 1, latestActivityAtMs: T0 + n })): WireBatch {
  return batch(seq, {
    upserts: {
      sessions: [sessionRow(`s${n}`), sessionRow(`t${n}`)],
      artifacts: artifactRows(`s${n}`),
      levels: [levelRow(`s${n}`)],
      highScores: [highScoreRow(n)],
      notices: [noticeRow(`n${n}`)],
      settings: [settingRow(`k${n}`, n)],
      idempotencyKeys: [idempotencyRow('c', `k${n}`, T0, seq)],
      adminSessions: [adminSessionRow(n)],
      audit: [auditRow(n)],
      ...overrides,
    },
    deletes: { highScores: [n - 1], notices: [`n${n - 1}`], adminSessions: [adminSessionRow(n - 1)[0]] },
    stats,
  });
}

/** Every data table's content, for "nothing changed" comparisons. */
export async function snapshot(url: string): Promise<Record<string, unknown[]>> {
  const tables = [
    'meta', 'sessions', 'artifacts', 'session_levels', 'stats', 'high_scores', 'notices', 'settings',
    'idempotency_keys', 'admin_sessions', 'audit_log',
  ];
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = await sql(url, `SELECT * FROM ${t} ORDER BY 1, 2`);
  return out;
}
