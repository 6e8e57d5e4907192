/**
 * The write-behind queue: coalesces dirty entities per key and hands them, one batch at a time,
 * to the persistence worker.
 *
 *   mark*(record) ──► pending (Map per kind, latest reference wins) ──cut──► in flight (bytes, seq)
 *        │ returns pendingSeq                                                  │ worker acks seq
 *        ▼                                                                     ▼
 *   durable waiters of pendingSeq ─────────────── moved with the batch ──► released, durableSeq = seq
 *
 * What must never happen (DESIGN.md invariants 1–3):
 * - two batches in flight, or a batch applied out of seq order;
 * - a batch dropped: a failed batch stays in flight, owned by the queue, and is retried with
 *   capped backoff until the worker acknowledges it;
 * - unbounded growth: past `maxPending` uncommitted entities `accepting()` is false and the
 *   transports refuse writes (503) before changing anything.
 *
 * Cut triggers: the flush interval (armed when the first change arrives), the batch size, and —
 * for held (durable) answers — the worker being idle (group commit: while one batch commits,
 * the next gathers every change that arrives meanwhile).
 */
import type {
  ApplyReply,
  Batch,
  HighScoreRecord,
  LevelRecord,
  NoticeRecord,
  SessionRecord,
  SettingRecord,
  StatsRecord,
  TaskError,
} from '../model/protocol.js';
import { encodeBatch } from '../model/protocol.js';
import { PendingChanges } from './pending.js';
import type { DirtySink } from './sink.js';

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

/** Called once per held answer: null when durable, an error when the wait bound passed. */
export type DurableCallback = (error: Error | null) => void;

export class DurableTimeout extends Error {
  constructor(readonly seq: number) {
    super(`change not committed within the durable wait bound (seq ${seq})`);
  }
}

interface Waiter {
  atMs: number;
  cb: DurableCallback;
}

interface InFlight {
  seq: number;
  /** References to the live records; encoded at each send (the first send is at the cut). */
  batch: Batch;
  bytes: number;
  entities: number;
  waiters: Waiter[];
  attempts: number;
  firstDirtyAtMs: number;
}

const RETRY_BASE_MS = 50;

export class WriteBehindQueue implements DirtySink {
  private pending = new PendingChanges();
  private pendingWaiters: Waiter[] = [];

