/**
 * Start-up reads: active sessions page by page, everything else in one reply, and the count of
 * sessions started in a time window.
 *
 * A session page is a msgpack array of `[id, startedAtMs, durationSeconds]` rows (protocol.ts
 * `ColdSessionRow`) read from a covering index: the records stay on disk until a request first
 * uses the session (`loadSessions`), and are checked in the background after the port opened
 * (`checkSessions`), so start-up time does not grow with what the sessions hold.
 *
 * Never: put bytes in a page without checking that they decode, by themselves, to the session
 * stored under its id (one bad row would otherwise break the whole page's decode), read the
 * immutable levels, or write anything.
 */
import {
  decode,
  type CheckSessionsReply,
  type CheckSessionsTask,
  type LoadSessionsReply,
  type LoadSessionsTask,
  ownBytes,
  packr,
  type CountStartedReply,
  type CountStartedTask,
  type HighScoreRecord,
  type NoticeRecord,
  type ReloadRestReply,
  type ReloadRestTask,
  type ReloadSessionsReply,
  type ReloadSessionsTask,
  type SettingRecord,
  type StatsRecord,
} from '../../src/model/protocol.js';
import { WorkerFailure } from './errors.js';
import { isPlainSessionBlob } from './msgpack-check.js';
import type { Store } from './statements.js';

/** Largest page a task may ask for: bounds the worker's memory per reply. */
export const MAX_PAGE_ROWS = 100_000;

/**
 * The bytes this row contributes to a page, or null to skip it. The fast path keeps the stored
 * bytes as they are (msgpack-check.ts); anything outside its subset goes to the real decoder,
 * and what decodes to this session is re-encoded, so the page only ever holds plain msgpack.
 */
function pageBytes(id: string, data: unknown): Uint8Array | null {
  if (!(data instanceof Uint8Array)) return null; // a TEXT or number written over the BLOB
  if (isPlainSessionBlob(data, id)) return data;
  try {
    const value = decode<{ id?: unknown } | null>(data);
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value.id !== id) return null;
    return new Uint8Array(packr.pack(value)); // a copy: pack() returns a view into a reused buffer
  } catch {
    return null;
  }
}

export function reloadSessions(store: Store, task: ReloadSessionsTask): ReloadSessionsReply {
  const { limit, after } = task;
  checkLimit(limit, 'reloadSessions');
  const entries = after === null ? store.st.activeFirstPage.all(limit) : store.st.activeNextPage.all(after, limit);
  const page = ownBytes(packr.pack(entries));
  // A short page is the last one; a full page may be followed by an empty one.
  const nextAfter = entries.length === limit ? entries[entries.length - 1][0] : null;
  return { ok: true, kind: 'reloadSessions', page, count: entries.length, nextAfter };
}

export function checkSessions(store: Store, task: CheckSessionsTask): CheckSessionsReply {
  const { limit, after } = task;
  checkLimit(limit, 'checkSessions');
  // Rowids start at 1: 0 is before the first row.
  const rows = store.st.activeDataPage.all(after ?? 0, limit);
  const skippedIds: string[] = [];
  for (const [, id, data] of rows) if (pageBytes(id, data) === null) skippedIds.push(id);
  const nextAfter = rows.length === limit ? rows[rows.length - 1][0] : null;
  return { ok: true, kind: 'checkSessions', checked: rows.length, skippedIds, nextAfter };
}

function checkLimit(limit: number, what: string): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_ROWS) {
    throw new WorkerFailure('INTERNAL', `${what}: limit must be an integer in 1..${MAX_PAGE_ROWS}, got ${limit}`);
  }
}

/** The stored records of active sessions, for their first use after a restart. */
export function loadSessions(store: Store, task: LoadSessionsTask): LoadSessionsReply {
  const records: Array<[string, Uint8Array]> = [];
  const skippedIds: string[] = [];
  const missingIds: string[] = [];
  for (const id of task.ids) {
    const data = store.st.activeSessionData.get(id);
    if (data === undefined) {
      missingIds.push(id);
      continue;
    }
    const bytes = pageBytes(id, data);
    if (bytes === null) skippedIds.push(id);
    else records.push([id, bytes]);
  }
  return { ok: true, kind: 'loadSessions', records, skippedIds, missingIds };
}

/** Decode every BLOB, dropping (and counting) the ones that do not decode to an object. */
function decodeAll<T>(blobs: Buffer[], counter: { skipped: number }): T[] {
  const out: T[] = [];
  for (const blob of blobs) {
    const value = tryDecode<T>(blob);
    if (value === null) counter.skipped++;
    else out.push(value);
  }
  return out;
}

function tryDecode<T>(blob: unknown): T | null {
  if (!(blob instanceof Uint8Array)) return null;
  try {
    const value = decode<T>(blob);
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}

export function reloadRest(store: Store, task: ReloadRestTask): ReloadRestReply {
  const { st } = store;
  const limit = task.highScoreLimit;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new WorkerFailure('INTERNAL', `reloadRest: highScoreLimit must be a non-negative integer, got ${limit}`);
  }
  const counter = { skipped: 0 };

  const statsBlob = st.statsRow.get();
  let stats: StatsRecord | null = null;
  if (statsBlob !== undefined) {
    stats = tryDecode<StatsRecord>(statsBlob);
    if (stats === null) counter.skipped++;
  }
  const highScores = limit === 0 ? [] : decodeAll<HighScoreRecord>(st.newestHighScores.all(limit), counter);
  const maxHighScoreId = Math.max(st.getMeta.get('max_high_score_id') ?? 0, st.maxHighScoreIdInTable.get() ?? 0);
  const notices = decodeAll<NoticeRecord>(st.allNotices.all(), counter);
  const settings = decodeAll<SettingRecord>(st.allSettings.all(), counter);

  return { ok: true, kind: 'reloadRest', stats, highScores, maxHighScoreId, notices, settings, skipped: counter.skipped };
}

export function countStarted(store: Store, task: CountStartedTask): CountStartedReply {
  return { ok: true, kind: 'countStarted', count: store.st.countStarted.get(task.fromMs, task.toMs) ?? 0 };
}
