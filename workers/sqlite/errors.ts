/**
 * Error vocabulary of the persistence worker: turns whatever a task threw (an SqliteError from
 * better-sqlite3, a Node fs error, a WorkerFailure raised on purpose) into the stable
 * `TaskError` data that crosses the thread.
 *
 * Never: throws, logs, or decides what the main thread does with an error. `retryable` only
 * says whether the same task may succeed later without anyone changing the file or the code.
 */
import type { TaskError } from '../../src/model/protocol.js';
import { errorCodeOf, messageOf, type Phase, taskError, WorkerFailure } from '../failure.js';

export { WorkerFailure } from '../failure.js';

/** SQLITE_CORRUPT* or SQLITE_NOTADB: the bytes on disk are not a sound database. */
export function isCorruption(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/**
 * Map anything thrown by a task to a TaskError. `context` prefixes the message
 * (e.g. "apply seq 12"), `dbPath` names the file in lock messages.
 */
export function toTaskError(err: unknown, phase: Phase, context: string, dbPath: string | null): TaskError {
  if (err instanceof WorkerFailure) return taskError(err.code, err.message, err.retryable);
  const code = errorCodeOf(err);
  const what = `${context}: ${code ? `${code}: ` : ''}${messageOf(err)}`;

  if (code.startsWith('SQLITE_')) {
    if (code === 'SQLITE_FULL') return taskError('DISK_FULL', what, true);
    if (code.startsWith('SQLITE_IOERR')) return taskError('IO', what, true);
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      // At open a busy lock outlasting busy_timeout means another process holds the
      // exclusive lock: retrying in a loop would only hide two servers fighting for one file.
      if (phase === 'open') return lockedError(dbPath ?? '(unknown)');
      return taskError('BUSY', what, true);
    }
    // Corruption found while running is not repaired in place: retrying cannot help, and
    // quarantine happens only at open, where nothing is in flight.
    if (isCorruption(err)) return taskError('SQLITE', `database is corrupt: ${what}`, false);
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
      return taskError('IO', what, false);
    }
    if (code === 'SQLITE_NOMEM' || code === 'SQLITE_INTERRUPT') return taskError('SQLITE', what, true);
    return taskError('SQLITE', what, false);
  }

  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return taskError('DISK_FULL', what, true);
    case 'EIO':
    case 'EMFILE':
    case 'ENFILE':
    case 'EAGAIN':
      return taskError('IO', what, true);
    case 'EBUSY':
      return taskError('BUSY', what, true);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ENOENT':
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'EEXIST':
      return taskError('IO', what, false);
    default:
      return taskError('INTERNAL', what, false);
  }
}

export function lockedError(dbPath: string): TaskError {
  return taskError('LOCKED', lockedFailure(dbPath).message, false);
}

/** Another process owns the file (its lock file, owner.ts, or a foreign lock on the database). */
export function lockedFailure(dbPath: string): WorkerFailure {
  return new WorkerFailure(
    'LOCKED',
    `database ${dbPath} is in use by another vibefixer-server process (it holds the exclusive lock); ` +
      'stop that process or point VIBEFIXER_DB_PATH at another file',
  );
}
