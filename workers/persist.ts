/**
 * The persistence worker: the piscina entry that owns the SQLite file.
 *
 *   main thread ──task (protocol.ts)──► handle(task) ──switch(kind)──► sqlite/{open,apply,
 *                                                                     reload,maintenance}
 *   main thread ◄──Reply (data, never a throw)──┘   reloadSessions: page moved, not copied
 *
 * State: the open database and its prepared statements (`store`), nothing else. Tasks run one
 * at a time, synchronously, in arrival order; no timers run here.
 *
 * Never: throw to the caller (every failure becomes a TaskError), touch sockets or game rules,
 * or create/quarantine a file except on an explicit `open` task.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { OpenReply, OpenTask, PersistWorkerData, ReloadSessionsReply, Reply, Task } from '../src/model/protocol.js';
import { applyBatch } from './sqlite/apply.js';
import { WorkerFailure, toTaskError } from './sqlite/errors.js';
import { backup, checkpoint, close, retention } from './sqlite/maintenance.js';
import { openStore } from './sqlite/open.js';
import { checkSessions, countStarted, loadSessions, reloadRest, reloadSessions } from './sqlite/reload.js';
import type { Store } from './sqlite/statements.js';

let store: Store | null = null;

/** Synchronous handler: what the piscina entry runs, and what unit tests call directly. */
export function handle(task: Task): Reply {
  try {
    return dispatch(task);
  } catch (err) {
    const phase = task?.kind === 'open' ? 'open' : 'run';
    const dbPath = task?.kind === 'open' ? task.dbPath : (store?.dbPath ?? null);
    return toTaskError(err, phase, describe(task), dbPath);
  }
}

/**
 * Piscina entry. A reloadSessions page is transferred: piscina unwraps the movable to the
 * reply itself and puts the page in the transfer list, so the caller still receives a Reply.
 */
export default async function persist(task: Task): Promise<Reply> {
  const reply = handle(task);
  if (reply.ok && reply.kind === 'reloadSessions') return withMovedPage(reply);
  return reply;
}

/** Fault-injection seam for tests (e.g. `PRAGMA max_page_count` to provoke SQLITE_FULL). */
export function currentDatabase(): Database.Database | null {
  return store?.db ?? null;
}

function dispatch(task: Task): Reply {
  switch (task.kind) {
    case 'open':
      return openTask(task);
    case 'close':
      return closeTask();
    case 'apply':
      return applyBatch(need(), task);
    case 'reloadSessions':
      return reloadSessions(need(), task);
    case 'checkSessions':
      return checkSessions(need(), task);
    case 'loadSessions':
      return loadSessions(need(), task);
    case 'reloadRest':
      return reloadRest(need(), task);
    case 'countStarted':
      return countStarted(need(), task);
    case 'checkpoint':
      return checkpoint(need(), task);
    case 'retention':
      return retention(need(), task);
    case 'backup':
      return backup(need(), task);
    default: {
      const unknown: never = task;
      throw new WorkerFailure('INTERNAL', `unknown task kind ${JSON.stringify((unknown as { kind?: unknown })?.kind)}`);
    }
  }
}

function openTask(task: OpenTask): OpenReply {
  // A second open (e.g. after a failed start) first releases the file this thread holds.
  if (store !== null) closeTask();
  const opened = openStore({ dbPath: task.dbPath, synchronous: task.synchronous, reopen: false });
  store = opened.store;
  const { st } = opened.store;
  const hasToday = Number.isFinite(task.todayStartMs) && Number.isFinite(task.todayEndMs);
  return {
    ok: true,
    kind: 'open',
    quarantinedTo: opened.quarantinedTo,
    quarantineReason: opened.quarantineReason,
    created: opened.created,
    schemaVersion: opened.store.db.pragma('user_version', { simple: true }) as number,
    migratedFrom: opened.migratedFrom,
    lastSeq: st.getMeta.get('last_seq') ?? 0,
    sessionsToday: hasToday ? (st.countStarted.get(task.todayStartMs, task.todayEndMs) ?? 0) : 0,
  };
}

/** Closing a worker with nothing open is a no-op, not a reason to reopen the file. */
function closeTask(): Reply {
  const closing = store;
  store = null;
  if (closing === null) return { ok: true, kind: 'close' };
  return close(closing);
}

/** The open store, or a lazy reopen from piscina's workerData (a replaced thread), or NOT_OPEN. */
function need(): Store {
  if (store !== null) return store;
  const data = persistWorkerData();
  if (data === null) throw new WorkerFailure('NOT_OPEN', 'no database is open: send an open task first');
  try {
    store = openStore({ dbPath: data.dbPath, synchronous: data.synchronous, reopen: true }).store;
  } catch (err) {
    const failed = toTaskError(err, 'open', `reopen ${data.dbPath}`, data.dbPath);
    throw new WorkerFailure(failed.code, failed.message, failed.retryable);
  }
  return store;
}

function persistWorkerData(): PersistWorkerData | null {
  if (isMainThread) return null;
  const data = workerData as Partial<PersistWorkerData> | null | undefined;
  if (typeof data?.dbPath !== 'string') return null;
  if (data.synchronous !== 'NORMAL' && data.synchronous !== 'FULL') return null;
  return { dbPath: data.dbPath, synchronous: data.synchronous };
}

function describe(task: Task): string {
  if (typeof task !== 'object' || task === null) return 'task';
  if (task.kind === 'apply') return `apply seq ${task.seq}`;
  if (task.kind === 'open') return `open ${task.dbPath}`;
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
