/**
 * The worker client: the only place that knows piscina. One dedicated thread owns the SQLite
 * file; tasks are sent one at a time per kind of work (the queue never has two batches in
 * flight). A task that throws on the thread (a crashed worker) becomes a retryable TaskError:
 * piscina replaces the thread, and the new thread reopens the file from `workerData`.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ApplyReply, ReplyOf, Synchronous, Task, TaskError } from '../model/protocol.js';
import type { BatchStore } from './queue.js';

export interface WorkerClientOptions {
  dbPath: string;
  synchronous: Synchronous;
}

/** dist/src/persist/client.js → dist/workers/persist.js (the built worker). */
const WORKER_FILE = fileURLToPath(new URL('../../workers/persist.js', import.meta.url));

type Kind = Task['kind'];
type TaskOf<K extends Kind> = Extract<Task, { kind: K }>;

export class WorkerClient implements BatchStore {
  private readonly pool: Piscina;

  constructor(opts: WorkerClientOptions, workerFile: string = WORKER_FILE) {
    this.pool = new Piscina({
      filename: workerFile,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      // A replacement thread (after a crash) reopens the same file lazily from this.
      workerData: { dbPath: opts.dbPath, synchronous: opts.synchronous },
    });
  }

  /** Runs one task; a thrown error (thread crash, bug) comes back as a retryable TaskError. */
  async run<K extends Kind>(task: TaskOf<K>, transfer: ArrayBuffer[] = []): Promise<ReplyOf[K] | TaskError> {
    try {
      return (await this.pool.run(task, { transferList: transfer })) as ReplyOf[K] | TaskError;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, code: 'INTERNAL', message: `worker failed: ${message}`, retryable: true };
    }
  }

  /** Moves the batch bytes to the worker (transferred, never cloned). */
  apply(seq: number, bytes: ArrayBuffer): Promise<ApplyReply | TaskError> {
    return this.run({ kind: 'apply', seq, bytes }, [bytes]);
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
