/**
 * Restart behaviour of the real server process (the built dist/, port 0, 127.0.0.1 only):
 * graceful stop under load, what a restart keeps, seeded notices and settings, the one-owner
 * rule, a corrupt file and a schema newer than the code (DESIGN.md invariants 5 and 6).
 * The first three run on both drivers (vitest projects); the one-owner rule and the damaged file
 * are the SQLite file's own (PostgreSQL's newer-schema refusal: test/postgres.open.test.ts).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { encodeBatch, type NoticeRecord, type SettingRecord, type WireBatch } from '../src/model/protocol.js';
import { noticeRow, settingRow } from '../src/model/convert.js';
import { type ChildServer, MAIN, runChildToExit, startChild, tempDir } from './helpers/child-server.js';
import { counterViolations, GameClient, getStats, reportViolations } from './helpers/game-client.js';
import { describeOnSqlite, workerStorage } from './helpers/storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');


const started: ChildServer[] = [];
const dirs: Array<{ cleanup(): void }> = [];

function newDb(): { dir: string; dbPath: string } {
  const tmp = tempDir('vibefixer-restart-');
  dirs.push(tmp);
  return { dir: tmp.dir, dbPath: join(tmp.dir, 'db.sqlite') };
}

async function start(env: Record<string, string>): Promise<ChildServer> {
  const child = await startChild({ VIBEFIXER_RATE_LIMIT_PER_MIN: '0', ...env });
  started.push(child);
  return child;
}

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
});
afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) await child.stop('SIGKILL');
  }
});
afterAll(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('graceful stop', () => {
  it('SIGTERM under load exits 0 after shutdown_done, and every acknowledged write is there after the restart', { timeout: 30_000 }, async () => {
    const { dbPath } = newDb();
    const env = { VIBEFIXER_DB_PATH: dbPath };
    const server = await start(env);
    const client = new GameClient(server.url);
    try {
      const load = client.load({ loops: 12, maxDurationMs: 5_000, maxSessionsPerLoop: 200, highScoreBudget: 60, phase: 'load' });
      await sleep(400);
      server.proc.kill('SIGTERM');
      await load;
      const exit = await server.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      const done = server.logs.find((l) => l.event === 'shutdown_done');
      expect(done, 'a shutdown_done log line').toBeDefined();
      expect(done!.flushed).toBe(true);
      expect(client.acks.length, 'writes acknowledged before SIGTERM').toBeGreaterThan(20);
      expect(client.failures.length, 'writes that met the stop (503 or cut off)').toBeGreaterThan(0);
      // Writes that met the stop were refused with 503 or cut off, never answered 2xx and dropped.
      const cut = client.failures.map((f) => f.error.replace(/session_[\w-]+/g, 'session_…').slice(0, 80));

      const again = await start(env);
      client.retarget(again.url);
      const lastSeq = again.logs.find((l) => l.event === 'database_open')?.lastSeq as number;
      expect(lastSeq, 'the file holds the last seq the stop reported').toBe(done!.durableSeq);
      const violations = await client.verify('after', { strict: true });
      const stats = await getStats(client);
      violations.push(...counterViolations(stats, client));
      console.info(
        `[restart] SIGTERM under load: ${client.acks.filter((a) => a.phase === 'load').length} writes acknowledged, ` +
          `${cut.length} cut off (${[...new Set(cut)].join(' | ')}); started ${stats.startedCount} (acknowledged ${client.ackCount('create')}, sent ${client.sent.create})`,
      );
      expect(violations.length, reportViolations(violations)).toBe(0);
    } finally {
      client.close();
    }
  });
});

describe('a restart keeps the state', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after ${signal}: stats (every counter, latestActivityAt), high scores and active sessions (which still accept spawn, status, deposit and end)`, { timeout: 30_000 }, async () => {
      const { dbPath } = newDb();
      const env = { VIBEFIXER_DB_PATH: dbPath, VIBEFIXER_ACK: 'durable' };
      const server = await start(env);
      const client = new GameClient(server.url);
      try {
        // A bounded load that runs to completion: every answer (durable) has arrived before the stop.
        const played = await client.load({ loops: 4, maxDurationMs: 10_000, maxSessionsPerLoop: 4, highScoreBudget: 10, phase: 'play' });
        expect(played.failures).toBe(0);
        const before = await getStats(client);
        const highScores = (await client.get('/api/high-scores')).body;
        const system = (await client.get('/api/system/stats')).body;
        expect(before.activeCount).toBeGreaterThan(0);
        expect(before.wonCount + before.lostCount).toBeGreaterThan(0);
        expect(highScores.scores.length).toBe(10);
        expect(before.latestActivityAt).not.toBeNull();

        const exit = await server.stop(signal);
        expect(exit).toEqual(signal === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });
        await sleep(5); // the next ISO millisecond: a fresh activity time would differ
        const again = await start(env);
        client.retarget(again.url);

        // Same counters, same latestActivityAt and latestCompletedAt (no activity since), same list.
        expect(await getStats(client)).toEqual(before);
        expect((await client.get('/api/high-scores')).body).toEqual(highScores);
        const systemAfter = (await client.get('/api/system/stats')).body;
        for (const key of ['sessionsStarted', 'sessionsActive', 'sessionsEnded', 'latestActivityAt', 'serverVersion']) {
          expect(systemAfter[key], key).toEqual(system[key]);
        }
        if (new Date(system.startedAt).toDateString() === new Date().toDateString()) expect(systemAfter.sessionsToday).toBe(system.sessionsToday);

        // Active sessions still work: verify() spawns on each, sets statuses and deposits.
        const violations = await client.verify('after', { strict: true });
        expect(violations.length, reportViolations(violations)).toBe(0);
        const active = [...client.sessions.values()].filter((s) => s.end === 'none');
        expect(active.length).toBe(before.activeCount);
        for (const s of active) {
          const a = await client.spawn(s, 'after');
          expect(a, `spawn on ${s.id}`).not.toBeNull();
          expect(await client.setStatus(s, a!, 'carried', 'after'), `artifact-status on ${s.id}`).toBe(true);
          expect(await client.deposit(s, a!, 'after'), `deposit on ${s.id}`).not.toBeNull();
          expect(await client.end(s, 'won', 'after'), `end of ${s.id}`).toBe(true);
        }
        const after = await getStats(client);
        expect(after.activeCount).toBe(0);
        expect(after.wonCount).toBe(before.wonCount + active.length);
        expect(after.startedCount).toBe(before.startedCount);
        expect(Date.parse(after.latestActivityAt!)).toBeGreaterThan(Date.parse(before.latestActivityAt!));
        expect((await again.stop('SIGTERM')).code).toBe(0);
      } finally {
        client.close();
      }
    });
  }
});

describe('notices and settings', () => {
  it('seeded into the file before start, are served, used, and survive a restart', { timeout: 30_000 }, async () => {
    const { dbPath } = newDb();
    const nowMs = Date.now();
    const notice: NoticeRecord = {
      id: randomUUID(),
      title: 'A message from the basement troll',
      message: 'Maintenance tonight at 22:00',
      validFrom: new Date(nowMs - 3_600_000).toISOString(),
      validTo: new Date(nowMs + 3_600_000).toISOString(),
    };
    const expired: NoticeRecord = { ...notice, id: randomUUID(), message: 'Old news', validTo: new Date(nowMs - 60_000).toISOString() };
    const setting: SettingRecord = { key: 'playerSpeedPercent', value: 120, updatedAtMs: nowMs };
    const batch: WireBatch = {
      seq: 1,
      upserts: { notices: [noticeRow(notice), noticeRow(expired)], settings: [settingRow(setting)] },
      deletes: {},
      stats: null,
    };
    // In this process, through the worker's own handler; closed again so the server can own the file.
    try {
      const opened = await handle({ kind: 'open', storage: await workerStorage(dbPath), todayStartMs: 0, todayEndMs: 0 });
      expect(opened.ok, JSON.stringify(opened)).toBe(true);
      const applied = await handle({ kind: 'apply', seq: 1, bytes: encodeBatch(batch) });
      expect(applied.ok, JSON.stringify(applied)).toBe(true);
    } finally {
      expect((await handle({ kind: 'close' })).ok).toBe(true);
    }

    const env = { VIBEFIXER_DB_PATH: dbPath };
    let server = await start(env);
    for (const round of ['first start', 'after a SIGTERM restart']) {
      const client = new GameClient(server.url);
      try {
        const notices = await client.get('/api/notices/active');
        expect(notices.status, round).toBe(200);
        expect(notices.body, round).toEqual({ notices: [notice] });
      } finally {
        client.close();
      }
      // New sessions copy the setting: the create answer carries it.
      const raw = await fetch(`${server.url}/api/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
      expect(raw.status, round).toBe(201);
      expect(((await raw.json()) as { playerSpeedPercent: number }).playerSpeedPercent, round).toBe(120);
      if (round === 'first start') {
        expect((await server.stop('SIGTERM')).code).toBe(0);
        server = await start(env);
      }
    }
    expect((await server.stop('SIGTERM')).code).toBe(0);
  });
});

describeOnSqlite('one owner per database file', () => {
  it('a second server on the same file exits 1 saying the database is in use, while the first keeps serving', { timeout: 30_000 }, async () => {
    const { dbPath } = newDb();
    const env = { VIBEFIXER_DB_PATH: dbPath };
    const first = await start(env);
    const client = new GameClient(first.url);
    try {
      const s = await client.create('before');
      expect(s).not.toBeNull();

      const second = await runChildToExit({ ...env, VIBEFIXER_RATE_LIMIT_PER_MIN: '0' });
      expect(second.code, second.stderr).toBe(1);
      const refused = second.logs.find((l) => l.event === 'startup_refused');
      expect(refused, JSON.stringify(second.logs.slice(-3))).toBeDefined();
      expect(refused!.code).toBe('LOCKED');
      expect(refused!.msg).toMatch(/in use/i);
      expect(refused!.msg).toContain(dbPath);
      expect(second.logs.some((l) => l.event === 'listening')).toBe(false);

      // The first one still reads and writes, durably.
      expect(first.proc.exitCode).toBeNull();
      expect(await client.spawn(s!, 'after')).not.toBeNull();
      expect(await client.end(s!, 'won', 'after')).toBe(true);
      const stats = await getStats(client);
      expect(stats.startedCount).toBe(1);
      expect(stats.wonCount).toBe(1);
      expect((await first.stop('SIGTERM')).code).toBe(0);
    } finally {
      client.close();
    }
  });

  it('a kill -9 releases ownership: the lock file stays, the next server on the file starts, and a clean stop leaves only the database', { timeout: 30_000 }, async () => {
    const { dbPath } = newDb();
    const env = { VIBEFIXER_DB_PATH: dbPath };
    const first = await start(env);
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    expect(existsSync(`${dbPath}-lock`)).toBe(true);
    const next = await start(env);
    expect(next.logs.some((l) => l.event === 'listening')).toBe(true);
    expect((await next.stop('SIGTERM')).code).toBe(0);
    expect(readdirSync(dirname(dbPath)).filter((n) => n.startsWith(basename(dbPath)))).toEqual([basename(dbPath)]);
  });
});

describeOnSqlite('start-up on a damaged or foreign file', () => {
  it('a corrupt file is quarantined with its -wal/-shm (bytes kept), the server starts empty and /health says so', { timeout: 30_000 }, async () => {
    const { dir, dbPath } = newDb();
    const original = { '': randomBytes(64 * 1024), '-wal': randomBytes(32 * 1024 + 32), '-shm': randomBytes(32 * 1024) };
    for (const [suffix, bytes] of Object.entries(original)) writeFileSync(dbPath + suffix, bytes);

    const server = await start({ VIBEFIXER_DB_PATH: dbPath });
    const client = new GameClient(server.url);
    try {
      const health = await client.get('/health');
      expect(health.status).toBe(200);
      expect(health.body.storage).toBe('recovered-from-corruption');
      // /health names the file only (no absolute path leaks to anyone who can reach the port);
      // the operator's log line carries the full path.
      const shownName = health.body.quarantinedTo as string;
      expect(typeof shownName).toBe('string');
      expect(shownName.startsWith('db.sqlite.corrupt-')).toBe(true);
      expect(shownName).not.toContain('/');
      const quarantinedTo = join(dir, shownName);
      for (const [suffix, bytes] of Object.entries(original)) {
        expect(existsSync(quarantinedTo + suffix), `${quarantinedTo}${suffix} exists`).toBe(true);
        // The -shm is SQLite's WAL index, which holds no persistent content: the first connection
        // to the file (the worker's read-only probe, which finds the corruption) resets it, so
        // only its presence is checked. The database and its WAL keep every original byte.
        if (suffix === '-shm') continue;
        expect(readFileSync(quarantinedTo + suffix).equals(bytes), `${quarantinedTo}${suffix} keeps the original bytes`).toBe(true);
      }
      expect(existsSync(dbPath), 'a fresh database file in the old place').toBe(true);
      expect(readFileSync(dbPath).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
      const logged = server.logs.find((l) => l.event === 'database_quarantined');
      expect(logged?.quarantinedTo).toBe(quarantinedTo);
      expect(logged?.level).toBeGreaterThanOrEqual(50);

      // It starts empty and works; the fresh file is sound, so the next start reports ok.
      expect(await getStats(client)).toMatchObject({ startedCount: 0, activeCount: 0 });
      expect(await client.create('fresh')).not.toBeNull();
      expect((await server.stop('SIGTERM')).code).toBe(0);
      const again = await start({ VIBEFIXER_DB_PATH: dbPath });
      client.retarget(again.url);
      expect((await client.get('/health')).body.storage).toBe('ok');
      expect((await getStats(client)).startedCount).toBe(1);
      expect(readdirSync(dir).filter((f) => f.includes('.corrupt-')).length).toBe(3);
      expect((await again.stop('SIGTERM')).code).toBe(0);
    } finally {
      client.close();
    }
  });

  it('a schema newer than the code: exit 1 with a clear message, the file untouched', { timeout: 30_000 }, async () => {
    const { dir, dbPath } = newDb();
    const db = new Database(dbPath);
    db.exec("CREATE TABLE future_things (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO future_things (data) VALUES (x'c0ffee')");
    db.pragma('user_version = 999');
    db.close();
    const filesBefore = readdirSync(dir).sort();
    const hashBefore = sha256(dbPath);

    const run = await runChildToExit({ VIBEFIXER_DB_PATH: dbPath });
    expect(run.code, run.stderr).toBe(1);
    const refused = run.logs.find((l) => l.event === 'startup_refused');
    expect(refused, JSON.stringify(run.logs.slice(-3))).toBeDefined();
    expect(refused!.code).toBe('SCHEMA_TOO_NEW');
    expect(refused!.msg).toMatch(/schema version 999/);
    expect(refused!.msg).toMatch(/newer/);
    expect(run.logs.some((l) => l.event === 'listening')).toBe(false);

    expect(sha256(dbPath)).toBe(hashBefore);
    expect(readdirSync(dir).sort()).toEqual(filesBefore);
  });
});
