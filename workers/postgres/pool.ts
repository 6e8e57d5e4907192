/**
 * The connection pool and the two ways the driver borrows from it: one statement, or one
 * transaction. Every failure leaves as a WorkerFailure (errors.ts); a connection that may be
 * broken (lost socket, client-side timeout) is destroyed rather than returned to the pool, so the
 * pool reconnects on its own once the server is back: nobody has to reopen the driver.
 *
 * Numbers: BIGINT (int8) columns come back as JS numbers, not strings. Every BIGINT here holds
 * an epoch-ms time, a seq or a count that was a JS number when written, so it is exact.
 *
 * Never: leave a transaction open on a pooled connection, let an idle connection's error crash
 * the process (it surfaces on the next statement instead), or log.
 */
import pg from 'pg';
import { connectionIsSound, pgFailure } from './errors.js';
import type { Sql } from './statements.js';

const INT8_OID = 20;

/** Per-pool type parsers (the global pg.types stays untouched for anyone else in the process). */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

export interface PoolOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
}

/** How long opening one connection may take (a SIGSTOPped server accepts TCP but never answers). */
export const CONNECT_TIMEOUT_MS = 5_000;
/** Client-side cap over the server's statement_timeout: a server that stopped answering. */
export const QUERY_TIMEOUT_MARGIN_MS = 2_000;

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    types: TYPES,
    application_name: 'vibefixer-server',
    // Sent in the startup packet: every connection of the pool has it from its first statement.
    statement_timeout: options.statementTimeoutMs,
    // A transaction left open by a stalled worker must not hold row locks for long.
    idle_in_transaction_session_timeout: Math.max(options.statementTimeoutMs * 2, 10_000),
    query_timeout: options.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection whose server went away emits 'error' on the pool (and on itself while
  // checked out): without listeners that is an uncaught exception. The next statement reports it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export type Client = pg.PoolClient;

async function borrow(pool: pg.Pool, context: string): Promise<Client> {
  try {
    return await pool.connect();
  } catch (err) {
    throw pgFailure(err, context);
  }
}

/** Run `fn` on a borrowed connection (autocommit). */
export async function withClient<T>(pool: pg.Pool, context: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await borrow(pool, context);
  try {
    const result = await fn(client);
    client.release();
    return result;
  } catch (err) {
    // release(true) destroys the connection: a broken one must not serve the next task.
    client.release(connectionIsSound(err) ? undefined : true);
    throw pgFailure(err, context);
  }
}

/** Run `fn` inside BEGIN … COMMIT (`begin` may name an isolation level); ROLLBACK on any failure. */
export async function inTransaction<T>(
  pool: pg.Pool,
  context: string,
  fn: (c: Client) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  return withClient(pool, context, async (client) => {
    await client.query(begin);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A failed ROLLBACK means the connection is gone; withClient destroys it.
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}

/** A named (prepared) statement with positional values, rows as arrays. */
export function run<R extends unknown[] = unknown[]>(client: Client, sql: Sql, values: unknown[] = []) {
  return client.query<R>({ name: sql.name, text: sql.text, values, rowMode: 'array' });
}
