/**
 * "One server per database file" (DESIGN.md invariant 6), without locking the database itself:
 * the write connection runs in locking_mode=NORMAL so that a second connection (the checkpointer,
 * checkpointer.ts) may checkpoint beside it. Ownership is a lock file beside the database,
 * `<db>-lock`, held for the life of the store by a tiny SQLite connection in
 * locking_mode=EXCLUSIVE after a write:
 *
 *   stat `<db>-lock` ──► open it, BEGIN EXCLUSIVE (the lock is kept until close)
 *        │ busy ──► LOCKED (another process holds it; the file is left alone)
 *        ▼
 *   stat again: not the file we had before the open (or none) ──► close, try again (an owner
 *   that was stopping unlinked the file we locked: locking an orphan would exclude nobody)
 *
 * Why SQLite's lock rather than a PID file or mkdir: the lock is a POSIX advisory lock, which
 * the kernel drops when the process dies (a kill -9 never leaves a stale owner), and SQLite also
 * makes two connections of one process conflict (POSIX locks alone would not). No new native
 * dependency. The lock file stays empty (nothing is ever written to it, so it has no journal).
 * The identity check uses stat, never open+close: closing any descriptor of a file drops every
 * POSIX lock the process holds on it.
 *
 * Never: delete the lock file without holding its lock, touch the database, or quarantine the
 * lock file with a corrupt database (it guards the path, not the bytes).
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { errorCodeOf, messageOf } from '../failure.js';
import { lockedFailure, WorkerFailure } from './errors.js';

/** The lock file's suffix: `vibefixer.sqlite` → `vibefixer.sqlite-lock`. */
export const LOCK_SUFFIX = '-lock';
/** How long a start waits for the lock: short, a second owner must fail fast. */
const LOCK_WAIT_MS = 1000;
const ATTEMPTS = 5;

export interface Ownership {
  readonly lockPath: string;
  /** Releases the lock; `removeFile` also deletes the lock file (while still holding it). */
  release(removeFile: boolean): void;
}

/** Takes ownership of `dbPath` (absolute) or throws LOCKED; a lock file we could not use is an IO error. */
export function acquireOwnership(dbPath: string): Ownership {
  const lockPath = dbPath + LOCK_SUFFIX;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const lock = tryLock(dbPath, lockPath);
    if (lock !== null) return lock;
  }
  throw lockedFailure(dbPath);
}

/** null: the lock we took is on a file no longer at the path, or on one we just created (try again). */
function tryLock(dbPath: string, lockPath: string): Ownership | null {
  const before = inodeAt(lockPath);
  let db: Database.Database;
  try {
    db = new Database(lockPath, { timeout: LOCK_WAIT_MS });
  } catch (err) {
    throw new WorkerFailure('IO', `cannot open the lock file ${lockPath} (${errorCodeOf(err) || 'error'}: ${messageOf(err)}); its folder must be writable`);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // An exclusive transaction takes the EXCLUSIVE lock, which locking_mode=EXCLUSIVE keeps until close.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    const code = errorCodeOf(err);
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) throw lockedFailure(dbPath);
    throw new WorkerFailure(
      'IO',
      `cannot lock ${lockPath} (${code || 'error'}: ${messageOf(err)}); if no vibefixer-server uses ${dbPath}, delete the lock file`,
    );
  }
  if (before === null || inodeAt(lockPath) !== before) {
    db.close();
    return null;
  }
  let held = true;
  return {
    lockPath,
    release(removeFile: boolean) {
      if (!held) return;
      held = false;
      try {
        if (removeFile) fs.rmSync(lockPath, { force: true });
      } finally {
        db.close();
      }
    },
  };
}

/** The inode now at the path, or null when there is no file there. */
function inodeAt(lockPath: string): number | null {
  try {
    return fs.statSync(lockPath).ino;
  } catch {
    return null;
  }
}
