/**
 * Start-up and first-use reads: active sessions page by page (id, started_at, duration only),
 * whole active sessions (header + artifact rows, as rows.ts tuples) for their first use, the
 * rest (stats, newest high scores, notices, settings, recent idempotency keys, valid admin sessions,
 * the newest audit rows), and the count of sessions started in a window. Multi-statement reads run in one REPEATABLE READ READ ONLY transaction: one snapshot,
 * so an apply committing in between cannot tear a session from its artifacts.
 *
 * Never: write, read the immutable levels (nothing at run time needs them), or hand back a
 * BIGINT as a string (pool.ts parses int8 to number).
 */
import { highScoreOfRow, noticeOfRow, settingOfRow } from '../../src/model/convert.js';
import type { ColdSessionRow, StatsRecord } from '../../src/model/records.js';
import type {
  AdminSessionRow,
  ArtifactRow,
  AuditRow,
  HighScoreRow,
  IdempotencyRow,
  NoticeRow,
  SessionRow,
  SettingRow,
} from '../../src/model/rows.js';
import type { LoadedSessions, RestQuery, StoredRest, StoredSession } from '../../src/model/stored.js';
import { WorkerFailure } from './errors.js';
import { type Client, run } from './pool.js';
import { SQL } from './statements.js';

/** Largest page or id list a call may ask for: bounds the memory of one reply. */
export const MAX_PAGE_ROWS = 100_000;

export const SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

export function checkLimit(limit: number, what: string, min = 1): void {
  if (!Number.isSafeInteger(limit) || limit < min || limit > MAX_PAGE_ROWS) {
    throw new WorkerFailure('INTERNAL', `${what}: limit must be an integer in ${min}..${MAX_PAGE_ROWS}, got ${limit}`);
  }
}

export async function activeSessionsPage(client: Client, after: string | null, limit: number): Promise<ColdSessionRow[]> {
  checkLimit(limit, 'activeSessionsPage');
  // '' sorts before every id under COLLATE "C" (ids are never empty).
  return (await run<ColdSessionRow>(client, SQL.activePage, [after ?? '', limit])).rows;
}

export async function loadSessions(client: Client, ids: readonly string[]): Promise<LoadedSessions> {
  if (ids.length > MAX_PAGE_ROWS) {
    throw new WorkerFailure('INTERNAL', `loadSessions: at most ${MAX_PAGE_ROWS} ids per call, got ${ids.length}`);
  }
  const unique = [...new Set(ids)];
  const headers = (await run<SessionRow>(client, SQL.activeHeaders, [unique])).rows;
  const artifacts = (await run<ArtifactRow>(client, SQL.artifactsOf, [unique])).rows;
  const byId = new Map<string, StoredSession>();
  for (const h of headers) byId.set(h[0], [h, []]);
  for (const a of artifacts) byId.get(a[0])?.[1].push(a);
  const sessions: StoredSession[] = [];
  const missingIds: string[] = [];
  for (const id of unique) {
    const found = byId.get(id);
    if (found === undefined) missingIds.push(id);
    else sessions.push(found);
  }
  return { sessions, missingIds };
}

type StatsColumns = [number, number, number, number, number, number, number | null, number | null];

export async function rest(client: Client, query: RestQuery): Promise<StoredRest> {
  const { highScoreLimit, idempotencySinceMs, idempotencyLimit, nowMs, auditLimit } = query;
  for (const [name, value] of [['highScoreLimit', highScoreLimit], ['idempotencyLimit', idempotencyLimit], ['auditLimit', auditLimit]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new WorkerFailure('INTERNAL', `rest: ${name} must be a non-negative integer, got ${value}`);
    }
  }
  for (const [name, value] of [['idempotencySinceMs', idempotencySinceMs], ['nowMs', nowMs]] as const) {
    if (!Number.isFinite(value)) throw new WorkerFailure('INTERNAL', `rest: ${name} must be a number, got ${value}`);
  }
  const s = (await run<StatsColumns>(client, SQL.stats)).rows[0];
  if (s === undefined) throw new WorkerFailure('POSTGRES', 'the stats row is missing (the migration always inserts one)');
  const stats: StatsRecord = {
    startedCount: s[0],
    endedCount: s[1],
    staleEndedCount: s[2],
    wonCount: s[3],
    lostCount: s[4],
    abandonedCount: s[5],
    latestCompletedAtMs: s[6],
    latestActivityAtMs: s[7],
  };
  const highScores =
    highScoreLimit === 0 ? [] : (await run<HighScoreRow>(client, SQL.newestHighScores, [highScoreLimit])).rows.map(highScoreOfRow);
  const maxHighScoreId = (await run<[number]>(client, SQL.maxHighScoreId)).rows[0][0];
  const notices = (await run<NoticeRow>(client, SQL.allNotices)).rows.map(noticeOfRow);
  const settings = (await run<SettingRow>(client, SQL.allSettings)).rows.map(settingOfRow);
  const idempotencyKeys =
    idempotencyLimit === 0
      ? []
      : (await run<IdempotencyRow>(client, SQL.newestIdempotencyKeys, [idempotencySinceMs, idempotencyLimit])).rows.reverse();
  const adminSessions = (await run<AdminSessionRow>(client, SQL.validAdminSessions, [nowMs])).rows;
  const audit = auditLimit === 0 ? [] : (await run<AuditRow>(client, SQL.newestAudit, [auditLimit])).rows.reverse();
  return { stats, highScores, maxHighScoreId, notices, settings, idempotencyKeys, adminSessions, audit };
}

export async function countStarted(client: Client, fromMs: number, toMs: number): Promise<number> {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) {
    throw new WorkerFailure('INTERNAL', `countStarted: bounds must be numbers, got ${fromMs}..${toMs}`);
  }
  return (await run<[number]>(client, SQL.countStarted, [fromMs, toMs])).rows[0][0];
}

export async function lastSeq(client: Client): Promise<number> {
  return (await run<[number]>(client, SQL.lastSeq)).rows[0]?.[0] ?? 0;
}
