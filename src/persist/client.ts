/**
 * The worker client: the only place that knows piscina. One dedicated thread owns the database
 * (the SQLite file, or the PostgreSQL connections); the queue never has two batches in flight.
 * A task that throws on the thread (a crashed worker) becomes a retryable TaskError: piscina
 * replaces the thread, and the new thread reopens the database from `workerData`.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ApplyReply, PersistWorkerData, ReplyOf, StorageOptions, Task, TaskError } from '../model/protocol.js';
import type { BatchStore } from './queue.js';

/** dist/src/persist/client.js → dist/workers/persist.js (the built worker). */
const WORKER_FILE = fileURLToPath(new URL('../../workers/persist.js', import.meta.url));

type Kind = Task['kind'];
type TaskOf<K extends Kind> = Extract<Task, { kind: K }>;

export class WorkerClient implements BatchStore {
  private readonly pool: Piscina;

  constructor(storage: StorageOptions, workerFile: string = WORKER_FILE) {
    const workerData: PersistWorkerData = { storage };
    this.pool = new Piscina({
      filename: workerFile,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      // A replacement thread (after a crash) reopens the same database lazily from this.
      workerData,
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
