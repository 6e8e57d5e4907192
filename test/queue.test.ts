/**
 * The write-behind queue's guarantees, with a scripted store in place of the worker (the seam
 * `BatchStore`): coalescing, seq order, one batch in flight, the bound, retries that keep the
 * batch, durable waiters and drain.
 */
import { describe, expect, it } from 'vitest';
import type { ApplyReply, Batch, SessionRecord, TaskError, WireBatch } from '../src/model/protocol.js';
import { decode } from '../src/model/protocol.js';

/** What the worker receives, with each session's bytes decoded back, for assertions. */
function received(bytes: ArrayBuffer): Batch {
  const wire = decode<WireBatch>(bytes);
  return {
    ...wire,
    sessions: wire.sessions.map((row) => ({
      session: decode<SessionRecord>(row.data),
      ...(row.level ? { level: decode(row.level) } : {}),
    })),
  } as Batch;
}
import { type BatchStore, DurableTimeout, type QueueOptions, WriteBehindQueue } from '../src/persist/queue.js';

interface Call {
  seq: number;
  batch: Batch;
  settle(reply: ApplyReply | TaskError): void;
}

/** A store whose applies wait until the test settles them. */
class ScriptedStore implements BatchStore {
  calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  apply(seq: number, bytes: ArrayBuffer): Promise<ApplyReply | TaskError> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) => {
      this.calls.push({
        seq,
        batch: received(bytes),
        settle: (reply) => {
          this.inFlight -= 1;
          resolve(reply);
        },
      });
    });
  }
}

const OK = (seq: number): ApplyReply => ({ ok: true, kind: 'apply', seq, applied: true, rows: 1, commitMs: 0.1 });
const DISK_FULL: TaskError = { ok: false, code: 'DISK_FULL', message: 'database or disk is full', retryable: true };

const options = (over: Partial<QueueOptions> = {}): QueueOptions => ({
  flushIntervalMs: 5,
  flushMaxBatch: 1000,
  maxPending: 1000,
  durableWaitMs: 10_000,
  retryMaxBackoffMs: 20,
  lastSeq: 0,
  ...over,
});

