/**
 * The write-behind queue: gathers the rows of every change, coalesced per (table, key), and hands
 * them, one batch at a time, to the persistence worker.
 *
 *   upsert/delete/count ──► open batch (pending.ts) ──seal──► sealed batches ──send──► in flight
 *        │ returns its seq        (≤ FLUSH_MAX_BATCH entities each)                   │ worker acks
 *        ▼                                                                            ▼
 *   durable waiters (by seq) ◄──────────── released when durableSeq reaches their seq ┘
 *
 * What must never happen (DESIGN.md invariants 1–3, 7):
 * - two batches in flight, or a batch applied out of seq order;
 * - a batch dropped: a failed batch stays in flight, owned by the queue, and is retried with
 *   capped backoff until the worker acknowledges it (its rows are immutable, so every attempt
 *   sends the same batch);
 * - unbounded growth: past `maxPending` uncommitted entities `accepting()` is false and the
 *   transports refuse writes (503) before changing anything;
 * - a long stall: a batch is sealed as soon as it holds `flushMaxBatch` entities (even while
 *   another is in flight), so sealing and encoding one batch is bounded work;
 * - half a change in a batch: sealing waits for the running command to finish (a microtask).
 *
 * Seal triggers: the flush interval (armed when the first change arrives), the batch size, and —
 * for held (durable) answers — the worker being idle (group commit: while one batch commits, the
 * next gathers every change that arrives meanwhile).
 */
import type { ApplyReply, TaskError, WireBatch } from '../model/protocol.js';
import { encodeBatch } from '../model/protocol.js';
import type { DeleteKeys, DeleteTable, StatsDelta, UpsertRows, UpsertTable } from '../model/rows.js';
import { PendingChanges } from './pending.js';
import { type DurableCallback, DurableWaiters } from './waiters.js';

export { type DurableCallback, DurableTimeout } from './waiters.js';

/** The worker seam: the real one is the piscina client; tests inject failures here. */
export interface BatchStore {
  apply(seq: number, bytes: ArrayBuffer): Promise<ApplyReply | TaskError>;
}

export interface QueueOptions {
  flushIntervalMs: number;
  flushMaxBatch: number;
  maxPending: number;
  durableWaitMs: number;
  retryMaxBackoffMs: number;
  /** Seq already committed in the file (from open); the next batch is lastSeq + 1. */
  lastSeq: number;
}

export interface QueueEvents {
  committed?(info: { seq: number; entities: number; bytes: number; commitMs: number }): void;
  failed?(info: { seq: number; error: TaskError | Error; attempt: number; retryInMs: number }): void;
  recovered?(info: { seq: number; attempts: number }): void;
}

interface Sealed {
  seq: number;
  batch: WireBatch;
  entities: number;
  firstDirtyAtMs: number;
  attempts: number;
  bytes: number;
}

const RETRY_BASE_MS = 50;

/**
 * Implements the state's change port (src/state/changes.ts) structurally: persistence never
 * imports the state, the composition root hands the queue to it.
 */
export class WriteBehindQueue {
  private open: PendingChanges;
  /** Cut, in seq order, waiting for the batch in flight to commit. */
  private readonly sealed: Sealed[] = [];
  private inFlight: Sealed | null = null;
  /** Entities in the sealed batches and the one in flight. */
  private cutEntities = 0;
  private readonly waiters = new DurableWaiters();
  private durableSeq_: number;
  private intervalTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  /** A flush trigger fired while a batch was in flight: seal as soon as it is acknowledged. */
  private flushDue = false;
  /** A full batch is sealed once the code that is running now has finished (see gathered). */
  private sealQueued = false;
  private closed = false;
  private drainWaiters: Array<() => void> = [];
  private lastCommitAtMs: number | null = null;
  private degraded_ = false;
  retriesTotal = 0;

  constructor(
    private readonly store: BatchStore,
    private readonly opts: QueueOptions,
    private readonly events: QueueEvents = {},
    private readonly now: () => number = Date.now,
  ) {
    this.open = new PendingChanges(opts.lastSeq + 1);
    this.durableSeq_ = opts.lastSeq;
  }

  // --- ChangeSink: called by src/state right after each change --------------------------------

  upsert<T extends UpsertTable>(table: T, key: string | number, row: UpsertRows[T]): number {
    const before = this.open.count;
    this.open.upsert(table, key, row, this.now());
    return this.gathered(before);
  }

  delete<T extends DeleteTable>(table: T, key: DeleteKeys[T]): number {
    const before = this.open.count;
    this.open.delete(table, key, this.now());
    return this.gathered(before);
  }

  count(delta: Partial<StatsDelta>): number {
    const before = this.open.count;
    this.open.addCounts(delta, this.now());
    return this.gathered(before);
  }

  // --- what transports ask ---------------------------------------------------------------------

  /** False past the bound or once closed: the caller must refuse the write before changing state. */
  accepting(): boolean {
    return !this.closed && this.depth < this.opts.maxPending;
  }

  /** Entities not yet committed: gathering, sealed and in flight. */
  get depth(): number {
    return this.open.count + this.cutEntities;
  }

  get durableSeq(): number {
    return this.durableSeq_;
  }

  /** The seq the next change will be durable at. */
  get pendingSeq(): number {
    return this.open.seq;
  }

  get degraded(): boolean {
    return this.degraded_;
  }

  /** Age of the oldest uncommitted change in ms: the real loss window of ack=memory. */
  oldestUnflushedMs(): number {
    const since = this.inFlight?.firstDirtyAtMs ?? this.sealed[0]?.firstDirtyAtMs ?? this.open.sinceMs;
    return since === null ? 0 : this.now() - since;
  }

