/**
 * The PostgreSQL driver when things break: a statement past its timeout, a connection terminated
 * by the server, and the postmaster killed -9 while the driver is in use. Each failure has a
 * stable, retryable code, nothing committed is lost, and the same driver works again once the
 * server is back, without being reopened (its pool reconnects).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { StorageDriver } from '../workers/driver.js';
import { batch, delta, sessionRow, sql, usePostgres, restQuery } from './postgres.fixtures.js';

const server = usePostgres();

/** A connection holding the row lock every apply needs (meta last_seq) until `release()`. */
async function holdApplyLock(url: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query("SELECT value FROM meta WHERE key = 'last_seq' FOR UPDATE");
  return {
    async release() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Polls `check` every 50 ms, at most `tries` times; fails with `what` if it never holds. */
async function until(what: string, check: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Waits until one of the driver's connections waits on a lock (the apply is in flight). */
async function applyIsWaiting(url: string): Promise<void> {
  await until('an apply waiting on the lock', async () => {
    const rows = await sql(url, "SELECT 1 FROM pg_stat_activity WHERE application_name = 'vibefixer-server' AND wait_event_type = 'Lock'");
    return rows.length > 0;
  });
}

/** Retries `fn` while it fails with a retryable error, bounded. */
async function eventually<T>(fn: () => Promise<T>, tries = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries || !(err as { retryable?: boolean }).retryable) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function sessionIds(driver: StorageDriver): Promise<string[]> {
  return (await driver.activeSessionsPage(null, 100)).map((r) => r[0]);
}

describe('postgres faults', () => {
  it('surfaces a statement past statement_timeout as TIMEOUT (retryable), rolls the batch back, and goes on', async () => {
    const { driver, url } = await server.open(undefined, 300);
    const lock = await holdApplyLock(url);
    try {
      const err = await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] } })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect((err as Error).message).toMatch(/^apply seq 1: 57014: canceling statement due to statement timeout/);
    } finally {
      await lock.release();
    }
    expect(await driver.lastSeq()).toBe(0);
    expect(await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] } }))).toEqual({ applied: true, rows: 1 });
    expect(await sessionIds(driver)).toEqual(['s1']);
  });

  it('answers UNAVAILABLE (retryable) when the server terminates the connection mid-batch (57P01), then reconnects', async () => {
    const { driver, url } = await server.open();
    const lock = await holdApplyLock(url);
    const inFlight = driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] } })).catch((e: unknown) => e);
    try {
      await applyIsWaiting(url);
      await sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vibefixer-server'");
      const err = await inFlight;
      expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect((err as Error).message).toMatch(/^apply seq 1: 57P01: terminating connection due to administrator command/);
    } finally {
      await lock.release();
    }
    expect(await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] } }))).toEqual({ applied: true, rows: 1 });
  });

  it('answers UNAVAILABLE (retryable) while PostgreSQL is killed -9, loses nothing committed, and works again after restart without reopening', async () => {
    const { driver, url } = await server.open();
    const pgServer = server.server();
    await driver.apply(batch(1, { upserts: { sessions: [sessionRow('s1')] }, stats: delta({ startedCount: 1 }) }));

    // A batch in flight when the postmaster dies: it must fail, not hang, and not half-apply.
    const lock = await holdApplyLock(url);
    const inFlight = driver.apply(batch(2, { upserts: { sessions: [sessionRow('s2')] }, stats: delta({ startedCount: 1 }) })).catch((e: unknown) => e);
    await applyIsWaiting(url);
    await pgServer.kill9();
    const err = await inFlight;
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((err as Error).message).toBe('apply seq 2: Connection terminated unexpectedly');
    await lock.release();

    // While it is down: every call fails fast with UNAVAILABLE.
    for (const call of [() => driver.lastSeq(), () => driver.apply(batch(2)), () => driver.rest(restQuery(10)), () => driver.activeSessionsPage(null, 10)]) {
      await expect(call()).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    }

    await pgServer.restart();
    // The same driver object: the pool drops its dead connections and opens new ones.
    expect(await eventually(() => driver.lastSeq())).toBe(1);
    expect(await sessionIds(driver)).toEqual(['s1']);
    expect(await driver.apply(batch(2, { upserts: { sessions: [sessionRow('s2')] }, stats: delta({ startedCount: 1 }) }))).toMatchObject({ applied: true });
    expect(await sessionIds(driver)).toEqual(['s1', 's2']);
    expect((await driver.rest(restQuery(0))).stats?.startedCount).toBe(2);
  });

  it('treats a batch whose COMMIT outcome was lost as applied when it is retried (replay is a no-op)', async () => {
    const { driver } = await server.open();
    const b = batch(1, { upserts: { sessions: [sessionRow('s1')] }, stats: delta({ startedCount: 1 }) });
    await driver.apply(b);
    // The caller never saw the answer and sends the same batch again.
    expect(await driver.apply(b)).toEqual({ applied: false, rows: 0 });
    expect((await driver.rest(restQuery(0))).stats?.startedCount).toBe(1);
  });
});
