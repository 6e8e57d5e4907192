/**
 * The SQLite driver's reads: the schedule of active sessions page by page (start-up), the rows of
 * sessions on their first use, everything else in one go, and the count of sessions started in a
 * time window.
 *
 * Never: write anything, or read the levels (nothing after creation needs them).
 */
import type { ColdSessionRow } from '../../src/model/records.js';
import { highScoreOfRow, type LoadedSessions, noticeOfRow, type RestQuery, settingOfRow, type StoredRest } from '../../src/model/rows.js';
import { WorkerFailure } from '../failure.js';
import type { Store } from './statements.js';

/** Largest page a task may ask for: bounds the worker's memory per reply. */
export const MAX_PAGE_ROWS = 100_000;

export function activeSessionsPage(store: Store, after: string | null, limit: number): ColdSessionRow[] {
  checkLimit(limit, 'reloadSessions');
  return after === null ? store.st.activeFirstPage.all(limit) : store.st.activeNextPage.all(after, limit);
}

export function loadSessions(store: Store, ids: readonly string[]): LoadedSessions {
  const out: LoadedSessions = { sessions: [], missingIds: [] };
  for (const id of ids) {
    const header = store.st.activeHeader.get(id);
    if (header === undefined) out.missingIds.push(id);
    else out.sessions.push([header, store.st.artifactsOf.all(id)]);
  }
  return out;
}

export function rest(store: Store, query: RestQuery): StoredRest {
  const { st } = store;
  const { highScoreLimit } = query;
  if (!Number.isSafeInteger(highScoreLimit) || highScoreLimit < 0) {
    throw new WorkerFailure('INTERNAL', `reloadRest: highScoreLimit must be a non-negative integer, got ${highScoreLimit}`);
  }
  const c = st.stats.get();
  if (c === undefined) throw new WorkerFailure('SQLITE', 'the stats row is missing (schema 5 always has one)');
  return {
    stats: {
      startedCount: c[0],
      endedCount: c[1],
      staleEndedCount: c[2],
      wonCount: c[3],
      lostCount: c[4],
      abandonedCount: c[5],
      latestCompletedAtMs: c[6],
      latestActivityAtMs: c[7],
    },
    highScores: highScoreLimit === 0 ? [] : st.newestHighScores.all(highScoreLimit).map(highScoreOfRow),
    maxHighScoreId: Math.max(st.getMeta.get('max_high_score_id') ?? 0, st.maxHighScoreIdInTable.get() ?? 0),
    notices: st.allNotices.all().map(noticeOfRow),
    settings: st.allSettings.all().map(settingOfRow),
    idempotencyKeys: st.newestIdempotencyKeys.all(query.idempotencySinceMs, query.idempotencyLimit).reverse(),
  };
}

export function countStarted(store: Store, fromMs: number, toMs: number): number {
  return store.st.countStarted.get(fromMs, toMs) ?? 0;
}

function checkLimit(limit: number, what: string): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) {
    throw new WorkerFailure('INTERNAL', `${what}: limit must be an integer in 1..${MAX_PAGE_ROWS}, got ${limit}`);
  }
}
