/**
 * The change port: the one door through which src/state tells persistence what changed. It
 * belongs to state (persistence implements it), so state never imports the queue.
 *
 * Every mutation calls it right after changing the hot state, once per row it touched, with the
 * row already built (src/model/rows.ts): the cost of a change is the cost of its rows, never of
 * the session or the table. The queue coalesces per (table, key): a key changed three times
 * before the next batch is cut is written once, with its latest row.
 *
 * Each call returns the seq of the batch that will hold the change: the answer to the client is
 * durable once `durableSeq >= seq`.
 */
import type { DeleteKeys, DeleteTable, StatsDelta, UpsertRows, UpsertTable } from '../model/rows.js';

/** Coalescing key of a row within its table: the primary key, as a string or number. */
export type RowKey = string | number;

export interface ChangeSink {
  upsert<T extends UpsertTable>(table: T, key: RowKey, row: UpsertRows[T]): number;
  delete<T extends DeleteTable>(table: T, key: DeleteKeys[T]): number;
  /** Counter deltas to add and times to raise (fields left out are unchanged). */
  count(delta: Partial<StatsDelta>): number;
}
