/**
 * Sessions reloaded at start-up stay cold (id, start, duration) until first used. What a player
 * can observe must not change: a session that went stale while the server was down is ended
 * before the port opens, a reloaded session answers its first action as before, and a stored
 * row that does not decode is skipped and counted at start-up, not served.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handle } from '../workers/persist.js';
import { type Batch, encodeBatch, type SessionRecord, type StatsRecord } from '../src/model/protocol.js';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';

const tmp = tempDir();
const servers: ChildServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  tmp.cleanup();
});

function session(id: string, startedAtMs: number, durationSeconds: number): SessionRecord {
  return {
    id, seed: 'seed', startedAtMs, durationSeconds, playerSpeedPercent: 100, status: 'active', score: 0, remainingArtifactCount: 1,
    artifacts: [{ id: 'artifact_0_x', position: { x: 300, y: 218 }, status: 'ground' }], endedAtMs: null, endReason: null, result: null,
  };
}

describe('cold sessions after a restart', () => {
  it('ends sessions that went stale while down before listening, serves the others, drops undecodable rows', async () => {
    const dbPath = join(tmp.dir, 'db.sqlite');
    const now = Date.now();
    const stats: StatsRecord = { startedCount: 3, endedCount: 0, staleEndedCount: 0, wonCount: 0, lostCount: 0, abandonedCount: 0, latestCompletedAtMs: null, latestActivityAtMs: now - 3_600_000 };
    const batch: Batch = {
      seq: 1,
      sessions: [session('stale', now - 3_600_000, 60), session('live', now, 600), session('broken', now, 600)].map((s) => ({ session: s })),
      stats, highScores: [], notices: [], settings: [],
    };
    try {
      expect(handle({ kind: 'open', dbPath, synchronous: 'NORMAL', todayStartMs: 0, todayEndMs: 0 }).ok).toBe(true);
      expect(handle({ kind: 'apply', seq: 1, bytes: encodeBatch(batch) }).ok).toBe(true);
    } finally {
      handle({ kind: 'close' });
    }
    const raw = new Database(dbPath);
    raw.prepare("UPDATE sessions SET data = x'c1' WHERE id = 'broken'").run();
    raw.close();

    const server = await startChild({ VIBEFIXER_DB_PATH: dbPath });
    servers.push(server);
    const reloaded = await server.waitForLog((l) => l.event === 'reload_done');
    expect(reloaded).toMatchObject({ sessions: 3, staleEndedAtStart: 1 });
    // The stored records are checked after the port opened: the broken one is dropped.
    const checked = await server.waitForLog((l) => l.event === 'session_check_done');
    // (2 or 3 rows: the stale one's end may not be committed yet when the check reads it.)
    expect(checked).toMatchObject({ skipped: 1 });
    expect(server.logs.some((l) => l.event === 'session_row_skipped' && l.sessionId === 'broken')).toBe(true);

    const stats1 = (await fetch(server.url + '/api/sessions/stats').then((r) => r.json())) as Record<string, unknown>;
    expect(stats1).toMatchObject({ activeCount: 1, startedCount: 3, endedCount: 1, staleEndedCount: 1, abandonedCount: 1 });

    const post = (path: string, body: unknown) => fetch(server.url + path, { method: 'POST', body: JSON.stringify(body) });
    const status = await post('/api/sessions/live/artifact-status', { artifactId: 'artifact_0_x', status: 'carried' });
    expect(status.status).toBe(200);
    const deposit = await post('/api/sessions/live/deposit', { artifactId: 'artifact_0_x' });
    expect(await deposit.json()).toEqual({ score: 0, remainingArtifacts: 0 });
    expect((await post('/api/sessions/stale/spawn', { x: 1, y: 2 })).status).toBe(404);
    expect((await post('/api/sessions/broken/spawn', { x: 1, y: 2 })).status).toBe(404);
  });
});
