import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { LATEST_SCHEMA_VERSION, migrate } from '../workers/sqlite/migrations.js';
import { openStore } from '../workers/sqlite/open.js';
import { quarantineFiles } from '../workers/sqlite/quarantine.js';
import { buildLegacyDb } from './fixtures/legacy-schema.js';
import {
  applyTask,
  batch,
  closeWorker,
  currentDb,
  failed,
  ok,
  openTask,
  session,
  tempDbPath,
  tempDir,
  removeTempDirs,
} from './worker.fixtures.js';

afterEach(closeWorker);
afterAll(removeTempDirs);

/** A second process that opens `dbPath` the way the worker does and keeps the lock until released. */
async function holdLockInChild(dbPath: string): Promise<{ release(): Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, dbPath], { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return {
    release: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

function sha1(file: string): string {
  return createHash('sha1').update(fs.readFileSync(file)).digest('hex');
}

/** sha1 of a file the test process may no longer read through its mode (it reads as itself, root or not). */
function sha1AsRoot(file: string): string {
  const mode = fs.statSync(file).mode & 0o777;
  fs.chmodSync(file, mode | 0o400);
  try {
    return sha1(file);
  } finally {
    fs.chmodSync(file, mode);
  }
}

const BUILT_WORKER = path.join(import.meta.dirname, '..', 'dist', 'workers', 'persist.js');

/**
 * Runs the worker's `open` in a child process that has no privileges: `nobody` via runuser when
 * this process is root (root ignores file modes), the current user otherwise. Returns its reply.
 */
function openAsUnprivileged(dbPath: string): Record<string, unknown> {
  if (!fs.existsSync(BUILT_WORKER)) throw new Error(`${BUILT_WORKER} is missing: run \`npm run build\` first`);
  const script = `
    const { handle } = await import(process.env.VIBEFIXER_TEST_WORKER);
    const reply = await handle({ kind: 'open', storage: { driver: 'sqlite', dbPath: process.env.VIBEFIXER_TEST_DB, synchronous: 'NORMAL' }, todayStartMs: 0, todayEndMs: 1 });
    process.stdout.write(JSON.stringify(reply.ok ? { ok: true } : reply));`;
  const node = [process.execPath, '--input-type=module', '-e', script];
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? ['runuser', '-u', 'nobody', '--', ...node] : node;
  const env = { PATH: process.env.PATH ?? '', VIBEFIXER_TEST_WORKER: BUILT_WORKER, VIBEFIXER_TEST_DB: dbPath };
  const run = spawnSync(command[0], command.slice(1), { env, encoding: 'utf8', timeout: 20_000 });
  expect(run.status, `child failed: ${run.stderr}`).toBe(0);
  if (asRoot) expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** The built worker's `open` in a child process: its reply, or `{ killed: true }` when it was told to kill -9 itself once open. */
function openInChild(dbPath: string, killWhenOpen: boolean): Record<string, unknown> {
  if (!fs.existsSync(BUILT_WORKER)) throw new Error(`${BUILT_WORKER} is missing: run \`npm run build\` first`);
  const script = `
    const { handle } = await import(process.env.VIBEFIXER_TEST_WORKER);
    const reply = await handle({ kind: 'open', storage: { driver: 'sqlite', dbPath: process.env.VIBEFIXER_TEST_DB, synchronous: 'NORMAL' }, todayStartMs: 0, todayEndMs: 1 });
    if (reply.ok && process.env.VIBEFIXER_TEST_KILL === '1') process.kill(process.pid, 'SIGKILL');
    process.stdout.write(JSON.stringify(reply.ok ? { ok: true } : reply));`;
  const env = { PATH: process.env.PATH ?? '', VIBEFIXER_TEST_WORKER: BUILT_WORKER, VIBEFIXER_TEST_DB: dbPath, VIBEFIXER_TEST_KILL: killWhenOpen ? '1' : '0' };
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 20_000 });
  if (run.signal === 'SIGKILL') return { killed: true };
  expect(run.status, `child failed: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

function quarantined(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.includes('.corrupt-'));
}

describe('persistence worker: open', () => {
  it('creates the folder and a WAL database with the requested synchronous and no auto-checkpoint', async () => {
    const dbPath = tempDbPath();
    const reply = ok(await handle(openTask(dbPath, 'FULL')), 'open');
    expect(reply).toMatchObject({ created: true, schemaVersion: LATEST_SCHEMA_VERSION, migratedFrom: 0, lastSeq: 0 });
    const db = currentDb();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // NORMAL: the checkpointer's own connection checkpoints beside this one (owner.ts keeps others out).
    expect(db.pragma('locking_mode', { simple: true })).toBe('normal');
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await closeWorker();
    ok(await handle(openTask(dbPath, 'NORMAL')), 'open');
    expect(currentDb().pragma('synchronous', { simple: true })).toBe(1);
  });

  it('owns the file through its lock file: a second owner is refused (another process or this one), a clean close removes the lock, a kill -9 releases it', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    expect(fs.existsSync(`${dbPath}-lock`)).toBe(true);
    const second = openInChild(dbPath, false);
    expect(second).toMatchObject({ ok: false, code: 'LOCKED', retryable: false });
    expect(String(second.message)).toContain(`database ${dbPath} is in use by another vibefixer-server process`);
    // Two connections of one process conflict too (SQLite tracks its own locks per file).
    expect(() => openStore({ dbPath, synchronous: 'NORMAL', reopen: false })).toThrow(/is in use by another vibefixer-server process/);
    // Readers are not owners: the WAL file can be read while the server writes.
    const reader = new Database(dbPath, { readonly: true });
    expect(reader.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    reader.close();

    await closeWorker();
    expect(fs.readdirSync(path.dirname(dbPath)).sort()).toEqual(['vibefixer.sqlite']);

    // An owner killed with SIGKILL leaves its lock file behind, but not its lock.
    expect(openInChild(dbPath, true)).toEqual({ killed: true });
    expect(fs.existsSync(`${dbPath}-lock`)).toBe(true);
    ok(await handle(openTask(dbPath)), 'open');
    await closeWorker();
    expect(fs.existsSync(`${dbPath}-lock`)).toBe(false);
  });

  it('refuses with LOCKED, not retryable, when another process owns the file, and quarantines nothing', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('kept') }] }))), 'apply');
    await closeWorker();

    const holder = await holdLockInChild(dbPath);
    try {
      const reply = failed(await handle(openTask(dbPath)));
      expect(reply.code).toBe('LOCKED');
      expect(reply.retryable).toBe(false);
      expect(reply.message).toContain(`database ${dbPath} is in use by another vibefixer-server process`);
      expect(quarantined(path.dirname(dbPath))).toEqual([]);
    } finally {
      await holder.release();
    }
    expect(ok(await handle(openTask(dbPath)), 'open')).toMatchObject({ lastSeq: 1, quarantinedTo: null });
  });

  it('quarantines a file of random bytes with its -wal and -shm, then starts a fresh database', async () => {
    const dbPath = tempDbPath();
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const garbage = { '': randomBytes(8192), '-wal': randomBytes(4096), '-shm': randomBytes(32768) };
    for (const [suffix, bytes] of Object.entries(garbage)) fs.writeFileSync(dbPath + suffix, bytes);

    const reply = ok(await handle(openTask(dbPath)), 'open');
    expect(reply.created).toBe(true);
    expect(reply.quarantinedTo).toMatch(/vibefixer\.sqlite\.corrupt-\d{8}T\d{6}Z$/);
    expect(reply.quarantineReason).toContain('SQLITE_NOTADB');
    // The evidence keeps its bytes; the -shm is only SQLite's scratch index and moves along.
    expect(fs.readFileSync(reply.quarantinedTo!).equals(garbage[''])).toBe(true);
    expect(fs.readFileSync(`${reply.quarantinedTo!}-wal`).equals(garbage['-wal'])).toBe(true);
    expect(fs.existsSync(`${reply.quarantinedTo!}-shm`)).toBe(true);
    expect(ok(await handle(applyTask(batch(1, { sessions: [{ session: session('fresh') }] }))), 'apply').applied).toBe(true);
  });

  it('quarantines a database whose pages fail quick_check', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    const sessions = Array.from({ length: 300 }, (_, i) => ({ session: session(`s${i}`) }));
    ok(await handle(applyTask(batch(1, { sessions }))), 'apply');
    await closeWorker();
    // Keep the 100-byte header (so it is still "a database") and scribble over later pages.
    const fd = fs.openSync(dbPath, 'r+');
    fs.writeSync(fd, randomBytes(4096 * 4), 0, 4096 * 4, 4096 * 2);
    fs.closeSync(fd);

    const reply = ok(await handle(openTask(dbPath)), 'open');
    expect(reply.quarantinedTo).not.toBeNull();
    expect(reply.quarantineReason).toMatch(/quick_check|SQLITE_CORRUPT/);
    expect(reply).toMatchObject({ created: true, lastSeq: 0 });
  });

  it('never overwrites an earlier quarantine made in the same second', async () => {
    const dir = tempDir();
    const dbPath = path.join(dir, 'db.sqlite');
    const at = new Date('2026-11-26T14:23:00.456Z');
    fs.writeFileSync(dbPath, 'first');
    fs.writeFileSync(`${dbPath}-wal`, 'first-wal');
    expect(quarantineFiles(dbPath, at)).toBe(`${dbPath}.corrupt-20261126T142300Z`);
    fs.writeFileSync(dbPath, 'second');
    expect(quarantineFiles(dbPath, at)).toBe(`${dbPath}.corrupt-20261126T142300Z-2`);
    expect(fs.readFileSync(`${dbPath}.corrupt-20261126T142300Z`, 'utf8')).toBe('first');
    expect(fs.readFileSync(`${dbPath}.corrupt-20261126T142300Z-wal`, 'utf8')).toBe('first-wal');
    expect(fs.readFileSync(`${dbPath}.corrupt-20261126T142300Z-2`, 'utf8')).toBe('second');
  });

  it('returns an error and quarantines nothing when the path cannot be opened (a directory)', async () => {
    const dbPath = tempDbPath();
    fs.mkdirSync(dbPath, { recursive: true });
    const reply = failed(await handle(openTask(dbPath)));
    expect(reply).toMatchObject({ code: 'IO', retryable: false });
    expect(fs.statSync(dbPath).isDirectory()).toBe(true);
    expect(quarantined(path.dirname(dbPath))).toEqual([]);
  });

  it('returns an error and quarantines nothing when the folder cannot be created', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'not-a-folder'), 'x');
    const reply = failed(await handle(openTask(path.join(dir, 'not-a-folder', 'db.sqlite'))));
    expect(reply).toMatchObject({ code: 'IO', retryable: false });
    expect(fs.readFileSync(path.join(dir, 'not-a-folder'), 'utf8')).toBe('x');
  });

  it('returns an error, quarantines nothing and leaves no file behind when permission is denied (as an unprivileged user)', async () => {
    // Root ignores file modes, so the open runs in a child process as `nobody` when the tests run
    // as root (CI), and as the current user otherwise: the case runs everywhere.
    const cases = [
      { dirMode: 0o777, fileMode: 0o000, why: 'file not readable' },
      { dirMode: 0o777, fileMode: 0o444, why: 'file read-only' },
      { dirMode: 0o555, fileMode: 0o666, why: 'folder read-only' },
    ];
    for (const c of cases) {
      const dir = tempDir();
      const dbPath = path.join(dir, 'db.sqlite');
      ok(await handle(openTask(dbPath)), 'open');
      ok(await handle(applyTask(batch(1, { sessions: [{ session: session('kept') }] }))), 'apply');
      await closeWorker();
      fs.chmodSync(dbPath, c.fileMode);
      fs.chmodSync(dir, c.dirMode);
      try {
        const before = { names: fs.readdirSync(dir).sort(), main: sha1AsRoot(dbPath) };
        const reply = openAsUnprivileged(dbPath);
        expect(reply, c.why).toMatchObject({ ok: false, code: 'IO' });
        expect({ names: fs.readdirSync(dir).sort(), main: sha1AsRoot(dbPath) }, c.why).toEqual(before);
        expect(before.names, c.why).toEqual(['db.sqlite']);
      } finally {
        fs.chmodSync(dir, 0o755);
        fs.chmodSync(dbPath, 0o644);
      }
    }
  });

  it('refuses a cleanly closed database with a newer schema and leaves no -wal beside it', async () => {
    const dbPath = tempDbPath();
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const db = new Database(dbPath);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE from_the_future (x)');
    db.pragma(`user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    db.close();
    const dir = path.dirname(dbPath);
    const before = { names: fs.readdirSync(dir).sort(), main: sha1(dbPath) };
    expect(before.names).toEqual(['vibefixer.sqlite']);
    expect(failed(await handle(openTask(dbPath)))).toMatchObject({ code: 'SCHEMA_TOO_NEW', retryable: false });
    expect({ names: fs.readdirSync(dir).sort(), main: sha1(dbPath) }).toEqual(before);
  });

  it('refuses a schema newer than the code with SCHEMA_TOO_NEW and leaves the files byte for byte', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    ok(await handle(applyTask(batch(1, { sessions: [{ session: session('s') }] }))), 'apply');
    await closeWorker();
    // A newer release bumps the version and is killed before any checkpoint: frames stay in the WAL.
    const newer = `
      const Database = require('better-sqlite3');
      const db = new Database(process.argv[1]);
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('wal_autocheckpoint = 0');
      db.pragma('user_version = ${LATEST_SCHEMA_VERSION + 1}');
      process.kill(process.pid, 'SIGKILL');`;
    spawnSync(process.execPath, ['-e', newer, dbPath], { cwd: process.cwd() });
    const dir = path.dirname(dbPath);
    const before = { names: fs.readdirSync(dir).sort(), main: sha1(dbPath), wal: sha1(`${dbPath}-wal`) };
    expect(fs.statSync(`${dbPath}-wal`).size).toBeGreaterThan(0);

    const reply = failed(await handle(openTask(dbPath)));
    expect(reply).toMatchObject({ code: 'SCHEMA_TOO_NEW', retryable: false });
    expect(reply.message).toContain(`schema version ${LATEST_SCHEMA_VERSION + 1}`);
    expect({ names: fs.readdirSync(dir).sort(), main: sha1(dbPath), wal: sha1(`${dbPath}-wal`) }).toEqual(before);
  });

  it('migrates a database from every older schema version and reports the version it found', async () => {
    for (let version = 0; version <= LATEST_SCHEMA_VERSION; version++) {
      const dbPath = tempDbPath();
      fs.mkdirSync(path.dirname(dbPath), { recursive: true });
      let lastSeq = 0;
      if (version >= 1 && version <= 4) lastSeq = buildLegacyDb(dbPath, version as 1 | 2 | 3 | 4).lastSeq;
      else {
        const raw = new Database(dbPath);
        migrate(raw, version);
        raw.close();
      }

      const reply = ok(await handle(openTask(dbPath)), 'open');
      expect(reply, `from version ${version}`).toMatchObject({ created: false, migratedFrom: version, schemaVersion: LATEST_SCHEMA_VERSION, lastSeq });
      ok(await handle(applyTask(batch(lastSeq + 1, { sessions: [{ session: session('new') }] }))), 'apply');
      await closeWorker();
    }
  });

  it('migrates schema 7 to 8 keeping every high score as stored, a fractional remainingUnchecked (2.5) included', async () => {
    const dbPath = tempDbPath();
    fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    const raw = new Database(dbPath);
    migrate(raw, 7);
    raw.prepare('INSERT INTO high_scores VALUES (?, ?, ?, ?, ?)').run(1, 1000, 'whole', 'won', 3);
    raw.prepare('INSERT INTO high_scores VALUES (?, ?, ?, ?, ?)').run(2, 2000, 'fraction', 'lost', 2.5);
    raw.close();

    ok(await handle(openTask(dbPath)), 'open');
    await closeWorker();
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare('SELECT * FROM high_scores ORDER BY id').all()).toEqual([
        { id: 1, created_at: 1000, player_tag: 'whole', result: 'won', remaining_unchecked: 3 },
        { id: 2, created_at: 2000, player_tag: 'fraction', result: 'lost', remaining_unchecked: 2.5 },
      ]);
      const column = (db.pragma('table_info(high_scores)') as Array<{ name: string; type: string }>).find((c) => c.name === 'remaining_unchecked');
      expect(column?.type).toBe('REAL');
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'high_scores'").all()).toEqual([{ name: 'high_scores_created_at' }]);
    } finally {
      db.close();
    }
  });

  it('opens a second time in the same thread by releasing the first file', async () => {
    const first = tempDbPath();
    const second = tempDbPath();
    ok(await handle(openTask(first)), 'open');
    ok(await handle(openTask(second)), 'open');
    expect(currentDb().name).toBe(second);
    // The first file is free again: another connection can read it.
    const db = new Database(first, { readonly: true, timeout: 100 });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    db.close();
  });
});
