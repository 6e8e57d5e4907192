/**
 * The persistence worker: the piscina entry that owns the database, through a storage driver.
 *
 *   main thread ──task (src/model/protocol.ts)──► handle(task) ──switch(kind)──► StorageDriver
 *   main thread ◄──Reply (data, never a throw)──┘                     (workers/driver.ts:
 *                  reloadSessions: page moved, not copied               sqlite/ now, postgres/ next)
 *
 * State: the open driver, nothing else. Piscina runs one task at a time on this thread
 * (concurrentTasksPerWorker = 1), in arrival order; no timers run here.
 *
 * Never: throw to the caller (every failure becomes a TaskError), touch sockets or game rules,
 * or create/quarantine/migrate anything except on an explicit `open` task.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread, workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import {
  decode,
  encode,
  type OpenReply,
  type OpenTask,
  type PersistWorkerData,
  type ReloadSessionsReply,
  type Reply,
  type RetentionTask,
  type StorageOptions,
  type Task,
  type TaskError,
  type WireBatch,
} from '../src/model/protocol.js';
import type { OpenedDriver, RetentionCutoffs, StorageDriver } from './driver.js';
import { type Phase, WorkerFailure } from './failure.js';
import { checkBatch } from './sqlite/apply.js';
import { openSqlite } from './sqlite/driver.js';
import { toTaskError as sqliteTaskError } from './sqlite/errors.js';

export const MS_PER_DAY = 86_400_000;

let driver: StorageDriver | null = null;
let storage: StorageOptions | null = null;

/** The handler: what the piscina entry runs, and what unit tests call directly. */
export async function handle(task: Task): Promise<Reply> {
  try {
    return await dispatch(task);
  } catch (err) {
    const phase: Phase = task?.kind === 'open' ? 'open' : 'run';
    const options = task?.kind === 'open' ? task.storage : (storage ?? workerStorage());
    return describeFailure(err, phase, describe(task), options);
  }
}

/**
 * Piscina entry. A reloadSessions page is transferred: piscina unwraps the movable to the
 * reply itself and puts the page in the transfer list, so the caller still receives a Reply.
 */
export default async function persist(task: Task): Promise<Reply> {
  const reply = await handle(task);
  if (reply.ok && reply.kind === 'reloadSessions') return withMovedPage(reply);
  return reply;
}

/** Fault-injection seam for tests: the open driver. */
export function currentDriver(): StorageDriver | null {
  return driver;
}


async function dispatch(task: Task): Promise<Reply> {
  switch (task.kind) {
    case 'open':
      return openTask(task);
    case 'close':
      return closeTask();
    case 'apply': {
      const d = await need();
      const batch = decodeBatch(task.bytes, task.seq);
      const started = performance.now();
      const result = await d.apply(batch);
      return { ok: true, kind: 'apply', seq: task.seq, ...result, commitMs: performance.now() - started };
    }
    case 'reloadSessions': {
      const rows = await (await need()).activeSessionsPage(task.after, task.limit);
      const nextAfter = rows.length === task.limit ? rows[rows.length - 1][0] : null;
      return { ok: true, kind: 'reloadSessions', page: encode(rows), count: rows.length, nextAfter };
    }
    case 'loadSessions':
      return { ok: true, kind: 'loadSessions', ...(await (await need()).loadSessions(task.ids)) };
    case 'reloadRest':
      return { ok: true, kind: 'reloadRest', ...(await (await need()).rest(task)) };
    case 'countStarted':
      return { ok: true, kind: 'countStarted', count: await (await need()).countStarted(task.fromMs, task.toMs) };
    case 'retention': {
      return { ok: true, kind: 'retention', ...(await (await need()).retention(retentionCutoffs(task))) };
    }
    case 'backup':
      return { ok: true, kind: 'backup', destPath: task.destPath, ...(await (await need()).backup(task.destPath)) };
    default: {
      const unknown: never = task;
      throw new WorkerFailure('INTERNAL', `unknown task kind ${JSON.stringify((unknown as { kind?: unknown })?.kind)}`);
    }
  }
}

async function openDriver(options: StorageOptions, reopen: boolean): Promise<OpenedDriver> {
  if (options?.driver === 'sqlite') return openSqlite(options, reopen);
  if (options?.driver === 'postgres') {
    // Loaded only when used: a SQLite server never loads the PostgreSQL client.
    const { openPostgres } = await import('./postgres/open.js');
    return openPostgres(options, reopen);
  }
  throw new WorkerFailure('UNSUPPORTED', `storage driver ${JSON.stringify((options as { driver?: unknown })?.driver)} is not available in this build`);
}

async function openTask(task: OpenTask): Promise<OpenReply> {
  // A second open (e.g. after a failed start) first releases what this thread holds.
  if (driver !== null) await closeTask();
  const opened = await openDriver(task.storage, false);
  driver = opened.driver;
  storage = task.storage;
  const hasToday = Number.isFinite(task.todayStartMs) && Number.isFinite(task.todayEndMs);
  return {
    ok: true,
    kind: 'open',
    driver: driver.kind,
    location: driver.location,
    quarantinedTo: opened.quarantinedTo,
    quarantineReason: opened.quarantineReason,
    integrityChecked: opened.integrityChecked,
    created: opened.created,
    schemaVersion: opened.schemaVersion,
    migratedFrom: opened.migratedFrom,
    lastSeq: await driver.lastSeq(),
    sessionsToday: hasToday ? await driver.countStarted(task.todayStartMs, task.todayEndMs) : 0,
  };
}

