/**
 * Contract tests over real HTTP: the stale rule of CONTRACT §3.2 and its counters (§3.3, "Stale
 * sweep" row). The shortest session allowed lasts 10 s, so it goes stale 20 s after its start;
 * the two cases run concurrently, each against its own server.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { Client, expectError, sleep } from './helpers/http.js';

const STALE_AFTER_MS = 10 * 2 * 1000;
const children: Array<{ server: ChildServer; cleanup(): void }> = [];

async function child(env: Record<string, string> = {}): Promise<{ server: ChildServer; api: Client }> {
  const dir = tempDir('vibefixer-http-stale-');
  const server = await startChild({ VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'), ...env });
  children.push({ server, cleanup: dir.cleanup });
  return { server, api: new Client(server.url) };
}

afterAll(async () => {
  for (const c of children) {
    await c.server.stop();
    c.cleanup();
  }
});

async function sleepUntil(ms: number): Promise<void> {
  const wait = ms - Date.now();
  if (wait > 0) await sleep(wait);
}

describe('stale sessions (§3.2)', () => {
  it.concurrent(
    'ends a session 2 × its duration after its start, on the next GET /api/sessions/stats: +1 ended, abandoned and staleEnded',
    async () => {
      // The background sweep runs every 30 s (the default), after this test's deadline: only
      // the stats request can end the session here.
      const { api } = await child();
      const before = Date.now();
      const short = await api.createSession({ requestedDurationSeconds: 10 });
      const after = Date.now();
      const long = await api.createSession({ requestedDurationSeconds: 60 });
      const start = (await api.get('/api/sessions/stats')).json;
      expect(start.activeCount).toBe(2);

      // Shortly before its deadline it is still active and playable.
      await sleepUntil(before + STALE_AFTER_MS - 1_500);
      expect((await api.get('/api/sessions/stats')).json).toStrictEqual(start);
      await sleepUntil(after + STALE_AFTER_MS + 200);

      const stats = (await api.get('/api/sessions/stats')).json;
      expect(stats).toMatchObject({
        activeCount: 1,
        startedCount: 2,
        endedCount: 1,
        abandonedCount: 1,
        staleEndedCount: 1,
        wonCount: 0,
        lostCount: 0,
        latestCompletedAt: null, // a stale end is not a completed game
      });
      expect(Date.parse(stats.latestActivityAt)).toBeGreaterThanOrEqual(before + STALE_AFTER_MS);

      expectError(await api.post(`/api/sessions/${short}/spawn`, { x: 1, y: 2 }), 404, 'Session not found');
      expectError(await api.post(`/api/sessions/${short}/end`, { result: 'won' }), 404, 'Session not found');
      expect((await api.post(`/api/sessions/${long}/spawn`, { x: 1, y: 2 })).status).toBe(201);
    },
    45_000,
  );

  it.concurrent(
    'ends stale sessions on the background timer too, without any request',
    async () => {
      const { server, api } = await child({ VIBEFIXER_STALE_SWEEP_INTERVAL_MS: '500' });
      const before = Date.now();
      const short = await api.createSession({ requestedDurationSeconds: 10 });
      const line = await server.waitForLog((l) => l.event === 'stale_sweep', STALE_AFTER_MS + 10_000);
      expect(Date.now()).toBeGreaterThanOrEqual(before + STALE_AFTER_MS);
      expect(line.ended).toBe(1);
      const stats = (await api.get('/api/sessions/stats')).json;
      expect(stats).toMatchObject({ activeCount: 0, endedCount: 1, abandonedCount: 1, staleEndedCount: 1, latestCompletedAt: null });
      expectError(await api.post(`/api/sessions/${short}/deposit`, { artifactId: 'artifact_0' }), 404, 'Session not found');
    },
    45_000,
  );
});
