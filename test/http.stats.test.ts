/**
 * Contract tests over real HTTP: the counters of CONTRACT §3.3 as seen through
 * GET /api/sessions/stats, GET /api/system/stats, and what a change stores (decision #2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, ROOT, startChild, tempDir } from './helpers/child-server.js';
import { Client, expectJson, ISO_MS, sleep, serverForFile } from './helpers/http.js';
import { operatorSql } from './helpers/storage.js';

let server: ChildServer;
let api: Client;
const file = serverForFile('vibefixer-http-stats-', (s, a) => {
  server = s;
  api = a;
});

const STATS_FIELDS = [
  'abandonedCount',
  'activeCount',
  'endedCount',
  'latestActivityAt',
  'latestCompletedAt',
  'lostCount',
  'staleEndedCount',
  'startedCount',
  'wonCount',
];
const COUNTS = ['activeCount', 'startedCount', 'endedCount', 'staleEndedCount', 'wonCount', 'lostCount', 'abandonedCount'] as const;
type Stats = Record<(typeof COUNTS)[number], number> & { latestCompletedAt: string | null; latestActivityAt: string | null };

async function stats(): Promise<Stats> {
  const reply = await api.get('/api/sessions/stats');
  expectJson(reply, 200);
  return reply.json as Stats;
}

/** The counters that changed between two snapshots (zero deltas left out). */
function delta(before: Stats, after: Stats): Partial<Record<(typeof COUNTS)[number], number>> {
  const changed: Partial<Record<(typeof COUNTS)[number], number>> = {};
  for (const key of COUNTS) if (after[key] !== before[key]) changed[key] = after[key] - before[key];
  return changed;
}

const ms = (iso: string | null) => (iso === null ? NaN : Date.parse(iso));

describe('GET /api/sessions/stats', () => {
  it('answers 200 with the seven integer counters and two ISO-or-null times, all zero and null on a fresh database', async () => {
    const body = await stats();
    expect(Object.keys(body).sort()).toStrictEqual(STATS_FIELDS);
    for (const key of COUNTS) expect(body[key], key).toBe(0);
    expect(body.latestCompletedAt).toBeNull();
    expect(body.latestActivityAt).toBeNull();
  });

  it('create: +1 started and +1 active, latestActivityAt set to now', async () => {
    const before = await stats();
    const t0 = Date.now();
    await api.createSession();
    const after = await stats();
    expect(delta(before, after)).toStrictEqual({ startedCount: 1, activeCount: 1 });
    expect(after.latestActivityAt).toMatch(ISO_MS);
    expect(ms(after.latestActivityAt)).toBeGreaterThanOrEqual(t0);
    expect(ms(after.latestActivityAt)).toBeLessThanOrEqual(Date.now());
    expect(after.latestCompletedAt).toBe(before.latestCompletedAt);
  });

  it.each([
    ['won', { result: 'won' }, { wonCount: 1 }],
    ['WON (case-insensitive)', { result: 'WON' }, { wonCount: 1 }],
    ['lost', { result: 'lost' }, { lostCount: 1 }],
    ['Lost (case-insensitive)', { result: 'Lost' }, { lostCount: 1 }],
  ])('end with %s: +1 ended and +1 in its column, latestCompletedAt = the end time', async (_label, body, column) => {
    const sessionId = await api.createSession();
    const before = await stats();
    const t0 = Date.now();
    expectJson(await api.post(`/api/sessions/${sessionId}/end`, body), 200);
    const t1 = Date.now();
    const after = await stats();
    expect(delta(before, after)).toStrictEqual({ activeCount: -1, endedCount: 1, ...column });
    expect(after.latestCompletedAt).toMatch(ISO_MS);
    expect(ms(after.latestCompletedAt)).toBeGreaterThanOrEqual(t0);
    expect(ms(after.latestCompletedAt)).toBeLessThanOrEqual(t1);
    expect(after.latestActivityAt).toBe(after.latestCompletedAt);
  });

  it('end with no result: +1 ended and +1 abandoned, latestCompletedAt unchanged, latestActivityAt now', async () => {
    // Make sure there is a completed game to keep.
    const first = await api.createSession();
    await api.post(`/api/sessions/${first}/end`, { result: 'won' });
    const sessionId = await api.createSession();
    const before = await stats();
    expect(before.latestCompletedAt).not.toBeNull();
    await sleep(5);
    const t0 = Date.now();
    expectJson(await api.post(`/api/sessions/${sessionId}/end`), 200);
    const after = await stats();
    expect(delta(before, after)).toStrictEqual({ activeCount: -1, endedCount: 1, abandonedCount: 1 });
    expect(after.latestCompletedAt).toBe(before.latestCompletedAt);
    expect(ms(after.latestActivityAt)).toBeGreaterThanOrEqual(t0);
  });

  it('spawn, artifact-status and deposit each move latestActivityAt and change no counter', async () => {
    const sessionId = await api.createSession();
    let artifactId = '';
    const steps: Array<() => Promise<unknown>> = [
      async () => (artifactId = await api.spawn(sessionId)),
      () => api.setStatus(sessionId, artifactId, 'carried'),
      () => api.post(`/api/sessions/${sessionId}/deposit`, { artifactId }),
    ];
    for (const step of steps) {
      const before = await stats();
      await sleep(5);
      const t0 = Date.now();
      await step();
      const after = await stats();
      expect(delta(before, after)).toStrictEqual({});
      expect(ms(after.latestActivityAt)).toBeGreaterThanOrEqual(t0);
    }
  });

  it('a high-score POST changes neither the counters nor latestActivityAt', async () => {
    await api.createSession();
    const before = await stats();
    await sleep(5);
    const reply = await api.post('/api/high-scores', { playerTag: 'STATS', result: 'won', remainingUnchecked: 0 });
    expect(reply.status).toBe(201);
    const after = await stats();
    expect(after).toStrictEqual(before);
  });

  it('refused writes change nothing', async () => {
    const sessionId = await api.createSession();
    const before = await stats();
    await sleep(5);
    await api.post('/api/sessions', { requestedDurationSeconds: 1 });
    await api.post(`/api/sessions/${sessionId}/spawn`, {});
    await api.post(`/api/sessions/${sessionId}/end`, { result: 'draw' });
    await api.post('/api/sessions/session_unknown/end', { result: 'won' });
    expect(await stats()).toStrictEqual(before);
  });

  it('keeps the invariants ended = won + lost + abandoned and started = active + ended', async () => {
    const s = await stats();
    expect(s.endedCount).toBe(s.wonCount + s.lostCount + s.abandonedCount);
    expect(s.startedCount).toBe(s.activeCount + s.endedCount);
    expect(s.abandonedCount).toBeGreaterThanOrEqual(s.staleEndedCount);
  });
});