/** Closing a worker with nothing open is a no-op, not a reason to reopen the database. */
async function closeTask(): Promise<Reply> {
  const closing = driver;
  driver = null;
  if (closing !== null) await closing.close();
  return { ok: true, kind: 'close' };
}

/** The open driver, or a lazy reopen from piscina's workerData (a replaced thread), or NOT_OPEN. */
async function need(): Promise<StorageDriver> {
  if (driver !== null) return driver;
  const options = workerStorage();
  if (options === null) throw new WorkerFailure('NOT_OPEN', 'no database is open: send an open task first');
  try {
    driver = (await openDriver(options, true)).driver;
    storage = options;
  } catch (err) {
    const failed = describeFailure(err, 'open', 'reopen', options);
    throw new WorkerFailure(failed.code, failed.message, failed.retryable);
  }
  return driver;
}

function workerStorage(): StorageOptions | null {
  if (isMainThread) return null;
  const data = workerData as Partial<PersistWorkerData> | null | undefined;
  const options = data?.storage;
  if (options?.driver === 'sqlite' && typeof options.dbPath === 'string') return options;
  if (options?.driver === 'postgres' && typeof options.url === 'string') return options;
  return null;
}

function decodeBatch(bytes: ArrayBuffer, seq: number): WireBatch {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new WorkerFailure('BAD_BATCH', `apply seq ${seq}: seq must be a positive integer`);
  let batch: WireBatch;
  try {
    batch = decode<WireBatch>(bytes);
  } catch (err) {
    throw new WorkerFailure('BAD_BATCH', `apply seq ${seq}: bytes do not decode as msgpack (${(err as Error).message})`);
  }
  checkBatch(batch, seq);
  return batch;
}

/** Days → cutoff instants; 0 days keeps forever (null). */
function retentionCutoffs(task: RetentionTask): RetentionCutoffs {
  if (!Number.isFinite(task.nowMs)) throw new WorkerFailure('INTERNAL', `retention: nowMs must be a number, got ${task.nowMs}`);
  const cutoff = (days: number, name: string): number | null => {
    if (!Number.isFinite(days) || days < 0) {
      throw new WorkerFailure('INTERNAL', `retention: ${name} must be a number >= 0 (0 keeps forever), got ${days}`);
    }
    return days === 0 ? null : task.nowMs - days * MS_PER_DAY;
  };
  if (!Number.isFinite(task.idempotencyWindowMs) || task.idempotencyWindowMs < 0) {
    throw new WorkerFailure('INTERNAL', `retention: idempotencyWindowMs must be a number >= 0, got ${task.idempotencyWindowMs}`);
  }
  return {
    sessionsBeforeMs: cutoff(task.sessionRetentionDays, 'sessionRetentionDays'),
    highScoresBeforeMs: cutoff(task.highScoreRetentionDays, 'highScoreRetentionDays'),
    idempotencyBeforeMs: task.nowMs - task.idempotencyWindowMs,
    adminSessionsBeforeMs: task.nowMs,
    auditBeforeMs: cutoff(task.auditRetentionDays ?? 0, 'auditRetentionDays'),
    auditMaxRows: Number.isSafeInteger(task.auditMaxRows) && task.auditMaxRows > 0 ? task.auditMaxRows : Number.MAX_SAFE_INTEGER,
  };
}

/** Each driver maps its own library's errors onto the stable codes (its own failures carry theirs). */
function describeFailure(err: unknown, phase: Phase, context: string, options: StorageOptions | null): TaskError {
  if (err instanceof WorkerFailure) return { ok: false, code: err.code, message: err.message, retryable: err.retryable };
  if (options?.driver === 'postgres') {
    // The PostgreSQL driver turns every error into a WorkerFailure itself; anything else is a bug.
    return { ok: false, code: 'INTERNAL', message: `${context}: ${err instanceof Error ? err.message : String(err)}`, retryable: true };
  }
  return sqliteTaskError(err, phase, context, options?.driver === 'sqlite' ? options.dbPath : null);
}

function describe(task: Task): string {
  if (typeof task !== 'object' || task === null) return 'task';
  if (task.kind === 'apply') return `apply seq ${task.seq}`;
  if (task.kind === 'open') return `open ${task.storage?.driver === 'sqlite' ? task.storage.dbPath : String(task.storage?.driver)}`;
  return String(task.kind);
}

/** See piscina's `move()`: the wrapper must be the returned value itself, not nested in it. */
function withMovedPage(reply: ReloadSessionsReply): Reply {
  const movable = move({
    get [transferableSymbol]() {
      return [reply.page];
    },
    get [valueSymbol]() {
      return reply;
    },
  });
  return movable as unknown as Reply;
}