  private inFlight: InFlight | null = null;
  private lastCutSeq: number;
  private durableSeq_: number;
  private intervalTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushScheduled = false;
  /** A flush trigger fired while a batch was in flight: cut as soon as it is acknowledged. */
  private flushDue = false;
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
    this.lastCutSeq = opts.lastSeq;
    this.durableSeq_ = opts.lastSeq;
  }

  // --- DirtySink: called by src/state right after each change --------------------------------

  session(record: SessionRecord, level?: LevelRecord): number {
    return this.gathered(this.pending.addSession(record, level, this.now()));
  }

  stats(record: StatsRecord): number {
    return this.gathered(this.pending.addStats(record, this.now()));
  }

  highScore(record: HighScoreRecord): number {
    return this.gathered(this.pending.addHighScore(record, this.now()));
  }

  notice(record: NoticeRecord): number {
    return this.gathered(this.pending.addNotice(record, this.now()));
  }

  setting(record: SettingRecord): number {
    return this.gathered(this.pending.addSetting(record, this.now()));
  }

  // --- what transports ask ---------------------------------------------------------------------

  /** False past the bound or once closed: the caller must refuse the write before changing state. */
  accepting(): boolean {
    return !this.closed && this.depth < this.opts.maxPending;
  }

  /** Entities not yet committed: pending plus in flight. */
  get depth(): number {
    return this.pending.count + (this.inFlight?.entities ?? 0);
  }

  get durableSeq(): number {
    return this.durableSeq_;
  }

  /** The seq the next change will be durable at. */
  get pendingSeq(): number {
    return this.lastCutSeq + 1;
  }

  get degraded(): boolean {
    return this.degraded_;
  }

  /** Age of the oldest uncommitted change in ms: the real loss window of ack=memory. */
  oldestUnflushedMs(): number {
    const since = this.inFlight?.firstDirtyAtMs ?? this.pending.sinceMs;
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
    const waiter = { atMs: this.now(), cb };
    if (this.inFlight !== null && seq <= this.inFlight.seq) this.inFlight.waiters.push(waiter);
    else this.pendingWaiters.push(waiter);
    this.scheduleFlush();
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /** Stops accepting, cuts what is pending and resolves once everything is committed. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.idleAndEmpty()) return;
    this.scheduleFlush();
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stops the timers; pending changes stay in memory (used after drain, or on a hard stop). */
  stop(): void {
    this.closed = true;
    if (this.intervalTimer) clearTimeout(this.intervalTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.intervalTimer = this.retryTimer = null;
  }

  /** Fails held answers older than the wait bound; called by a periodic timer of the server. */
  expireWaiters(): void {
    const deadline = this.now() - this.opts.durableWaitMs;
    const expire = (list: Waiter[]) => {
      let n = 0;
      while (n < list.length && list[n].atMs <= deadline) n += 1;
      for (const w of list.splice(0, n)) w.cb(new DurableTimeout(this.pendingSeq));
    };
    if (this.inFlight) expire(this.inFlight.waiters);
    expire(this.pendingWaiters);
  }

  /**
   * Fails every held answer at once with `error` (shutdown, after the final flush gave up); their
   * changes stay queued. Returns how many were failed.
   */
  failAllWaiters(error: Error): number {
    const waiters = [...(this.inFlight?.waiters.splice(0) ?? []), ...this.pendingWaiters.splice(0)];
    for (const w of waiters) w.cb(error);
    return waiters.length;
  }

  // --- internals -----------------------------------------------------------------------------

  /** After a change was gathered: a new entity may trigger a flush. Returns the pending seq. */
  private gathered(newEntity: boolean): number {
    if (newEntity) {
      if (this.pending.count >= this.opts.flushMaxBatch) this.scheduleFlush();
      else this.armInterval();
    }
    return this.pendingSeq;
  }

  private armInterval(): void {
    if (this.intervalTimer !== null || this.closed) return;
    this.intervalTimer = setTimeout(() => {
      this.intervalTimer = null;
      this.flush();
    }, this.opts.flushIntervalMs);
  }

  /** Cuts on the next turn of the event loop, so every change of this turn shares the batch. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.pending.count === 0) return;
    if (this.inFlight !== null) {
      this.flushDue = true;
      return;
    }
    this.flushDue = false;
    if (this.intervalTimer) {
      clearTimeout(this.intervalTimer);
      this.intervalTimer = null;
    }
    const seq = this.lastCutSeq + 1;
    const firstDirtyAtMs = this.pending.sinceMs ?? this.now();
    const entities = this.pending.count;
    this.inFlight = { seq, batch: this.pending.cut(seq), bytes: 0, entities, waiters: this.pendingWaiters, attempts: 0, firstDirtyAtMs };
    this.lastCutSeq = seq;
    this.pendingWaiters = [];
    this.send();
  }

  private send(): void {
    const batch = this.inFlight!;
    batch.attempts += 1;
    // Encoded once per send into an exact-size buffer that is moved to the worker (never a
    // view into msgpackr's reused buffer). A retry re-encodes the same entries: they may carry
    // newer state by then, which is still correct — state only moves forward, the same entities
    // are pending again for seq + 1, and a replay of an applied seq is a no-op in the worker.
    const bytes = encodeBatch(batch.batch);
    batch.bytes = bytes.byteLength;
    this.store.apply(batch.seq, bytes).then(
      (reply) => (reply.ok ? this.committed(batch, reply) : this.failed(batch, reply)),
      (error: Error) => this.failed(batch, error),
    );
  }

  private committed(batch: InFlight, reply: ApplyReply): void {
    this.inFlight = null;
    this.durableSeq_ = batch.seq;
    this.lastCommitAtMs = this.now();
    // The oldest uncommitted change is now the oldest pending one (if any).
    if (this.degraded_) {
      this.degraded_ = false;
      this.events.recovered?.({ seq: batch.seq, attempts: batch.attempts });
    }
    this.events.committed?.({
      seq: batch.seq,
      entities: batch.entities,
      bytes: batch.bytes,
      commitMs: reply.commitMs,
    });
    // Send the next batch before answering this one's waiters: the worker commits it while this
    // thread writes the answers (group commit keeps both threads busy).
    if (this.pending.count > 0) {
      const due = this.flushDue || this.pendingWaiters.length > 0 || this.closed || this.pending.count >= this.opts.flushMaxBatch;
      if (due) this.flush();
      else this.armInterval();
    }
    for (const w of batch.waiters) w.cb(null);
    if (this.idleAndEmpty()) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private failed(batch: InFlight, error: TaskError | Error): void {
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
    return this.inFlight === null && this.pending.count === 0;
  }
}
