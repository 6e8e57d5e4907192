/**
 * The PostgreSQL error vocabulary (workers/postgres/errors.ts): every SQLSTATE class, socket error
 * and node-postgres message the driver can meet maps to a stable code and the right `retryable`,
 * including the ones the other tests cannot cause on a test server (a full disk).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { WorkerFailure } from '../workers/failure.js';
import { connectionIsSound, pgFailure } from '../workers/postgres/errors.js';

function sqlState(code: string, message = 'server says no'): pg.DatabaseError {
  const err = new pg.DatabaseError(message, message.length, 'error');
  err.code = code;
  return err;
}

function nodeError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
}

describe('pgFailure', () => {
  const cases: Array<[string, unknown, string, boolean]> = [
    ['admin shutdown 57P01', sqlState('57P01'), 'UNAVAILABLE', true],
    ['crash shutdown 57P02', sqlState('57P02'), 'UNAVAILABLE', true],
    ['starting up 57P03', sqlState('57P03'), 'UNAVAILABLE', true],
    ['connection exception 08006', sqlState('08006'), 'UNAVAILABLE', true],
    ['too many connections 53300', sqlState('53300'), 'UNAVAILABLE', true],
    ['read-only standby 25006', sqlState('25006'), 'UNAVAILABLE', true],
    ['statement timeout 57014', sqlState('57014'), 'TIMEOUT', true],
    ['disk full 53100', sqlState('53100'), 'DISK_FULL', true],
    ['out of memory 53200', sqlState('53200'), 'POSTGRES', true],
    ['serialization failure 40001', sqlState('40001'), 'POSTGRES', true],
    ['deadlock 40P01', sqlState('40P01'), 'POSTGRES', true],
    ['check violation 23514', sqlState('23514'), 'POSTGRES', false],
    ['undefined table 42P01', sqlState('42P01'), 'POSTGRES', false],
    ['bad password 28P01', sqlState('28P01'), 'POSTGRES', false],
    ['ECONNREFUSED', nodeError('ECONNREFUSED'), 'UNAVAILABLE', true],
    ['ECONNRESET', nodeError('ECONNRESET'), 'UNAVAILABLE', true],
    ['ENOTFOUND', nodeError('ENOTFOUND'), 'UNAVAILABLE', true],
    ['a lost connection', new Error('Connection terminated unexpectedly'), 'UNAVAILABLE', true],
    ['a connect timeout', new Error('timeout exceeded when trying to connect'), 'UNAVAILABLE', true],
    ['a client-side query timeout', new Error('Query read timeout'), 'TIMEOUT', true],
    ['anything else', new Error('boom'), 'POSTGRES', false],
    ['a thrown string', 'boom', 'POSTGRES', false],
  ];
  for (const [what, err, code, retryable] of cases) {
    it(`maps ${what} to ${code}${retryable ? ' (retryable)' : ''}`, () => {
      const failure = pgFailure(err, 'apply seq 3');
      expect(failure).toBeInstanceOf(WorkerFailure);
      expect({ code: failure.code, retryable: failure.retryable }).toEqual({ code, retryable });
      expect(failure.message).toMatch(/^apply seq 3: /);
    });
  }

  it('names the SQLSTATE in the message, and keeps a WorkerFailure as it is', () => {
    expect(pgFailure(sqlState('23514', 'new row violates check constraint'), 'apply seq 9').message).toBe(
      'apply seq 9: 23514: new row violates check constraint',
    );
    const own = new WorkerFailure('BAD_BATCH', 'apply seq 1: nope');
    expect(pgFailure(own, 'ignored')).toBe(own);
  });

  it('returns a connection to the pool only after a server-side error that leaves it usable', () => {
    expect(connectionIsSound(sqlState('23514'))).toBe(true);
    expect(connectionIsSound(sqlState('57014'))).toBe(true);
    expect(connectionIsSound(sqlState('57P01'))).toBe(false);
    expect(connectionIsSound(new Error('Query read timeout'))).toBe(false);
    expect(connectionIsSound(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(connectionIsSound(new WorkerFailure('BAD_BATCH', 'x'))).toBe(true);
  });
});
