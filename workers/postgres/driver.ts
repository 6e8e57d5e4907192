/**
 * The StorageDriver (workers/driver.ts) on PostgreSQL: each method borrows a pooled connection
 * (or runs one transaction) and turns every failure into a WorkerFailure (errors.ts).
 *
 * State: the pool only. Several calls may run at once (up to the pool size); applies come one at
 * a time from the persistence worker, and an apply is one statement (apply.ts) whose last_seq
 * guard writes nothing for a seq at or below the stored one, whatever the interleaving.
 *
 * Never: retry on its own (the caller decides, from `retryable`), or keep anything from one call
 * to the next beyond the pool's connections and their prepared statements.
 */
import type pg from 'pg';
import type { ColdSessionRow } from '../../src/model/records.js';
import type { WireBatch } from '../../src/model/rows.js';
import type {
  ApplyResult,
  LoadedSessions,
  RestQuery,
  RetentionCutoffs,
  RetentionResult,
  StorageDriver,
  StoredRest,
} from '../driver.js';
import { applyBatch, checkBatch } from './apply.js';
import { pgFailure } from './errors.js';
import { backupUnsupported, retention } from './maintenance.js';
import { type Client, inTransaction, withClient } from './pool.js';
import * as reads from './reload.js';

export class PostgresDriver implements StorageDriver {
  readonly kind = 'postgres';
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  lastSeq(): Promise<number> {
    return withClient(this.pool, 'lastSeq', reads.lastSeq);
  }

  async apply(batch: WireBatch): Promise<ApplyResult> {
    try {
      checkBatch(batch);
    } catch (err) {
      throw pgFailure(err, `apply seq ${String(batch?.seq)}`);
    }
    return withClient(this.pool, `apply seq ${batch.seq}`, (c) => applyBatch(c, batch));
  }

  activeSessionsPage(after: string | null, limit: number): Promise<ColdSessionRow[]> {
    return withClient(this.pool, 'activeSessionsPage', (c) => reads.activeSessionsPage(c, after, limit));
  }

  loadSessions(ids: readonly string[]): Promise<LoadedSessions> {
    return inTransaction(this.pool, 'loadSessions', (c) => reads.loadSessions(c, ids), reads.SNAPSHOT);
  }

  rest(query: RestQuery): Promise<StoredRest> {
    return inTransaction(this.pool, 'rest', (c) => reads.rest(c, query), reads.SNAPSHOT);
  }

  countStarted(fromMs: number, toMs: number): Promise<number> {
    return withClient(this.pool, 'countStarted', (c) => reads.countStarted(c, fromMs, toMs));
  }

  retention(cutoffs: RetentionCutoffs): Promise<RetentionResult> {
    const borrow = <T>(fn: (c: Client) => Promise<T>) => withClient(this.pool, 'retention', fn);
    return retention(borrow, cutoffs).catch((err: unknown) => {
      throw pgFailure(err, 'retention');
    });
  }

  async backup(_destPath: string): Promise<{ totalPages: number }> {
    throw backupUnsupported(this.location);
  }

  /** Waits for borrowed connections to come back, then closes them all; a second call does nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.end();
    } catch (err) {
      throw pgFailure(err, 'close');
    }
  }
}
