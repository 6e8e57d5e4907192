/**
 * The SQLite checkpointer (workers/sqlite/checkpointer.ts): WAL checkpoints on their own thread
 * and connection, beside the commits. Proved here on the driver itself, in this process:
 * commits are acknowledged while a checkpoint is held on purpose (by the order of events, not by
 * time), the WAL stays bounded under a long write loop, a dead checkpointer loses nothing and is
 * started again, and a clean close leaves no -wal, -shm or lock file.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FromCheckpointer } from '../workers/sqlite/checkpointer.js';
import { openSqlite, type SqliteDriver, type SqliteOptions } from '../workers/sqlite/driver.js';
import { batch, removeTempDirs, session, tempDbPath } from './worker.fixtures.js';

afterAll(removeTempDirs);

const open: SqliteDriver[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close().catch(() => undefined);
});

interface Opened {
  driver: SqliteDriver;
  dbPath: string;
  events: FromCheckpointer[];
  /** Resolves at the first matching event from index `from` of `events` (default: from now on). */
  next(match: (e: FromCheckpointer) => boolean, what: string, from?: number): Promise<FromCheckpointer>;
}

async function openWith(checkpointer: NonNullable<SqliteOptions['checkpointer']>, dbPath = tempDbPath()): Promise<Opened> {
  const events: FromCheckpointer[] = [];
  const watchers: Array<{ match: (e: FromCheckpointer) => boolean; resolve: (e: FromCheckpointer) => void }> = [];
  const opened = await openSqlite(
    {
      dbPath,
      synchronous: 'NORMAL',
      checkpointIntervalMs: 1,
      checkpointer: {
        ...checkpointer,
        onEvent: (e) => {
          events.push(e);
          for (const w of watchers.splice(0)) {
            if (w.match(e)) w.resolve(e);
            else watchers.push(w);
          }
        },
      },
    },
    false,
  );
  const driver = opened.driver as SqliteDriver;
  open.push(driver);
  const next = (match: (e: FromCheckpointer) => boolean, what: string, from = events.length) =>
    new Promise<FromCheckpointer>((resolve, reject) => {
      const seen = events.slice(from).find(match);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`checkpointer event not seen in 20 s: ${what}; saw ${JSON.stringify(events)}`)), 20_000);
      watchers.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  return { driver, dbPath, events, next };
}

/** A batch of `n` new sessions (with their level: a few KB of WAL each). */
function sessionsBatch(seq: number, n: number) {
  return batch(seq, { sessions: Array.from({ length: n }, (_, i) => ({ session: session(`s${seq}-${i}`) })) });
}

const yieldToEvents = () => new Promise((resolve) => setImmediate(resolve));