describe('GET /api/system/stats', () => {
  it('answers 200 with the eight fields of §1.6, this server\'s own version and the same counts as the session stats', async () => {
    const t0 = Date.now();
    const reply = await api.get('/api/system/stats');
    expectJson(reply, 200);
    const body = reply.json;
    expect(Object.keys(body).sort()).toStrictEqual(
      ['latestActivityAt', 'serverVersion', 'sessionsActive', 'sessionsEnded', 'sessionsStarted', 'sessionsToday', 'startedAt', 'uptimeSeconds'],
    );
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(body.serverVersion).toBe(pkg.version);
    expect(body.startedAt).toMatch(ISO_MS);
    expect(ms(body.startedAt)).toBeLessThanOrEqual(t0);
    expect(Number.isInteger(body.uptimeSeconds)).toBe(true);
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(body.uptimeSeconds).toBeLessThanOrEqual(Math.ceil((Date.now() - ms(body.startedAt)) / 1000));
    const s = await stats();
    expect(body.sessionsStarted).toBe(s.startedCount);
    expect(body.sessionsActive).toBe(s.activeCount);
    expect(body.sessionsEnded).toBe(s.endedCount);
    expect(body.latestActivityAt).toBe(s.latestActivityAt);
    // Every session of this file was started just now, today.
    expect(body.sessionsToday).toBe(s.startedCount);
  });

  it('counts a new session in sessionsStarted, sessionsActive and sessionsToday', async () => {
    const before = (await api.get('/api/system/stats')).json;
    await api.createSession();
    const after = (await api.get('/api/system/stats')).json;
    expect(after.sessionsStarted - before.sessionsStarted).toBe(1);
    expect(after.sessionsActive - before.sessionsActive).toBe(1);
    expect(after.sessionsToday - before.sessionsToday).toBe(1);
    expect(after.sessionsEnded).toBe(before.sessionsEnded);
  });
});

describe('after a restart', () => {
  it('keeps every counter, latestCompletedAt, latestActivityAt (decision #9) and the active sessions', async () => {
    const sessionId = await api.createSession();
    await api.spawn(sessionId);
    const before = await stats();
    const system = (await api.get('/api/system/stats')).json;
    expect(before.activeCount).toBeGreaterThan(0);
    expect((await file.restart()).code).toBe(0);
    api = new Client(server.url);
    expect(await stats()).toStrictEqual(before);
    const systemAfter = (await api.get('/api/system/stats')).json;
    expect(systemAfter.sessionsToday).toBe(system.sessionsToday);
    expect(systemAfter.latestActivityAt).toBe(system.latestActivityAt);
    // A reloaded session is still playable.
    expectJson(await api.post(`/api/sessions/${sessionId}/spawn`, { x: 5, y: 6 }), 201);
  });
});

describe('what a change stores', () => {
  it('stores a case-folded status in its canonical spelling (inAir, not inair) and the result lower-cased', async () => {
    const own = tempDir('vibefixer-http-stored-');
    const dbPath = join(own.dir, 'db.sqlite');
    const child = await startChild({ VIBEFIXER_DB_PATH: dbPath });
    try {
      const c = new Client(child.url);
      const sessionId = await c.createSession();
      const a = await c.spawn(sessionId);
      const b = await c.spawn(sessionId);
      const d = await c.spawn(sessionId);
      await c.setStatus(sessionId, a, 'INAIR');
      await c.setStatus(sessionId, b, 'Carried');
      await c.setStatus(sessionId, d, 'GROUND');
      expectJson(await c.post(`/api/sessions/${sessionId}/end`, { result: 'WON' }), 200);
      expect((await child.stop()).code).toBe(0);

      const db = await operatorSql(dbPath);
      try {
        const rows = await db.all('SELECT status, result, end_reason FROM sessions WHERE id = ?', [sessionId]);
        expect(rows).toStrictEqual([{ status: 'ended', result: 'won', end_reason: 'ended' }]);
        const artifacts = await db.all<{ id: string; status: string }>('SELECT id, status FROM artifacts WHERE session_id = ? ORDER BY idx', [sessionId]);
        expect(Object.fromEntries(artifacts.map((x) => [x.id, x.status]))).toStrictEqual({ [a]: 'inAir', [b]: 'carried', [d]: 'ground' });
      } finally {
        await db.close();
      }
    } finally {
      await child.stop();
      own.cleanup();
    }
  });
});
