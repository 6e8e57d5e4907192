/**
 * The write-behind queue's guarantees, with a scripted store in place of the worker (the seam
 * `BatchStore`): coalescing per (table, key), counter deltas, seq order, one batch in flight,
 * bounded batches, the bound, retries that keep the batch, durable waiters and drain.
 */
import { describe, expect, it } from 'vitest';
import type { ApplyReply, SessionRecord, TaskError, WireBatch } from '../src/model/protocol.js';
import { decode } from '../src/model/protocol.js';
import { sessionRow } from '../src/model/rows.js';
import { type BatchStore, DurableTimeout, type QueueOptions, WriteBehindQueue } from '../src/persist/queue.js';

/** What the worker receives, decoded back for assertions. */
const received = (bytes: ArrayBuffer): WireBatch => decode<WireBatch>(bytes);

/** A session's header row handed to the queue, as the state does after a change. */
function save(q: WriteBehindQueue, s: SessionRecord): number {
  return q.upsert('sessions', s.id, sessionRow(s));
}

const idsOf = (batch: WireBatch) => (batch.upserts.sessions ?? []).map((row) => row[0]);
const SCORE = 6;

interface Call {
  seq: number;
  batch: WireBatch;
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
    groundCount: 0,
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
      save(q, s);
    }
    save(q, session('b'));
    expect(q.depth).toBe(2);
    await until(() => store.calls.length === 1);
    const { batch } = store.calls[0];
    expect(idsOf(batch)).toEqual(['a', 'b']);
    expect(batch.upserts.sessions![0][SCORE]).toBe(50);
  });

  it('keeps rows of different tables apart and coalesces each per key; a delete wins over an earlier upsert', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options());
    q.upsert('artifacts', 'a#0', ['a', 0, 'artifact_0_x', 1, 2, 'inAir', 5, 5]);
    q.upsert('artifacts', 'a#0', ['a', 0, 'artifact_0_x', 1, 2, 'ground', 5, 6]);
    q.upsert('artifacts', 'a#1', ['a', 1, 'artifact_1_y', 3, 4, 'inAir', 6, 6]);
    q.upsert('notices', 'n1', ['n1', 't', 'm', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
    q.delete('notices', 'n1');
    expect(q.depth).toBe(3);
    await until(() => store.calls.length === 1);
    const { batch } = store.calls[0];
    expect(batch.upserts.artifacts).toEqual([
      ['a', 0, 'artifact_0_x', 1, 2, 'ground', 5, 6],
      ['a', 1, 'artifact_1_y', 3, 4, 'inAir', 6, 6],
    ]);
    expect(batch.upserts.notices).toBeUndefined();
    expect(batch.deletes.notices).toEqual(['n1']);
  });

  it('adds the counter deltas of one batch together and starts the next batch from zero', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options());
    q.count({ startedCount: 1, latestActivityAtMs: 10 });
    q.count({ startedCount: 1, endedCount: 1, wonCount: 1, latestCompletedAtMs: 12, latestActivityAtMs: 12 });
    q.count({ latestActivityAtMs: 11 });
    expect(q.depth).toBe(1);
    await until(() => store.calls.length === 1);
    expect(store.calls[0].batch.stats).toEqual({
      startedCount: 2,
      endedCount: 1,
      staleEndedCount: 0,
      wonCount: 1,
      lostCount: 0,
      abandonedCount: 0,
      latestCompletedAtMs: 12,
      latestActivityAtMs: 12,
    });
    store.calls[0].settle(OK(1));
    q.count({ abandonedCount: 1, latestActivityAtMs: 20 });
    await until(() => store.calls.length === 2);
    expect(store.calls[1].batch.stats).toMatchObject({ startedCount: 0, abandonedCount: 1, latestCompletedAtMs: null });
  });

  it('seals a full batch even while another is in flight, so no batch ever exceeds the batch size', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000, flushMaxBatch: 10, maxPending: 1000 }));
    save(q, session('first'));
    q.whenDurable(q.pendingSeq, () => {});
    await until(() => store.calls.length === 1);
    // Each change in its own task, as requests arrive (a full batch is sealed after the change that filled it).
    for (let i = 0; i < 35; i++) {
      save(q, session(`s${i}`));
      await Promise.resolve();
    }
    expect(q.depth).toBe(36);
    // Four more batches were sealed while the first was in flight: 10 + 10 + 10 + 5 rows.
    q.whenDurable(q.pendingSeq, () => {});
    for (let n = 1; n <= 5; n++) {
      await until(() => store.calls.length === n);
      store.calls[n - 1].settle(OK(n));
    }
    await until(() => q.durableSeq === 5);
    expect(store.calls.map((c) => idsOf(c.batch).length)).toEqual([1, 10, 10, 10, 5]);
    expect(store.calls.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(store.calls.flatMap((c) => idsOf(c.batch))).toEqual(['first', ...Array.from({ length: 35 }, (_, i) => `s${i}`)]);
    expect(store.maxInFlight).toBe(1);
  });

  it('never splits the rows of one change across two batches, even when the batch fills up in the middle of it', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000, flushMaxBatch: 2 }));
    save(q, session('x'));
    // One change: the end of a session writes its header and moves the counters.
    const seqs = [save(q, session('ended')), q.count({ endedCount: 1 })];
    expect(seqs[0]).toBe(seqs[1]);
    await until(() => store.calls.length === 1);
    expect(idsOf(store.calls[0].batch)).toEqual(['x', 'ended']);
    expect(store.calls[0].batch.stats?.endedCount).toBe(1);
  });

  it('retries exactly the rows it cut: a later change of the same key goes in the next batch', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options());
    const s = session('a', 1);
    save(q, s);
    await until(() => store.calls.length === 1);
    store.calls[0].settle(DISK_FULL);
    s.score = 2;
    save(q, s);
    await until(() => store.calls.length === 2);
    expect(store.calls[1].seq).toBe(1);
    expect(store.calls[1].batch.upserts.sessions![0][SCORE]).toBe(1);
    store.calls[1].settle(OK(1));
    await until(() => store.calls.length === 3);
    expect(store.calls[2].seq).toBe(2);
    expect(store.calls[2].batch.upserts.sessions![0][SCORE]).toBe(2);
  });

  it('never has two batches in flight and numbers batches in increasing seq order', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ lastSeq: 41 }));
    save(q, session('a'));
    await until(() => store.calls.length === 1);
    save(q, session('b'));
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
    const seq = save(q, session('a'));
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
    for (let i = 0; i < 100; i++) q.whenDurable(save(q, session(`s${i}`)), () => (answered += 1));
    await until(() => store.calls.length === 1);
    expect(idsOf(store.calls[0].batch)).toHaveLength(100);
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
    const seq = save(q, session('a', 7));
    let durable: Error | null | undefined;
    q.whenDurable(seq, (e) => (durable = e));
    for (let attempt = 0; attempt < 3; attempt++) {
      await until(() => store.calls.length === attempt + 1);
      store.calls[attempt].settle(DISK_FULL);
      await until(() => q.degraded);
    }
    save(q, session('b')); // new changes gather meanwhile, in the next batch
    expect(q.depth).toBe(2);
    await until(() => store.calls.length === 4);
    expect(store.calls.map((c) => c.seq)).toEqual([1, 1, 1, 1]);
    expect(store.calls[3].batch.upserts.sessions![0][SCORE]).toBe(7);
    store.calls[3].settle(OK(1));
    await until(() => durable !== undefined);
    expect(durable).toBeNull();
    expect(q.degraded).toBe(false);
    expect(failures).toEqual([1, 1, 1]);
    expect(recovered).toBe(1);
    await until(() => store.calls.length === 5);
    expect(store.calls[4].seq).toBe(2);
    expect(idsOf(store.calls[4].batch)).toEqual(['b']);
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
    save(q, session('a'));
    await until(() => q.durableSeq === 1);
    expect(attempts).toBe(3);
    expect(q.retriesTotal).toBe(2);
  });

  it('fails a held answer with DurableTimeout after the wait bound while storage is down', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ durableWaitMs: 20 }));
    let result: Error | null | undefined;
    q.whenDurable(save(q, session('a')), (e) => (result = e));
    await until(() => store.calls.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    q.expireWaiters();
    expect(result).toBeInstanceOf(DurableTimeout);
    expect(q.depth).toBe(1); // the change itself is still owned by the queue
  });

  it('refuses new writes past the pending bound and accepts again once committed', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ maxPending: 3, flushMaxBatch: 3 }));
    save(q, session('a'));
    save(q, session('b'));
    expect(q.accepting()).toBe(true);
    save(q, session('c'));
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
    for (let i = 0; i < 10; i++) save(q, session(`s${i}`));
    await until(() => store.calls.length === 1);
    expect(idsOf(store.calls[0].batch)).toHaveLength(10);
  });

  it('drain commits everything pending and stops accepting writes', async () => {
    const store = new ScriptedStore();
    const q = new WriteBehindQueue(store, options({ flushIntervalMs: 60_000 }));
    save(q, session('a'));
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
    save(q, session('a'));
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
