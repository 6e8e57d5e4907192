/**
 * PostgreSQL errors onto the shared vocabulary (workers/failure.ts): node-postgres throws either a
 * `DatabaseError` carrying a SQLSTATE, a Node socket error (ECONNREFUSED…), or a plain Error for
 * its own timeouts and lost connections. Each becomes a `WorkerFailure` with a stable code and
 * whether the same task may succeed later (the server restarting, a connection coming back).
 *
 * Never: put the connection URL (or its password) in a message, throw something that is not a
 * WorkerFailure out of the driver, or call an unknown error retryable.
 */
import pg from 'pg';
import { errorCodeOf, messageOf, WorkerFailure } from '../failure.js';

export { WorkerFailure } from '../failure.js';

/** Node socket and resolver errors: the server (or the way to it) is not there right now. */
const UNREACHABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres' own messages for a connection that broke or never came up (it gives them no code). */
const LOST_CONNECTION =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Connection ended/i;

/** SQLSTATEs that mean "the server is going away, restarting, or full of connections": try again later. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown (fast or smart shutdown)
  '57P02', // crash_shutdown (another backend crashed)
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction: a standby (e.g. during a failover)
]);

/** Turn anything thrown while talking to PostgreSQL into a WorkerFailure; `context` prefixes the message. */
export function pgFailure(err: unknown, context: string): WorkerFailure {
  if (err instanceof WorkerFailure) return err;
  const code = errorCodeOf(err);
  const what = `${context}: ${code ? `${code}: ` : ''}${messageOf(err)}`;

  if (err instanceof pg.DatabaseError) {
    if (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) return new WorkerFailure('UNAVAILABLE', what, true);
    if (code === '57014') return new WorkerFailure('TIMEOUT', what, true); // query_canceled: statement_timeout
    if (code === '53100') return new WorkerFailure('DISK_FULL', what, true);
    if (code === '53200') return new WorkerFailure('POSTGRES', what, true); // out_of_memory
    if (code === '40001' || code === '40P01' || code === '55P03') return new WorkerFailure('POSTGRES', what, true);
    return new WorkerFailure('POSTGRES', what, false);
  }
  if (UNREACHABLE_NODE_CODES.has(code)) return new WorkerFailure('UNAVAILABLE', what, true);
  const message = messageOf(err);
  if (/Query read timeout/i.test(message)) return new WorkerFailure('TIMEOUT', what, true);
  if (LOST_CONNECTION.test(message)) return new WorkerFailure('UNAVAILABLE', what, true);
  return new WorkerFailure('POSTGRES', what, false);
}

/** Whether a connection that saw `err` may go back to the pool (a broken one must be destroyed). */
export function connectionIsSound(err: unknown): boolean {
  if (err instanceof WorkerFailure) return err.code !== 'UNAVAILABLE' && err.code !== 'TIMEOUT';
  if (!(err instanceof pg.DatabaseError)) return false;
  const failure = pgFailure(err, '');
  return failure.code !== 'UNAVAILABLE';
}