describe('SQLite checkpointer: checkpoints beside the commits', () => {
  it('commits are applied while a checkpoint is held on purpose, and the checkpoint then copies them all', async () => {
    const gate = new SharedArrayBuffer(4);
    const o = await openWith({ minRows: 1, gate });
    await o.next((e) => e.kind === 'ready', 'ready');
    expect((await o.driver.apply(sessionsBatch(1, 5))).applied).toBe(true);
    await o.next((e) => e.kind === 'started', 'checkpoint started');

    // The checkpointer thread is now inside its checkpoint and held there; the commits go on.
    const order: string[] = ['checkpoint started'];
    for (let seq = 2; seq <= 6; seq++) {
      const result = await o.driver.apply(sessionsBatch(seq, 5));
      expect(result.applied).toBe(true);
      order.push(`commit ${seq}`);
    }
    expect(o.events.some((e) => e.kind === 'done'), 'no checkpoint finished while it was held').toBe(false);

    const done = o.next((e) => e.kind === 'done', 'checkpoint done');
    const view = new Int32Array(gate);
    Atomics.store(view, 0, 1);
    Atomics.notify(view, 0);
    const finished = (await done) as Extract<FromCheckpointer, { kind: 'done' }>;
    order.push('checkpoint done');
    expect(order).toEqual(['checkpoint started', 'commit 2', 'commit 3', 'commit 4', 'commit 5', 'commit 6', 'checkpoint done']);
    // It ran after the held commits: every frame they wrote was there for it to copy.
    expect(finished.busy).toBe(0);
    expect(finished.checkpointedFrames).toBe(finished.logFrames);
    expect(finished.logFrames).toBeGreaterThan(0);
    expect(await o.driver.lastSeq()).toBe(6);
  });

  it('keeps the -wal file bounded under a long write loop: a RESTART checkpoint once the WAL passes the limit', async () => {
    const walLimitBytes = 512 * 1024;
    const o = await openWith({ minRows: 1, walLimitBytes });
    await o.next((e) => e.kind === 'ready', 'ready', 0);
    const walPath = `${o.dbPath}-wal`;
    const restarts = () => o.events.filter((e): e is Extract<FromCheckpointer, { kind: 'done' }> => e.kind === 'done' && e.mode === 'RESTART');
    let largestWal = 0;
    let seq = 0;
    // Bounded in count and time; long enough for several RESTART cycles.
    const deadline = Date.now() + 30_000;
    while (seq < 3_000 && Date.now() < deadline && restarts().length < 8) {
      seq += 1;
      await o.driver.apply(sessionsBatch(seq, 5));
      largestWal = Math.max(largestWal, fs.statSync(walPath).size);
      if (seq % 4 === 0) await yieldToEvents();
    }
    const pageBytes = o.driver.store.st.pageSize.get()! + 24;
    // Each RESTART found the WAL holding everything written since the one before it.
    const writtenBytes = restarts().reduce((sum, e) => sum + e.logFrames * pageBytes, 0);
    console.info(
      `[checkpointer] ${seq} batches; ${o.events.filter((e) => e.kind === 'done').length} checkpoints, ${restarts().length} RESTART; ` +
        `largest -wal ${largestWal} bytes for ${writtenBytes} bytes of WAL written across the RESTARTs (limit ${walLimitBytes})`,
    );
    expect(restarts().length).toBeGreaterThanOrEqual(3);
    // Without the RESTART the -wal file keeps everything written (measured: 26 MB for 26 MB);
    // with it the file is reused from its beginning, so it stays well below the total.
    expect(largestWal).toBeLessThan(writtenBytes / 2);
    expect(o.events.filter((e) => e.kind === 'failed')).toEqual([]);
    expect(await o.driver.lastSeq()).toBe(seq);
  });

  it('a checkpointer that dies loses no commit, and is started again at a later commit', async () => {
    const o = await openWith({ minRows: 1 });
    await o.next((e) => e.kind === 'ready', 'ready');
    const thread = o.driver.checkpointer!.thread!;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    await thread.terminate();
    await exited;
    expect(o.driver.checkpointer!.deaths).toBe(1);

    let seq = 0;
    for (; seq < 5; ) expect((await o.driver.apply(sessionsBatch(++seq, 2))).applied).toBe(true);
    // Started again by a commit once RESTART_DELAY_MS has passed (bounded: ~5 s of batches).
    const readyAgain = o.next((e) => e.kind === 'ready', 'ready again', 1);
    const deadline = Date.now() + 10_000;
    let again = false;
    void readyAgain.then(() => (again = true), () => undefined);
    while (!again && Date.now() < deadline) {
      await o.driver.apply(sessionsBatch(++seq, 1));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await readyAgain;
    const restartedAt = o.events.findIndex((e, i) => i > 0 && e.kind === 'ready');
    await o.next((e) => e.kind === 'done', 'a checkpoint by the new thread', restartedAt);
    expect(await o.driver.lastSeq()).toBe(seq);
  });

  it('a clean close leaves no -wal, -shm or lock file, and the file holds every commit', async () => {
    const o = await openWith({ minRows: 1 });
    for (let seq = 1; seq <= 20; seq++) await o.driver.apply(sessionsBatch(seq, 3));
    await o.next((e) => e.kind === 'done', 'a checkpoint');
    await o.driver.close();
    open.length = 0;
    for (const suffix of ['-wal', '-shm', '-lock', '-journal']) expect(fs.existsSync(o.dbPath + suffix), suffix).toBe(false);
    const db = new Database(o.dbPath, { readonly: true });
    try {
      expect(db.prepare("SELECT value FROM meta WHERE key = 'last_seq'").pluck().get()).toBe(20);
      expect(db.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(60);
    } finally {
      db.close();
    }
  });
});
