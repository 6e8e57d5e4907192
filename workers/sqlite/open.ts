/**
 * Opens the database file for the one process that may own it:
 *
 *   own the path (owner.ts: the `<db>-lock` file) ──busy──► LOCKED (nothing touched)
 *      ▼
 *   exists? ──yes──► read-only probe: schema too new? ──► SCHEMA_TOO_NEW (nothing written)
 *      │                   │ busy ──► LOCKED          │ not a database ──► quarantine
 *      ▼                   ▼                          ▼
 *   read-write connection: locking_mode=NORMAL (the checkpointer's connection checkpoints beside
 *   it), journal_mode=WAL, synchronous, no auto-checkpoint, quick_check (unless the last run
 *   closed cleanly), migrate, mark the file "open" until the next clean close, prepare statements.
 *   Corruption found on the way ──► close, quarantine (with -wal/-shm), start a fresh file.
 *
 * Never: quarantine for anything but corruption (a lock, a permission error or a bad folder
 * is returned as an error), overwrite or delete a database, write to a file whose schema is
 * newer than this code, quarantine during a lazy reopen (a restarted thread must not
 * silently swap the file the running server has been reloaded from), or read or write the file
 * before owning its path.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Synchronous } from '../../src/model/protocol.js';
import { errorCodeOf } from '../failure.js';
import { WorkerFailure, isCorruption } from './errors.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaVersionOf } from './migrations.js';
import { acquireOwnership, LOCK_SUFFIX, type Ownership } from './owner.js';
import { quarantineFiles } from './quarantine.js';
import { prepareStatements, type Store } from './statements.js';

/** How long a statement waits for a lock: short, a second owner must fail fast. */
export const BUSY_TIMEOUT_MS = 1000;
/** After a checkpoint resets the WAL, SQLite truncates the file back to this size. */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

export interface OpenOptions {
  dbPath: string;
  synchronous: Synchronous;
  /** A lazy reopen in a replaced thread: the file must exist and is never quarantined. */
  reopen: boolean;
}

export interface Opened {
  store: Store;
  /** quick_check ran (the last run did not close cleanly). */
  checked: boolean;
  created: boolean;
  quarantinedTo: string | null;
  quarantineReason: string | null;
  migratedFrom: number;
}

/** quick_check found problems: the file is a database, but not a sound one. */
class CorruptionFound extends Error {}

/** A reason to quarantine, or null when `err` is not about corrupt bytes. */
function corruptionReason(err: unknown): string | null {
  if (err instanceof CorruptionFound) return err.message;
  if (isCorruption(err)) return `${errorCodeOf(err)}: ${(err as Error).message}`;
  return null;
}

function schemaTooNew(dbPath: string, version: number): WorkerFailure {
  return new WorkerFailure(
    'SCHEMA_TOO_NEW',
    `database ${dbPath} has schema version ${version} but this server knows up to ` +
      `${LATEST_SCHEMA_VERSION}; it was written by a newer release. Refusing to open it, the file ` +
      'was not modified: run the newer release or point VIBEFIXER_DB_PATH at another file',
  );
}

export function openStore(options: OpenOptions): Opened {
  // A refused open (newer schema, permission, lock) must leave nothing behind: SQLite creates an
  // empty -wal and a -shm beside a WAL database whenever it reads one, and the lock file is ours.
  // They are removed only while we own the path, so no other server of ours is using them.
  const dbPath = path.resolve(options.dbPath);
  const created = (suffix: string) => !fs.existsSync(dbPath + suffix);
  const fresh = { wal: created('-wal'), shm: created('-shm'), lock: created(LOCK_SUFFIX) };
  let owner: Ownership | null = null;
  try {
    return openOrRefuse(options, () => {
      owner = acquireOwnership(dbPath);
      return owner;
    });
  } catch (err) {
    if (owner !== null) {
      if (fresh.wal) removeIfEmpty(`${dbPath}-wal`);
      if (fresh.shm) fs.rmSync(`${dbPath}-shm`, { force: true });
      (owner as Ownership).release(fresh.lock);
    }
    throw err;
  }
}

function removeIfEmpty(file: string): void {
  try {
    if (fs.statSync(file).size === 0) fs.rmSync(file);
  } catch {
    // Not there, or not ours to remove: nothing to clean.
  }
}

