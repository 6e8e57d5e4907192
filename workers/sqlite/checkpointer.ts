/**
 * The SQLite driver's side of the checkpointer: starts checkpointer-thread.ts (a worker_threads
 * Worker inside the persistence thread, with its own connection), tells it how many rows each
 * commit wrote (one postMessage per batch), restarts it when it died, stops it before the final
 * TRUNCATE checkpoint at close.
 *
 * Why a thread with its own connection: a checkpoint copies pages and syncs the database file
 * (~25 ms here); on the write connection every commit and every held durable answer waited
 * behind it. Beside it (WAL, locking_mode=NORMAL: owner.ts) it takes no lock a commit needs.
 *
 * Never: wait for the thread on the commit path, arm a timer here (the persistence thread has
 * none: a dead thread is restarted at the next commit, at most once per RESTART_DELAY_MS), or
 * lose data when the thread dies (it only copies committed pages; the WAL keeps them until then).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Synchronous } from '../../src/model/protocol.js';

/** A checkpoint is due once this many changed rows were committed since the last one… */
export const CHECKPOINT_MIN_ROWS = 500;
/** …or once the oldest of them has waited this long (bounds the WAL of a quiet server). */
export const CHECKPOINT_MAX_AGE_MS = 5_000;
/** Past this many bytes of frames not all copied, a RESTART checkpoint holds commits once (see the thread). */
export const WAL_LIMIT_BYTES = 32 * 1024 * 1024;
/** The thread's busy timeout: how long a RESTART checkpoint may wait for the writer and readers. */
const BUSY_TIMEOUT_MS = 250;
/** A dead thread is started again at the next commit, but not more often than this. */
export const RESTART_DELAY_MS = 1_000;

export interface CheckpointerData {
  dbPath: string;
  synchronous: Synchronous;
  /** At most one checkpoint per this period while rows keep coming. */
  intervalMs: number;
  minRows: number;
  maxAgeMs: number;
  walLimitBytes: number;
  busyTimeoutMs: number;
  /** Test seam: while its first Int32 is 0, every checkpoint waits after `started`. */
  gate?: SharedArrayBuffer;
  /** Log every checkpoint (debug level); failures are always logged. */
  logEach: boolean;
}

export type ToCheckpointer = { kind: 'committed'; rows: number } | { kind: 'close' };

export type FromCheckpointer =
  | { kind: 'ready' }
  | { kind: 'started'; mode: 'PASSIVE' | 'RESTART' }
  | { kind: 'done'; mode: 'PASSIVE' | 'RESTART'; busy: number; logFrames: number; checkpointedFrames: number; ms: number }
  | { kind: 'failed'; code: string; message: string };

export interface CheckpointerOptions {
  dbPath: string;
  synchronous: Synchronous;
  intervalMs: number;
  /** Write `checkpoint_started`/`checkpoint_done` debug lines to stdout (VIBEFIXER_LOG_LEVEL=debug). */
  logEach?: boolean;
  minRows?: number;
  maxAgeMs?: number;
  walLimitBytes?: number;
  gate?: SharedArrayBuffer;
  /** Every message of the thread, for tests. */
  onEvent?: (event: FromCheckpointer) => void;
}

/** The compiled thread beside this file, or (tests run the TypeScript sources) the one in dist/. */
function threadFile(): string {
  const here = fileURLToPath(new URL('./checkpointer-thread.js', import.meta.url));
  if (fs.existsSync(here)) return here;
  return path.resolve(path.dirname(here), '..', '..', 'dist', 'workers', 'sqlite', 'checkpointer-thread.js');
}

export class Checkpointer {
  private worker: Worker | null = null;
  private diedAt = 0;
  private closed = false;
  /** Times the thread died and was (or will be) started again; for logs and tests. */
  deaths = 0;
  private lastError: string | null = null;

  constructor(private readonly options: CheckpointerOptions) {
    this.start();
  }

  /** Test seam: the running thread, null while it is dead (or closed). */
  get thread(): Worker | null {
    return this.worker;
  }

  /** A batch committed `rows` rows: cheap (a message), never waits. */
  committed(rows: number): void {
    // piscina keeps this thread in Atomics.wait/receiveMessageOnPort while tasks keep coming, so
    // the Worker's 'exit' event may not run for as long as the load lasts: threadId says it now.
    if (this.worker !== null && this.worker.threadId === -1) this.died(this.worker);
    if (this.worker === null) {
      if (this.closed || Date.now() - this.diedAt < RESTART_DELAY_MS) return;
      this.start();
    }
    this.worker?.postMessage({ kind: 'committed', rows } satisfies ToCheckpointer);
  }

  /** Stops the thread and waits until its connection is closed (before the final TRUNCATE). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (worker === null) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // A checkpoint held at the test gate must be let go, or the thread never reads 'close'.
    if (this.options.gate !== undefined) {
      const gate = new Int32Array(this.options.gate);
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    }
    worker.postMessage({ kind: 'close' } satisfies ToCheckpointer);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') await worker.terminate();
  }

  private start(): void {
    const o = this.options;
    const data: CheckpointerData = {
      dbPath: o.dbPath,
      synchronous: o.synchronous,
      intervalMs: o.intervalMs,
      minRows: o.minRows ?? CHECKPOINT_MIN_ROWS,
      maxAgeMs: o.maxAgeMs ?? CHECKPOINT_MAX_AGE_MS,
      walLimitBytes: o.walLimitBytes ?? WAL_LIMIT_BYTES,
      busyTimeoutMs: BUSY_TIMEOUT_MS,
      gate: o.gate,
      logEach: o.logEach === true,
    };
    const worker = new Worker(threadFile(), { workerData: data });
    // The persistence thread must be able to exit with the checkpointer still running.
    worker.unref();
    this.worker = worker;
    // Only for tests: the thread logs for itself (this thread's event loop may not turn under load).
    if (o.onEvent !== undefined) worker.on('message', o.onEvent);
    worker.on('error', (err) => {
      this.lastError = err.message;
    });
    worker.on('exit', () => this.died(worker));
  }

  private died(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.diedAt = Date.now();
    this.deaths += 1;
    logLine(50, 'checkpointer_died', 'checkpointer thread died; started again at a commit after 1 s (the WAL keeps every commit meanwhile)', {
      error: this.lastError,
      deaths: this.deaths,
    });
    this.lastError = null;
  }
}

/**
 * The storage threads have no logger: a line shaped like the main thread's pino lines
 * (src/server/log.ts), written synchronously to the process's stdout (one write per line, so
 * lines never mix), whatever this thread's event loop is doing.
 */
export function logLine(level: number, event: string, msg: string, fields: Record<string, unknown>): void {
  const line = { level, time: new Date().toISOString(), service: 'vibefixer-server', event, ...fields, msg };
  try {
    fs.writeSync(1, `${JSON.stringify(line)}\n`);
  } catch {
    // stdout closed or full: a log line is not worth failing a checkpoint or a commit for.
  }
}
