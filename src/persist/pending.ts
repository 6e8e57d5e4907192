/**
 * The changes gathered for one batch, coalesced per (table, key): the latest row of each key, the
 * keys deleted, and the sum of the counter deltas. Rows are immutable tuples built at the moment
 * of the change (src/model/rows.ts), so a batch that is cut never changes afterwards: a retry
 * sends exactly the same rows.
 *
 * Cost: each add is O(1); `toWire` is O(entities), and the queue never lets one batch grow past
 * VIBEFIXER_FLUSH_MAX_BATCH entities, so no cut holds the event loop longer than that bound.
 */
import {
  type DeleteKeys,
  type DeleteTable,
  emptyStatsDelta,
  type StatsDelta,
  type UpsertRows,
  type UpsertTable,
  type WireBatch,
} from '../model/rows.js';

/** A row's coalescing key within its table (its primary key): the state's change port uses the same. */
type RowKey = string | number;

export class PendingChanges {
  private readonly upserts = new Map<UpsertTable, Map<RowKey, unknown>>();
  private readonly deletes = new Map<DeleteTable, Set<RowKey>>();
  private stats: StatsDelta | null = null;
  /** Distinct entities gathered (the stats delta counts as one). */
  count = 0;
  /** When the first of them was gathered; null while empty. */
  sinceMs: number | null = null;

  constructor(readonly seq: number) {}

  upsert<T extends UpsertTable>(table: T, key: RowKey, row: UpsertRows[T], nowMs: number): void {
    let rows = this.upserts.get(table);
    if (rows === undefined) this.upserts.set(table, (rows = new Map()));
    const size = rows.size;
    rows.set(key, row);
    // A key deleted earlier in this batch and written again is a write, not a delete.
    const dropped = this.deletes.get(table as never)?.delete(key) === true;
    if (rows.size > size && !dropped) this.grew(nowMs);
  }

  delete<T extends DeleteTable>(table: T, key: DeleteKeys[T], nowMs: number): void {
    let keys = this.deletes.get(table);
    if (keys === undefined) this.deletes.set(table, (keys = new Set()));
    const size = keys.size;
    keys.add(key);
    const dropped = this.upserts.get(table)?.delete(key) === true;
    if (keys.size > size && !dropped) this.grew(nowMs);
  }

  addCounts(delta: Partial<StatsDelta>, nowMs: number): void {
    let s = this.stats;
    if (s === null) {
      s = this.stats = emptyStatsDelta();
      this.grew(nowMs);
    }
    s.startedCount += delta.startedCount ?? 0;
    s.endedCount += delta.endedCount ?? 0;
    s.staleEndedCount += delta.staleEndedCount ?? 0;
    s.wonCount += delta.wonCount ?? 0;
    s.lostCount += delta.lostCount ?? 0;
    s.abandonedCount += delta.abandonedCount ?? 0;
    s.latestCompletedAtMs = maxOrNull(s.latestCompletedAtMs, delta.latestCompletedAtMs ?? null);
    s.latestActivityAtMs = maxOrNull(s.latestActivityAtMs, delta.latestActivityAtMs ?? null);
  }

  /** The batch as it crosses the thread; empty tables are left out. */
  toWire(): WireBatch {
    const batch: WireBatch = { seq: this.seq, upserts: {}, deletes: {}, stats: this.stats };
    const upserts = batch.upserts as Record<string, unknown[]>;
    for (const [table, rows] of this.upserts) if (rows.size > 0) upserts[table] = [...rows.values()];
    const deletes = batch.deletes as Record<string, RowKey[]>;
    for (const [table, keys] of this.deletes) if (keys.size > 0) deletes[table] = [...keys];
    return batch;
  }

  private grew(nowMs: number): void {
    this.count += 1;
    this.sinceMs ??= nowMs;
  }
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