function openOrRefuse(options: OpenOptions, own: () => Ownership): Opened {
  const { synchronous, reopen } = options;
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new WorkerFailure('INTERNAL', `synchronous must be NORMAL or FULL, got ${String(synchronous)}`);
  }
  const dbPath = path.resolve(options.dbPath);
  const existed = fs.existsSync(dbPath);
  if (reopen && !existed) {
    throw new WorkerFailure('NOT_OPEN', `no database is open and ${dbPath} no longer exists; not creating a new one`);
  }
  if (existed && !fs.statSync(dbPath).isFile()) {
    throw new WorkerFailure('IO', `${dbPath} exists but is not a regular file; not touching it`);
  }
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const owner = own();

  let corruption = existed ? probe(dbPath) : null;
  if (corruption === null) {
    try {
      return { ...openReadWrite(dbPath, synchronous, owner), created: !existed, quarantinedTo: null, quarantineReason: null };
    } catch (err) {
      corruption = corruptionReason(err);
      if (corruption === null) throw err;
    }
  }
  if (reopen) {
    throw new WorkerFailure('SQLITE', `database ${dbPath} is corrupt (${corruption}); restart the server to quarantine it`);
  }
  const quarantinedTo = quarantineFiles(dbPath);
  return { ...openReadWrite(dbPath, synchronous, owner), created: true, quarantinedTo, quarantineReason: corruption };
}

/**
 * Read the schema version through a read-only connection, which neither checkpoints nor
 * changes the journal mode, so a refused file keeps its exact bytes (and its WAL). Returns a
 * corruption reason, or null when the file looks like a database we may open.
 */
function probe(dbPath: string): string | null {
  // A read-only connection to a WAL file creates the -shm index if it is missing; remove what
  // we created so a refused file is left exactly as found.
  const shmExisted = fs.existsSync(`${dbPath}-shm`);
  let db: Database.Database | null = null;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    const version = schemaVersionOf(db);
    if (version > LATEST_SCHEMA_VERSION) throw schemaTooNew(dbPath, version);
    return null;
  } catch (err) {
    const reason = corruptionReason(err);
    if (reason !== null) return reason;
    // A hot rollback journal cannot be read read-only: the read-write connection checks the
    // version again under the lock, before it writes anything of its own.
    if (errorCodeOf(err).startsWith('SQLITE_READONLY')) return null;
    throw err;
  } finally {
    db?.close();
    if (!shmExisted) fs.rmSync(`${dbPath}-shm`, { force: true });
  }
}

/** Did the last process that had this file close it through close() (maintenance.ts)? */
function closedCleanly(db: Database.Database): boolean {
  const meta = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").get();
  if (meta === undefined) return false;
  return db.prepare<[], number>("SELECT value FROM meta WHERE key = 'clean_close'").pluck().get() === 1;
}

function openReadWrite(dbPath: string, synchronous: Synchronous, owner: Ownership): { store: Store; migratedFrom: number; checked: boolean } {
  const db = new Database(dbPath, { timeout: BUSY_TIMEOUT_MS });
  try {
    // locking_mode stays NORMAL: the WAL index lives in the -shm file, so the checkpointer's own
    // connection (checkpointer.ts) can copy the WAL into the file while this one commits. The
    // lock file (owner.ts) keeps every other server out.
    // Checked again before anything is written (a foreign writer may have run since the probe).
    const version = schemaVersionOf(db);
    if (version > LATEST_SCHEMA_VERSION) throw schemaTooNew(dbPath, version);

    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new WorkerFailure('SQLITE', `cannot switch ${dbPath} to WAL (journal_mode=${String(mode)})`);
    // better-sqlite3 would otherwise leave a WAL database at FULL: always say which one.
    db.pragma(`synchronous = ${synchronous}`);
    // No checkpoint inside commits (they cost fsyncs in the commit path): the checkpointer thread
    // runs them on its own connection (checkpointer.ts), and journal_size_limit shrinks the WAL
    // after each reset. Without it (interval 0) the WAL grows without bound.
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);

    // quick_check reads every page (its time grows with the file: seconds for 100k sessions), so it runs only
    // when the last run did not close cleanly (a crash, a kill -9, a power loss, or a file from
    // elsewhere): that is when a torn or damaged file is worth looking for before trusting it.
    const checked = !closedCleanly(db);
    if (checked) {
      const problems = db.pragma('quick_check(10)', { simple: false }) as Array<{ quick_check: string }>;
      const first = problems[0]?.quick_check;
      if (problems.length !== 1 || first !== 'ok') {
        throw new CorruptionFound(`quick_check: ${problems.map((row) => row.quick_check).join('; ')}`);
      }
    }

    const migratedFrom = migrate(db);
    // Until close() says otherwise, a later start treats this run as one that crashed.
    db.prepare("INSERT INTO meta (key, value) VALUES ('clean_close', 0) ON CONFLICT (key) DO UPDATE SET value = 0").run();
    return { store: { db, dbPath, st: prepareStatements(db), owner }, migratedFrom, checked };
  } catch (err) {
    db.close();
    throw err;
  }
}
