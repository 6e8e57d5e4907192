/**
 * Sessions reloaded at start-up stay cold (id, start, duration) until first used. What a player
 * can observe must not change: a session that went stale while the server was down is ended
 * before the port opens, and a reloaded session's rows (header and artifacts) are loaded on its
 * first action, which answers as before.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { encodeBatch, type SessionRecord, type StatsDelta, type WireBatch } from '../src/model/protocol.js';
import { artifactRow, sessionRow } from '../src/model/convert.js';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { workerStorage } from './helpers/storage.js';

const tmp = tempDir();
const servers: ChildServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  tmp.cleanup();
});

function session(id: string, startedAtMs: number, durationSeconds: number): SessionRecord {
  return {
    id, seed: 'seed', startedAtMs, durationSeconds, playerSpeedPercent: 100, status: 'active', score: 0, remainingArtifactCount: 1, groundCount: 1,
    artifacts: [{ id: 'artifact_0_x', position: { x: 300, y: 218 }, status: 'ground', createdAtMs: startedAtMs }], endedAtMs: null, endReason: null, result: null,
  };
}

describe('cold sessions after a restart', () => {
  it('ends sessions that went stale while down before listening, and loads the others on their first action', async () => {
    const dbPath = join(tmp.dir, 'db.sqlite');
    const now = Date.now();
    const stats: StatsDelta = { startedCount: 3, endedCount: 1, staleEndedCount: 0, wonCount: 1, lostCount: 0, abandonedCount: 0, latestCompletedAtMs: now - 7_200_000, latestActivityAtMs: now - 3_600_000 };
    const ended: SessionRecord = { ...session('ended', now - 7_200_000, 600), status: 'ended', endedAtMs: now - 7_200_000, endReason: 'ended', result: 'won' };
    const sessions = [session('stale', now - 3_600_000, 60), session('live', now, 600), ended];
    const batch: WireBatch = {
      seq: 1,
      upserts: {
        sessions: sessions.map(sessionRow),
        artifacts: sessions.flatMap((s) => s.artifacts.map((a, idx) => artifactRow(s.id, idx, a, s.startedAtMs))),
      },
      deletes: {},
      stats,
    };
    try {
      expect((await handle({ kind: 'open', storage: await workerStorage(dbPath), todayStartMs: 0, todayEndMs: 0 })).ok).toBe(true);
      expect((await handle({ kind: 'apply', seq: 1, bytes: encodeBatch(batch) })).ok).toBe(true);
    } finally {
      await handle({ kind: 'close' });
    }

    const server = await startChild({ VIBEFIXER_DB_PATH: dbPath });
    servers.push(server);
    const reloaded = await server.waitForLog((l) => l.event === 'reload_done');
    expect(reloaded).toMatchObject({ sessions: 2, staleEndedAtStart: 1, droppedSessions: 0 });

    const stats1 = (await fetch(server.url + '/api/sessions/stats').then((r) => r.json())) as Record<string, unknown>;
    expect(stats1).toMatchObject({ activeCount: 1, startedCount: 3, endedCount: 2, staleEndedCount: 1, wonCount: 1, abandonedCount: 1 });

    const post = (path: string, body: unknown) => fetch(server.url + path, { method: 'POST', body: JSON.stringify(body) });
    const status = await post('/api/sessions/live/artifact-status', { artifactId: 'artifact_0_x', status: 'carried' });
    expect(status.status).toBe(200);
    const deposit = await post('/api/sessions/live/deposit', { artifactId: 'artifact_0_x' });
    expect(await deposit.json()).toEqual({ score: 0, remainingArtifacts: 0 });
    expect((await post('/api/sessions/stale/spawn', { x: 1, y: 2 })).status).toBe(404);
    expect((await post('/api/sessions/ended/spawn', { x: 1, y: 2 })).status).toBe(404);
  });
});
