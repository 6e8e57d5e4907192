/**
 * Safe retries: the answers of writes that carried an idempotency key, per client, for a stated
 * window. A repeat of the same request with the same key gets the first answer (once that is
 * durable) and changes nothing; the same key with a different request is refused.
 *
 * The remembered answer is handed on as a row in the same synchronous run as the write's own rows,
 * so both land in one batch: after a crash or restart, a key is remembered exactly when its write
 * was committed.
 *
 * Bounded: keys older than IDEMPOTENCY_WINDOW_MS are forgotten (and deleted by retention), and at
 * most IDEMPOTENCY_MAX_KEYS are held; past that the oldest is forgotten first.
 * Never: remember an answer that changed nothing (an error): retrying it is already safe.
 */
import type { IdempotencyRow } from '../model/rows.js';
import type { Answer } from './answer.js';
import type { ChangeSink } from './changes.js';

/** How long a key is remembered: retries after a 503, a lost connection or a restart come well within it. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Most keys held in memory (about 300 bytes each); the oldest are forgotten first past it. */
export const IDEMPOTENCY_MAX_KEYS = 200_000;

export interface Remembered {
  fingerprint: string;
  answer: Answer;
  createdAtMs: number;
}

export class IdempotencyStore {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly entries = new Map<string, Remembered>();

  constructor(private readonly sink: ChangeSink) {}

  get size(): number {
    return this.entries.size;
  }

  find(client: string, key: string, nowMs: number): Remembered | undefined {
    this.forgetOld(nowMs);
    return this.entries.get(scope(client, key));
  }

  /** Remembers the answer of a write that changed something; returns the seq of its row. */
  remember(client: string, key: string, fingerprint: string, answer: Answer, nowMs: number): number {
    const id = scope(client, key);
    const seq = answer.seq ?? 0;
    const entry: Remembered = { fingerprint, answer, createdAtMs: nowMs };
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > IDEMPOTENCY_MAX_KEYS) this.entries.delete(this.entries.keys().next().value!);
    const row: IdempotencyRow = [client, key, fingerprint, answer.status, JSON.stringify(answer.body), seq, nowMs];
    return this.sink.upsert('idempotencyKeys', id, row);
  }

  /** Reload: rows oldest first. */
  load(rows: readonly IdempotencyRow[]): void {
    for (const [client, key, fingerprint, status, body, seq, createdAtMs] of rows) {
      this.entries.set(scope(client, key), { fingerprint, answer: { status, body: JSON.parse(body), seq }, createdAtMs });
    }
  }

  private forgetOld(nowMs: number): void {
    const cutoff = nowMs - IDEMPOTENCY_WINDOW_MS;
    for (const [id, entry] of this.entries) {
      if (entry.createdAtMs >= cutoff) break;
      this.entries.delete(id);
    }
  }
}

function scope(client: string, key: string): string {
  return `${client}\u0000${key}`;
}
