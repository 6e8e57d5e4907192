/**
 * Safe retries (README "Retrying writes"): a write repeated with the same Idempotency-Key (HTTP)
 * or idempotencyKey (WebSocket) gets the first answer and changes nothing — also after a kill -9
 * and a restart, because the key is committed in the same batch as the write; a key reused with
 * a different request is refused with 422. Real child servers, port 0, own temporary directory.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { Client } from './helpers/http.js';
import { WsClient } from './ws.helpers.js';

const KEY = 'Idempotency-Key';

async function stats(api: Client): Promise<Record<string, number>> {
  return (await api.get('/api/sessions/stats')).json;
}

describe('idempotency keys', () => {
  const tmp = tempDir('vibefixer-idem-');
  afterAll(() => tmp.cleanup());
  const env = (name: string, extra: Record<string, string> = {}) => ({
    VIBEFIXER_DB_PATH: join(tmp.dir, `${name}.sqlite`),
    VIBEFIXER_RATE_LIMIT_PER_MIN: '0',
    ...extra,
  });

  it('answers a repeated create with the first answer and creates one session, however often it is sent', async () => {
    const server = await startChild(env('repeat'));
    try {
      const api = new Client(server.url);
      const first = await api.post('/api/sessions', undefined, { [KEY]: 'create-1' });
      expect(first.status).toBe(201);
      const repeats = await Promise.all([1, 2, 3].map(() => api.post('/api/sessions', undefined, { [KEY]: 'create-1' })));
      for (const again of repeats) {
        expect(again.status).toBe(201);
        expect(again.json).toEqual(first.json);
      }
      expect((await stats(api)).startedCount).toBe(1);

      const sessionId = first.json.sessionId as string;
      const spawn = await api.post(`/api/sessions/${sessionId}/spawn`, { x: 300, y: 218 }, { [KEY]: 'spawn-1' });
      const spawnAgain = await api.post(`/api/sessions/${sessionId}/spawn`, { y: 218, x: 300 }, { [KEY]: 'spawn-1' });
      expect(spawnAgain.json).toEqual(spawn.json);
      const score = await api.post('/api/high-scores', { playerTag: 'ACE', result: 'won' }, { [KEY]: 'score-1' });
      await api.post('/api/high-scores', { playerTag: 'ACE', result: 'won' }, { [KEY]: 'score-1' });
      expect((await api.get('/api/high-scores')).json.scores).toEqual([score.json.score]);
    } finally {
      await server.stop();
    }
  });

  it('refuses a key reused with a different request (422) and a malformed key (400), changing nothing', async () => {
    const server = await startChild(env('refuse'));
    try {
      const api = new Client(server.url);
      const first = await api.post('/api/high-scores', { playerTag: 'ONE', result: 'won' }, { [KEY]: 'k' });
      expect(first.status).toBe(201);
      const other = await api.post('/api/high-scores', { playerTag: 'TWO', result: 'won' }, { [KEY]: 'k' });
      expect(other.status).toBe(422);
      expect(other.json).toEqual({ error: 'Idempotency-Key was already used with a different request' });
      const bad = await api.post('/api/high-scores', { playerTag: 'THREE', result: 'won' }, { [KEY]: 'has space' });
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual({ error: 'Invalid Idempotency-Key' });
      expect((await api.get('/api/high-scores')).json.scores.map((s: { playerTag: string }) => s.playerTag)).toEqual(['ONE']);
    } finally {
      await server.stop();
    }
  });

  it('keeps keys per client: the same key from two clients is two writes', async () => {
    const server = await startChild(env('clients', { VIBEFIXER_TRUST_PROXY: 'true' }));
    try {
      const api = new Client(server.url);
      const a = await api.post('/api/sessions', undefined, { [KEY]: 'same', 'X-Forwarded-For': '198.51.100.1' });
      const b = await api.post('/api/sessions', undefined, { [KEY]: 'same', 'X-Forwarded-For': '198.51.100.2' });
      expect(a.json.sessionId).not.toBe(b.json.sessionId);
      expect((await stats(api)).startedCount).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it('still answers a retry with the first answer after a kill -9 and a restart (the key is committed with the write)', async () => {
    const settings = env('crash');
    let server: ChildServer = await startChild(settings);
    const api = () => new Client(server.url);
    try {
      const first = await api().post('/api/sessions', undefined, { [KEY]: 'before-crash' });
      expect(first.status).toBe(201); // durable (the default ack): committed before this answer
      server.proc.kill('SIGKILL');
      await server.exited;
      server = await startChild(settings);
      const retry = await api().post('/api/sessions', undefined, { [KEY]: 'before-crash' });
      expect(retry.status).toBe(201);
      expect(retry.json).toEqual(first.json);
      expect((await stats(api())).startedCount).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it('treats the WebSocket idempotencyKey like the HTTP header', async () => {
    const server = await startChild(env('ws'));
    const ws = await WsClient.open(server.port);
    try {
      const first = await ws.request('highScores.add', { playerTag: 'WS', result: 'lost', idempotencyKey: 'ws-1' });
      expect(first.ok).toBe(true);
      const again = await ws.request('highScores.add', { playerTag: 'WS', result: 'lost', idempotencyKey: 'ws-1' }, true);
      expect({ ...again, id: first.id }).toEqual(first);
      const other = await ws.request('highScores.add', { playerTag: 'NO', result: 'lost', idempotencyKey: 'ws-1' });
      expect(other).toMatchObject({ ok: false, error: { status: 422 } });
      expect((await new Client(server.url).get('/api/high-scores')).json.scores).toHaveLength(1);
    } finally {
      ws.close();
      await server.stop();
    }
  });
});
