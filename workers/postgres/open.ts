/**
 * Opens the PostgreSQL driver:
 *
 *   validate options ─► pool (statement_timeout on every connection) ─► one connection
 *     unreachable ──► UNAVAILABLE (retryable), bad password / no such database ──► POSTGRES
 *   ─► read the schema version (reads only): newer than this code ──► SCHEMA_TOO_NEW, pool closed,
 *      nothing written ─► migrate (one transaction per migration, advisory lock) ─► the driver
 *
 * Usage (workers/persist.ts wires it; config.ts gives the three values):
 *
 *   const opened = await openPostgres({ url, poolSize, statementTimeoutMs }, reopen);
 *   opened.driver.apply(batch) … await opened.driver.close();
 *
 * Never: log or put in an error the URL's password (`location` is the URL without it), leave the
 * pool open when opening fails, or write to a database whose schema is newer than the code.
 */
import type { OpenedDriver } from '../driver.js';
import { pgFailure, WorkerFailure } from './errors.js';
import { LATEST_PG_SCHEMA_VERSION, migrate, schemaTooNew, schemaVersionOf } from './migrations.js';
import { createPool, withClient } from './pool.js';
import { PostgresDriver } from './driver.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database[?options]; the password never appears in logs. */
  url: string;
  /** Most connections the driver holds (1..1000); each call borrows one for its duration. */
  poolSize: number;
  /** statement_timeout of every connection, in ms (>= 1): a longer statement fails with TIMEOUT. */
  statementTimeoutMs: number;
}

/** The URL without its password (and without a `password` query parameter): safe to log. */
export function safeLocation(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '';
    parsed.searchParams.delete('password');
    return parsed.toString();
  } catch {
    return 'postgres (connection string not shown: it is not a URL)';
  }
}

function checkOptions(options: PostgresOptions): void {
  const bad = (why: string) => new WorkerFailure('INTERNAL', `openPostgres: ${why}`);
  if (typeof options?.url !== 'string' || options.url === '') throw bad('url must be a non-empty string');
  if (!/^postgres(ql)?:\/\//.test(options.url)) throw bad('url must start with postgres:// or postgresql://');
  if (!Number.isSafeInteger(options.poolSize) || options.poolSize < 1 || options.poolSize > 1000) {
    throw bad(`poolSize must be an integer in 1..1000, got ${String(options.poolSize)}`);
  }
  if (!Number.isSafeInteger(options.statementTimeoutMs) || options.statementTimeoutMs < 1) {
    throw bad(`statementTimeoutMs must be a positive integer, got ${String(options.statementTimeoutMs)}`);
  }
}

/**
 * `reopen`: a lazy reopen in a replaced worker thread (workers/persist.ts): the database must
 * already be at the latest schema; nothing is created or migrated (NOT_OPEN otherwise).
 */
export async function openPostgres(options: PostgresOptions, reopen = false): Promise<OpenedDriver> {
  checkOptions(options);
  const location = safeLocation(options.url);
  const pool = createPool(options);
  try {
    const migratedFrom = await withClient(pool, `open ${location}`, async (client) => {
      // Checked before anything is written (migrate checks again under its lock).
      const found = await schemaVersionOf(client);
      if (found > LATEST_PG_SCHEMA_VERSION) throw schemaTooNew(location, found);
      if (reopen && found !== LATEST_PG_SCHEMA_VERSION) {
        throw new WorkerFailure(
          'NOT_OPEN',
          `no database is open and ${location} is at schema version ${found}, not ${LATEST_PG_SCHEMA_VERSION}; not migrating during a reopen`,
        );
      }
      return migrate(client, location);
    });
    return {
      driver: new PostgresDriver(pool, location),
      created: migratedFrom === 0,
      schemaVersion: LATEST_PG_SCHEMA_VERSION,
      migratedFrom,
      quarantinedTo: null,
      quarantineReason: null,
      // PostgreSQL checks its own pages (checksums, WAL replay); nothing for us to run at open.
      integrityChecked: false,
    };
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw pgFailure(err, `open ${location}`);
  }
}
