/**
 * The checkpointer thread (a worker_threads Worker started by checkpointer.ts inside the
 * persistence thread): its own connection to the database, copying the WAL into the file with
 * PASSIVE checkpoints while the write connection keeps committing.
 *
 *   persistence thread ──{committed rows}──► pace: ≥ minRows since the last checkpoint (at most
 *                                                  one per intervalMs), or maxAgeMs after the
 *                                                  first row nobody checkpointed yet
 *                      ◄──{started|done|failed}──┘ PASSIVE; RESTART when the WAL passed walLimitBytes
 *
 * A timer is armed only while committed rows wait: an idle server never wakes this thread.
 * PASSIVE takes no lock a commit waits for; it cannot reset the WAL while commits keep appending,
 * so when the WAL holds more than walLimitBytes one RESTART checkpoint (commits wait for it: a
 * rare, short stall) lets the next commit start the WAL again from its beginning.
 *
 * Never: write to the database (it only copies committed pages: dying here loses nothing),
 * throw out of a checkpoint (a failure is reported and the next one tries again), or run when
 * nothing was committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type CheckpointerData, type FromCheckpointer, logLine, type ToCheckpointer } from './checkpointer.js';
import type { CheckpointRow } from './statements.js';

const data = workerData as CheckpointerData;
const port = parentPort!;
const post = (msg: FromCheckpointer) => {
  if (msg.kind === 'failed') logLine(40, 'checkpoint_failed', 'checkpoint failed (the WAL keeps every commit; the next one tries again)', { code: msg.code, error: msg.message });
  else if (data.logEach && msg.kind !== 'ready') logLine(20, `checkpoint_${msg.kind}`, `checkpoint ${msg.kind}`, { ...msg });
  port.postMessage(msg);
};

const db = new Database(data.dbPath, { fileMustExist: true, timeout: data.busyTimeoutMs });
db.pragma(`synchronous = ${data.synchronous}`);
db.pragma('wal_autocheckpoint = 0');
const pageSize = db.pragma('page_size', { simple: true }) as number;
const passive = db.prepare<[], CheckpointRow>('PRAGMA wal_checkpoint(PASSIVE)');
const restart = db.prepare<[], CheckpointRow>('PRAGMA wal_checkpoint(RESTART)');

/** Rows committed since the last checkpoint started, and when the first of them was reported. */
let pendingRows = 0;
let firstPendingAt = 0;
let lastStartAt = 0;
let timer: NodeJS.Timeout | null = null;
let timerDue = 0;
let closing = false;

port.on('message', (msg: ToCheckpointer) => {
  if (msg.kind === 'committed') {
    if (pendingRows === 0) firstPendingAt = Date.now();
    pendingRows += msg.rows;
    schedule();
  } else if (msg.kind === 'close') {
    closing = true;
    if (timer !== null) clearTimeout(timer);
    db.close();
    port.close();
  }
});
post({ kind: 'ready' });

function schedule(): void {
  if (closing || pendingRows === 0) return;
  const now = Date.now();
  const due = pendingRows >= data.minRows ? Math.max(now, lastStartAt + data.intervalMs) : firstPendingAt + data.maxAgeMs;
  if (timer !== null && timerDue <= due) return;
  if (timer !== null) clearTimeout(timer);
  timerDue = due;
  timer = setTimeout(() => {
    timer = null;
    run();
  }, due - now);
}

function run(): void {
  if (closing) return;
  pendingRows = 0;
  lastStartAt = Date.now();
  post({ kind: 'started', mode: 'PASSIVE' });
  // Test seam: a checkpoint held here on purpose (checkpointer.ts `gate`) shows that commits
  // do not wait for this thread.
  if (data.gate !== undefined) Atomics.wait(new Int32Array(data.gate), 0, 0);
  try {
    let mode: 'PASSIVE' | 'RESTART' = 'PASSIVE';
    let row = passive.get()!;
    // Commits append while PASSIVE copies, so under sustained writes the WAL is never wholly
    // copied when a commit starts, and only then does SQLite write it again from its beginning
    // (measured: +26 MB in 400 batches of a write loop). Past the limit, RESTART copies the rest
    // with new commits held (a short stall) and makes the next commit restart the WAL.
    if (row.log * (pageSize + 24) > data.walLimitBytes) {
      mode = 'RESTART';
      post({ kind: 'started', mode });
      row = restart.get()!;
    }
    post({ kind: 'done', mode, busy: row.busy, logFrames: row.log, checkpointedFrames: row.checkpointed, ms: Date.now() - lastStartAt });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    post({ kind: 'failed', code: typeof e.code === 'string' ? e.code : '', message: String(e.message ?? err) });
  }
  schedule();
}
