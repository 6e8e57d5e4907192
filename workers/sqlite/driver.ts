/**
 * The SQLite storage driver: one file, owned by this process alone (open.ts), behind the
 * driver interface of workers/driver.ts. Every method runs synchronously on the worker thread
 * (better-sqlite3) and answers through an already-settled promise, so tasks never interleave.
 */
import type { ColdSessionRow } from '../../src/model/records.js';
import type { Synchronous } from '../../src/model/protocol.js';
import type { ApplyResult, CheckpointResult, LoadedSessions, RestQuery, RetentionResult, StoredRest, WireBatch } from '../../src/model/rows.js';
import type { OpenedDriver, RetentionCutoffs, StorageDriver } from '../driver.js';
import { applyBatch } from './apply.js';
import { backup, checkpoint, close, retention } from './maintenance.js';
import { openStore } from './open.js';
import { activeSessionsPage, countStarted, loadSessions, rest } from './reload.js';
import type { Store } from './statements.js';

export interface SqliteOptions {
  dbPath: string;
  synchronous: Synchronous;
}

export class SqliteDriver implements StorageDriver {
  readonly kind = 'sqlite';
  readonly location: string;

  constructor(readonly store: Store) {
    this.location = store.dbPath;
  }

  async lastSeq(): Promise<number> {
    return this.store.st.getMeta.get('last_seq') ?? 0;
  }

  async apply(batch: WireBatch): Promise<ApplyResult> {
    return applyBatch(this.store, batch);
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

  async checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): Promise<CheckpointResult> {
    return checkpoint(this.store, mode);
  }

  async backup(destPath: string): Promise<{ totalPages: number }> {
    return backup(this.store, destPath);
  }

  async close(): Promise<void> {
    close(this.store);
  }
}

/** Opens (creating, migrating or quarantining as open.ts says) the file; `reopen` never creates. */
export async function openSqlite(options: SqliteOptions, reopen: boolean): Promise<OpenedDriver> {
  const opened = openStore({ dbPath: options.dbPath, synchronous: options.synchronous, reopen });
  return {
    driver: new SqliteDriver(opened.store),
    created: opened.created,
    schemaVersion: opened.store.db.pragma('user_version', { simple: true }) as number,
    migratedFrom: opened.migratedFrom,
    quarantinedTo: opened.quarantinedTo,
    quarantineReason: opened.quarantineReason,
    integrityChecked: opened.checked,
  };
}
