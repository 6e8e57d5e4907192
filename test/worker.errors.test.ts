import { describe, expect, it } from 'vitest';
import { WorkerFailure, toTaskError } from '../workers/sqlite/errors.js';

function sqliteError(code: string): Error {
  return Object.assign(new Error(`failed with ${code}`), { code });
}

describe('persistence worker: error codes', () => {
  it.each([
    ['SQLITE_FULL', 'run', 'DISK_FULL', true],
    ['SQLITE_IOERR', 'run', 'IO', true],
    ['SQLITE_IOERR_WRITE', 'run', 'IO', true],
    ['SQLITE_IOERR_FSYNC', 'run', 'IO', true],
    ['SQLITE_BUSY', 'run', 'BUSY', true],
    ['SQLITE_LOCKED', 'run', 'BUSY', true],
    ['SQLITE_BUSY', 'open', 'LOCKED', false],
    ['SQLITE_CORRUPT', 'run', 'SQLITE', false],
    ['SQLITE_NOTADB', 'run', 'SQLITE', false],
    ['SQLITE_CANTOPEN', 'open', 'IO', false],
    ['SQLITE_READONLY', 'run', 'IO', false],
    ['SQLITE_CONSTRAINT_NOTNULL', 'run', 'SQLITE', false],
    ['SQLITE_CONSTRAINT_CHECK', 'run', 'SQLITE', false],
    ['ENOSPC', 'run', 'DISK_FULL', true],
    ['EACCES', 'open', 'IO', false],
    ['ENOTDIR', 'open', 'IO', false],
  ] as const)('maps %s during %s to %s (retryable: %s)', (code, phase, expected, retryable) => {
    const reply = toTaskError(sqliteError(code), phase, 'ctx', '/data/db.sqlite');
    expect(reply).toMatchObject({ ok: false, code: expected, retryable });
  });

  it('names the file and the other process in a lock error', () => {
    expect(toTaskError(sqliteError('SQLITE_BUSY'), 'open', 'open', '/data/db.sqlite').message).toContain(
      'database /data/db.sqlite is in use by another vibefixer-server process',
    );
  });

  it('keeps the code of a deliberate WorkerFailure and maps anything else to INTERNAL', () => {
    expect(toTaskError(new WorkerFailure('BAD_BATCH', 'bad'), 'run', 'apply', null)).toEqual({
      ok: false,
      code: 'BAD_BATCH',
      message: 'bad',
      retryable: false,
    });
    expect(toTaskError(new TypeError('oops'), 'run', 'apply', null)).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect(toTaskError('a string', 'run', 'apply', null)).toMatchObject({ code: 'INTERNAL' });
  });
});
