/**
 * Contract tests over real HTTP: the write rate limit of CONTRACT §1.3 with decision #7
 * (proxy headers trusted only when the operator says so). Each case gets its own server with a
 * budget of 5 writes per minute, so the budgets never interfere.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { Client, expectError, expectJson, type Reply, SEQ_HEADER } from './helpers/http.js';

const PER_MIN = 5;

/** Starts a server with a budget of 5 writes per minute; stops it after the describe block. */
function limitedServer(extraEnv: Record<string, string> = {}): () => Client {
  const dir = tempDir('vibefixer-http-rate-');
  let server: ChildServer;
  let api: Client;
  beforeAll(async () => {
    server = await startChild({ VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'), VIBEFIXER_RATE_LIMIT_PER_MIN: String(PER_MIN), ...extraEnv });
    api = new Client(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    dir.cleanup();
  });
  return () => api;
}

function expectRateLimited(reply: Reply): void {
  expectError(reply, 429, 'Rate limit exceeded');
  const retryAfter = reply.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  expect(reply.headers.has(SEQ_HEADER)).toBe(false);
}

describe('without a trusted proxy', () => {
  const client = limitedServer();

  it('lets 5 writes through, whatever their outcome, then answers 429 with Retry-After in 1..60', async () => {
    const api = client();
    const sessionId = await api.createSession(); // 1: 201
    expectJson(await api.post(`/api/sessions/${sessionId}/spawn`, { x: 1, y: 2 }), 201); // 2
    expectError(await api.post('/api/sessions/session_unknown/end'), 404, 'Session not found'); // 3: 404 counts
    expectError(await api.postRaw('/api/high-scores', '{'), 400, 'Invalid JSON'); // 4: 400 counts
    expectError(await api.postRaw('/api/sessions', 'x'.repeat(200_000)), 413, 'Payload too large'); // 5: 413 counts
    expectRateLimited(await api.post('/api/sessions'));
    // Every write endpoint shares the budget, and the limit is decided before routing.
    expectRateLimited(await api.post(`/api/sessions/${sessionId}/spawn`, { x: 1, y: 2 }));
    expectRateLimited(await api.post(`/api/sessions/${sessionId}/artifact-status`, { artifactId: 'a', status: 'ground' }));
    expectRateLimited(await api.post(`/api/sessions/${sessionId}/deposit`, { artifactId: 'a' }));
    expectRateLimited(await api.post(`/api/sessions/${sessionId}/end`, { result: 'won' }));
    expectRateLimited(await api.post('/api/high-scores', { playerTag: 'P', result: 'won' }));
    expectRateLimited(await api.post('/api/sessions/session_unknown/spawn', { x: 1, y: 2 }));
    expectRateLimited(await api.postRaw('/api/sessions', '{'));
  });

  it('refused writes change nothing', async () => {
    const api = client();
    const stats = (await api.get('/api/sessions/stats')).json;
    expect(stats.startedCount).toBe(1);
    expect(stats.activeCount).toBe(1);
    expect(stats.endedCount).toBe(0);
    expect((await api.get('/api/high-scores')).json.scores).toStrictEqual([]);
  });

  it('never limits GETs, /health, or POSTs to paths that are not write endpoints', async () => {
    const api = client();
    for (let i = 0; i < 3; i++) {
      for (const p of ['/api/sessions/stats', '/api/high-scores', '/api/notices/active', '/api/system/stats', '/health']) {
        expectJson(await api.get(p), 200);
      }
    }
    expectJson(await api.post('/health'), 200);
    expectError(await api.post('/api/sessions/stats'), 404, 'Not Found');
    expectError(await api.post('/api/nope'), 404, 'Not Found');
  });

  it('gives no fresh budget for an X-Forwarded-For or X-Real-IP header', async () => {
    const api = client();
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': '203.0.113.7' }));
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': '198.51.100.1, 10.0.0.1' }));
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Real-IP': '203.0.113.8' }));
  });
});

describe('behind a trusted proxy (VIBEFIXER_TRUST_PROXY=true)', () => {
  const client = limitedServer({ VIBEFIXER_TRUST_PROXY: 'true' });

  async function spend(api: Client, headers: Record<string, string>): Promise<void> {
    for (let i = 0; i < PER_MIN; i++) expectJson(await api.post('/api/sessions', undefined, headers), 201);
  }

  it('gives each X-Forwarded-For client its own budget', async () => {
    const api = client();
    await spend(api, { 'X-Forwarded-For': '203.0.113.1' });
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': '203.0.113.1' }));
    // Another client behind the proxy is unaffected.
    await spend(api, { 'X-Forwarded-For': '203.0.113.2' });
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': '203.0.113.2' }));
  });

  it('keys on the first entry of X-Forwarded-For', async () => {
    const api = client();
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': '203.0.113.1, 10.0.0.1' }));
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': ' 203.0.113.2 ,10.0.0.9' }));
  });

  it('falls back to X-Real-IP, then to the socket address', async () => {
    const api = client();
    await spend(api, { 'X-Real-IP': '203.0.113.3' });
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Real-IP': '203.0.113.3' }));
    // A blank X-Forwarded-For does not hide X-Real-IP.
    expectRateLimited(await api.post('/api/sessions', undefined, { 'X-Forwarded-For': ' ', 'X-Real-IP': '203.0.113.3' }));
    // No header at all: the socket's own budget, still fresh.
    await spend(api, {});
    expectRateLimited(await api.post('/api/sessions'));
  });
});
