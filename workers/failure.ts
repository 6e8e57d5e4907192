/**
 * The error vocabulary every storage driver shares: a failure raised on purpose already carries
 * its stable code (src/model/protocol.ts `ErrorCode`) and whether the same task may succeed later
 * without anyone changing the database or the code. Each driver maps its own library's errors
 * onto these codes (workers/sqlite/errors.ts, workers/postgres/errors.ts).
 *
 * Never: throw out of the handler (it turns every failure into TaskError data), or log.
 */
import type { ErrorCode, TaskError } from '../src/model/protocol.js';

export class WorkerFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'WorkerFailure';
  }
}

/** Where the error happened: while opening, a busy lock means another process owns the database. */
export type Phase = 'open' | 'run';

export function taskError(code: ErrorCode, message: string, retryable: boolean): TaskError {
  return { ok: false, code, message, retryable };
}

/** The `code` string of a library or Node error (`SQLITE_FULL`, `ENOSPC`, a PostgreSQL SQLSTATE…). */
export function errorCodeOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return '';
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