  lastCommitAgeMs(): number | null {
    return this.lastCommitAtMs === null ? null : this.now() - this.lastCommitAtMs;
  }

  /**
   * Calls `cb` once the change with this seq is committed, or with DurableTimeout after the
   * durable wait bound. Asks for a flush as soon as the worker is idle (group commit).
   */
  whenDurable(seq: number, cb: DurableCallback): void {
    if (seq <= this.durableSeq_) {
      cb(null);
      return;
    }
    this.waiters.add(seq, this.now(), cb);
    this.scheduleFlush();
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /** Stops accepting, seals what is gathered and resolves once everything is committed. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.idleAndEmpty()) return;
    this.scheduleFlush();
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops the timers; uncommitted changes stay in memory (used after drain, or on a hard stop). */
  stop(): void {
    this.closed = true;
    if (this.intervalTimer) clearTimeout(this.intervalTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.intervalTimer = this.retryTimer = null;
  }

  /** Fails held answers older than the wait bound; called by a periodic timer of the server. */
  expireWaiters(): void {
    this.waiters.expire(this.now() - this.opts.durableWaitMs);
  }

  /**
   * Answers every held answer with `error` now (shutdown when the final flush timed out: those
   * clients get a 503 instead of a closed connection). The changes stay queued. Returns how many.
   */
  failAllWaiters(error: Error): number {
    return this.waiters.failAll(error);
  }

  // --- internals -----------------------------------------------------------------------------

  /** After a change was gathered: a new entity may trigger a seal. Returns the seq of the change. */
  private gathered(countBefore: number): number {
    const seq = this.open.seq;
    if (this.open.count > countBefore) {
      // A full batch is sealed in a microtask, after the command that is running has handed on
      // all its rows: the rows of one change (a session's header and the counters it moved)
      // always share one batch, so a crash can never keep half of a change.
      if (this.open.count >= this.opts.flushMaxBatch) this.queueSeal();
      else this.armInterval();
    }
    return seq;
  }

  private queueSeal(): void {
    if (this.sealQueued) return;
    this.sealQueued = true;
    queueMicrotask(() => {
      this.sealQueued = false;
      if (this.open.count < this.opts.flushMaxBatch) return;
      this.seal();
      this.sendNext();
    });
  }

  private armInterval(): void {
    if (this.intervalTimer !== null || this.closed) return;
    this.intervalTimer = setTimeout(() => {
      this.intervalTimer = null;
      this.flush();
    }, this.opts.flushIntervalMs);
  }

  /** Seals on the next turn of the event loop, so every change of this turn shares the batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight !== null) {
      this.flushDue = true;
      return;
    }
    this.seal();
    this.sendNext();
  }

  /** Cuts the open batch (if it holds anything) and starts the next one. */
  private seal(): void {
    const open = this.open;
    if (open.count === 0) return;
    if (this.intervalTimer) {
      clearTimeout(this.intervalTimer);
      this.intervalTimer = null;
    }
    this.sealed.push({
      seq: open.seq,
      batch: open.toWire(),
      entities: open.count,
      firstDirtyAtMs: open.sinceMs ?? this.now(),
      attempts: 0,
      bytes: 0,
    });
    this.cutEntities += open.count;
    this.open = new PendingChanges(open.seq + 1);
  }

  private sendNext(): void {
    if (this.inFlight !== null) return;
    const next = this.sealed.shift();
    if (next === undefined) return;
    this.flushDue = false;
    this.inFlight = next;
    this.send();
  }

  private send(): void {
    const batch = this.inFlight!;
    batch.attempts += 1;
    // Encoded per attempt into an exact-size buffer that is moved to the worker (never a view
    // into msgpackr's reused buffer); the rows are immutable, so every attempt is the same batch.
    const bytes = encodeBatch(batch.batch);
    batch.bytes = bytes.byteLength;
    this.store.apply(batch.seq, bytes).then(
      (reply) => (reply.ok ? this.committed(batch, reply) : this.failed(batch, reply)),
      (error: Error) => this.failed(batch, error),
    );
  }

  private committed(batch: Sealed, reply: ApplyReply): void {
    this.inFlight = null;
    this.cutEntities -= batch.entities;
    this.durableSeq_ = batch.seq;
    this.lastCommitAtMs = this.now();
    if (this.degraded_) {
      this.degraded_ = false;
      this.events.recovered?.({ seq: batch.seq, attempts: batch.attempts });
    }
    this.events.committed?.({ seq: batch.seq, entities: batch.entities, bytes: batch.bytes, commitMs: reply.commitMs });
    // Send the next batch before answering this one's waiters: the worker commits it while this
    // thread writes the answers (group commit keeps both threads busy).
    if (this.sealed.length > 0) this.sendNext();
    else if (this.open.count > 0) {
      const waited = this.waiters.highestSeq >= this.open.seq;
      if (this.flushDue || waited || this.closed) this.flush();
      else this.armInterval();
    }
    this.waiters.release(batch.seq);
    if (this.idleAndEmpty()) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private failed(batch: Sealed, error: TaskError | Error): void {
    this.degraded_ = true;
    this.retriesTotal += 1;
    const retryInMs = Math.min(this.opts.retryMaxBackoffMs, RETRY_BASE_MS * 2 ** Math.min(batch.attempts - 1, 16));
    this.events.failed?.({ seq: batch.seq, error, attempt: batch.attempts, retryInMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.send();
    }, retryInMs);
  }

  private idleAndEmpty(): boolean {
    return this.inFlight === null && this.sealed.length === 0 && this.open.count === 0;
  }
}
