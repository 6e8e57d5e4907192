/**
 * The SQLite storage driver: one file, owned by this process alone (open.ts, owner.ts), behind the
 * driver interface of workers/driver.ts. Every method runs synchronously on the worker thread
 * (better-sqlite3) and answers through an already-settled promise, so tasks never interleave.
 * WAL checkpoints run beside the commits on the checkpointer thread (checkpointer.ts), told after
 * each commit how many rows it wrote; close() runs the final TRUNCATE one after stopping it.
 */
import type { ColdSessionRow } from '../../src/model/records.js';
import type { Synchronous } from '../../src/model/protocol.js';
import type { WireBatch } from '../../src/model/rows.js';
import type { ApplyResult, LoadedSessions, RestQuery, RetentionResult, StoredRest } from '../../src/model/stored.js';
import type { OpenedDriver, RetentionCutoffs, StorageDriver } from '../driver.js';
import { applyBatch } from './apply.js';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.js';
import { backup, close, retention } from './maintenance.js';
import { openStore } from './open.js';
import { activeSessionsPage, countStarted, loadSessions, rest } from './reload.js';
import type { Store } from './statements.js';

export interface SqliteOptions {
  dbPath: string;
  synchronous: Synchronous;
  /** VIBEFIXER_CHECKPOINT_INTERVAL_MS: at most one periodic checkpoint per period; 0 or absent = none. */
  checkpointIntervalMs?: number;
  /** Log every checkpoint at debug level (VIBEFIXER_LOG_LEVEL=debug or trace). */
  logCheckpoints?: boolean;
  /** Test seam (in-process only): the checkpointer's pacing, WAL limit, gate and events. */
  checkpointer?: Partial<Omit<CheckpointerOptions, 'dbPath' | 'synchronous' | 'intervalMs'>>;
}

export class SqliteDriver implements StorageDriver {
  readonly kind = 'sqlite';
  readonly location: string;

  constructor(
    readonly store: Store,
    /** null: no periodic checkpoint (interval 0); the WAL then grows until close. */
    readonly checkpointer: Checkpointer | null = null,
  ) {
    this.location = store.dbPath;
  }

  async lastSeq(): Promise<number> {
    return this.store.st.getMeta.get('last_seq') ?? 0;
  }

  async apply(batch: WireBatch): Promise<ApplyResult> {
    const result = applyBatch(this.store, batch);
    if (result.applied) this.checkpointer?.committed(result.rows);
    return result;
  }

  async activeSessionsPage(after: string | null, limit: number): Promise<ColdSessionRow[]> {
    return activeSessionsPage(this.store, after, limit);
  }

  async loadSessions(ids: readonly string[]): Promise<LoadedSessions> {
    return loadSessions(this.store, ids);
  }

  async rest(query: RestQuery): Promise<StoredRest> {
    return rest(this.store, query);
  }

  async countStarted(fromMs: number, toMs: number): Promise<number> {
    return countStarted(this.store, fromMs, toMs);
  }

  async retention(cutoffs: RetentionCutoffs): Promise<RetentionResult> {
    return retention(this.store, cutoffs);
  }

  async backup(destPath: string): Promise<{ totalPages: number }> {
    return backup(this.store, destPath);
  }

  /** Stops the checkpointer first: the final TRUNCATE checkpoint needs no other connection open. */
  async close(): Promise<void> {
    try {
      await this.checkpointer?.close();
    } finally {
      close(this.store);
    }
  }
}

/** Opens (creating, migrating or quarantining as open.ts says) the file; `reopen` never creates. */
export async function openSqlite(options: SqliteOptions, reopen: boolean): Promise<OpenedDriver> {
  const opened = openStore({ dbPath: options.dbPath, synchronous: options.synchronous, reopen });
  const intervalMs = options.checkpointIntervalMs ?? 0;
  const checkpointer =
    intervalMs > 0
      ? new Checkpointer({ ...options.checkpointer, dbPath: opened.store.dbPath, synchronous: options.synchronous, intervalMs, logEach: options.logCheckpoints === true })
      : null;
  return {
    driver: new SqliteDriver(opened.store, checkpointer),
    created: opened.created,
    schemaVersion: opened.store.db.pragma('user_version', { simple: true }) as number,
    migratedFrom: opened.migratedFrom,
    quarantinedTo: opened.quarantinedTo,
    quarantineReason: opened.quarantineReason,
    integrityChecked: opened.checked,
  };
}
