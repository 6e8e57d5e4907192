/**
 * Held (durable) answers, in arrival order: each waits for the batch that holds its change. Seqs
 * never decrease along the list (a change is always gathered into the open batch, whose seq only
 * grows), so releasing a commit and expiring old answers both take from the front.
 *
 * Never: call a callback twice, or release an answer before its seq is committed.
 */

/** Called once per held answer: null when durable, an error when it gave up waiting. */
export type DurableCallback = (error: Error | null) => void;

export class DurableTimeout extends Error {
  constructor(readonly seq: number) {
    super(`change not committed within the durable wait bound (seq ${seq})`);
  }
}

interface Waiter {
  seq: number;
  atMs: number;
  cb: DurableCallback;
}

export class DurableWaiters {
  private list: Waiter[] = [];

  get size(): number {
    return this.list.length;
  }

  /** The highest seq anyone waits for, or 0. */
  get highestSeq(): number {
    return this.list.length === 0 ? 0 : this.list[this.list.length - 1].seq;
  }

  add(seq: number, atMs: number, cb: DurableCallback): void {
    const waiter = { seq, atMs, cb };
    const last = this.list[this.list.length - 1];
    if (last === undefined || last.seq <= seq) this.list.push(waiter);
    else this.list.splice(this.list.findIndex((w) => w.seq > seq), 0, waiter); // never on the hot path
  }

  /** Answers every waiter whose change is in a batch up to `seq` (committed). */
  release(seq: number): void {
    let n = 0;
    while (n < this.list.length && this.list[n].seq <= seq) n += 1;
    if (n > 0) for (const w of this.list.splice(0, n)) w.cb(null);
  }

  /** Fails the waiters that arrived at or before `deadlineMs` with DurableTimeout. */
  expire(deadlineMs: number): void {
    let n = 0;
    while (n < this.list.length && this.list[n].atMs <= deadlineMs) n += 1;
    if (n > 0) for (const w of this.list.splice(0, n)) w.cb(new DurableTimeout(w.seq));
  }

  /** Fails every waiter with `error` now; returns how many. */
  failAll(error: Error): number {
    const all = this.list.splice(0);
    for (const w of all) w.cb(error);
    return all.length;
  }
}