function session(id: string, score = 0): SessionRecord {
  return {
    id,
    seed: 's',
    startedAtMs: 1,
    durationSeconds: 60,
    playerSpeedPercent: 100,
    status: 'active',
    score,
    remainingArtifactCount: 0,
    artifacts: [],
    endedAtMs: null,
    endReason: null,
    result: null,
  };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('write-behind queue', () => {
  it('coalesces repeated changes of one entity into one entry carrying its latest state', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options());
    const s = session('a');
    for (let i = 1; i <= 50; i++) {
      s.score = i;
      q.session(s);
    }
    q.session(session('b'));
    expect(q.depth).toBe(2);
    await until(() => store.calls.length === 1);
    const { batch } = store.calls[0];
    expect(batch.sessions.map((e) => e.session.id)).toEqual(['a', 'b']);
    expect(batch.sessions[0].session.score).toBe(50);
  });

  it('keeps the level of a new session when later changes of it are coalesced', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options());
    const s = session('a');
    q.session(s, { terrain: [], trashCan: { position: { x: 1, y: 2 }, bounds: { x: 1, y: 2, width: 3, height: 4 } } });
    q.session(s);
    await until(() => store.calls.length === 1);
    expect(store.calls[0].batch.sessions[0].level?.trashCan.position).toEqual({ x: 1, y: 2 });
  });

  it('never has two batches in flight and numbers batches in increasing seq order', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ lastSeq: 41 }));
    q.session(session('a'));
    await until(() => store.calls.length === 1);
    q.session(session('b'));
    await new Promise((r) => setTimeout(r, 30)); // well past the flush interval
    expect(store.calls).toHaveLength(1);
    store.calls[0].settle(OK(42));
    await until(() => store.calls.length === 2);
    store.calls[1].settle(OK(43));
    await until(() => q.durableSeq === 43);
    expect(store.calls.map((c) => c.seq)).toEqual([42, 43]);
    expect(store.maxInFlight).toBe(1);
  });

  it('answers a durable waiter only after the batch holding its change is committed', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000 }));
    const seq = q.session(session('a'));
    let done: Error | null | undefined;
    q.whenDurable(seq, (e) => (done = e));
    await until(() => store.calls.length === 1); // the waiter triggered the flush (group commit)
    expect(done).toBeUndefined();
    store.calls[0].settle(OK(seq));
    await until(() => done !== undefined);
    expect(done).toBeNull();
  });

  it('group-commits the changes of many waiters arriving together into one batch', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000 }));
    let answered = 0;
    for (let i = 0; i < 100; i++) q.whenDurable(q.session(session(`s${i}`)), () => (answered += 1));
    await until(() => store.calls.length === 1);
    expect(store.calls[0].batch.sessions).toHaveLength(100);
    store.calls[0].settle(OK(1));
    await until(() => answered === 100);
  });

  it('keeps a failed batch, retries it with the same seq, reports degraded, and loses nothing', async () => {
    const store = new ScriptedStore();
    const failures: number[] = [];
    let recovered = 0;
    const q = new WriteBehindQueue(store, options(), {
      failed: (f) => failures.push(f.seq),
      recovered: () => (recovered += 1),
    });
    const seq = q.session(session('a', 7));
    let durable: Error | null | undefined;
    q.whenDurable(seq, (e) => (durable = e));
    for (let attempt = 0; attempt < 3; attempt++) {
      await until(() => store.calls.length === attempt + 1);
      store.calls[attempt].settle(DISK_FULL);
      await until(() => q.degraded);
    }
    q.session(session('b')); // new changes gather meanwhile, in the next batch
    expect(q.depth).toBe(2);
    await until(() => store.calls.length === 4);
    expect(store.calls.map((c) => c.seq)).toEqual([1, 1, 1, 1]);
    expect(store.calls[3].batch.sessions[0].session.score).toBe(7);
    store.calls[3].settle(OK(1));
    await until(() => durable !== undefined);
    expect(durable).toBeNull();
    expect(q.degraded).toBe(false);
    expect(failures).toEqual([1, 1, 1]);
    expect(recovered).toBe(1);
    await until(() => store.calls.length === 5);
    expect(store.calls[4].seq).toBe(2);
    expect(store.calls[4].batch.sessions[0].session.id).toBe('b');
  });

  it('treats a thrown worker error (a crashed thread) like a failed batch: kept and retried', async () => {
    let attempts = 0;
    const store: BatchStore = {
      apply: (seq) => {
        attempts += 1;
        return attempts < 3 ? Promise.reject(new Error('worker exited')) : Promise.resolve(OK(seq));
      },
    };
    const q = new WriteBehindQueue(store, options());
    q.session(session('a'));
    await until(() => q.durableSeq === 1);
    expect(attempts).toBe(3);
    expect(q.retriesTotal).toBe(2);
  });

  it('fails a held answer with DurableTimeout after the wait bound while storage is down', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ durableWaitMs: 20 }));
    let result: Error | null | undefined;
    q.whenDurable(q.session(session('a')), (e) => (result = e));
    await until(() => store.calls.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    q.expireWaiters();
    expect(result).toBeInstanceOf(DurableTimeout);
    expect(q.depth).toBe(1); // the change itself is still owned by the queue
  });

  it('refuses new writes past the pending bound and accepts again once committed', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ maxPending: 3, flushMaxBatch: 3 }));
    q.session(session('a'));
    q.session(session('b'));
    expect(q.accepting()).toBe(true);
    q.session(session('c'));
    expect(q.accepting()).toBe(false);
    await until(() => store.calls.length === 1);
    expect(q.accepting()).toBe(false); // in flight still counts until committed
    store.calls[0].settle(OK(1));
    await until(() => q.accepting());
    expect(q.depth).toBe(0);
  });

  it('cuts a batch as soon as the batch size is reached, without waiting for the interval', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000, flushMaxBatch: 10 }));
    for (let i = 0; i < 10; i++) q.session(session(`s${i}`));
    await until(() => store.calls.length === 1);
    expect(store.calls[0].batch.sessions).toHaveLength(10);
  });

  it('drain commits everything pending and stops accepting writes', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000 }));
    q.session(session('a'));
    const drained = q.drain();
    expect(q.accepting()).toBe(false);
    await until(() => store.calls.length === 1);
    store.calls[0].settle(OK(1));
    await drained;
    expect(q.durableSeq).toBe(1);
    expect(q.depth).toBe(0);
  });

  it('reports the age of the oldest uncommitted change, and zero once committed', async () => {
    let now = 1000;
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options(), {}, () => now);
    q.session(session('a'));
    now = 1250;
    expect(q.oldestUnflushedMs()).toBe(250);
    await until(() => store.calls.length === 1);
    now = 1300;
    expect(q.oldestUnflushedMs()).toBe(300);
    store.calls[0].settle(OK(1));
    await until(() => q.durableSeq === 1);
    expect(q.oldestUnflushedMs()).toBe(0);
  });
});
