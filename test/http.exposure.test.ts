/**
 * What the server tells strangers: /metrics (Node version, memory, start time) is kept behind a
 * bearer token when VIBEFIXER_METRICS_TOKEN is set (401 otherwise), the token never reaches the
 * logs, and no answer names the HTTP library (`uWebSockets: 20` is turned off).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { RawConnection, request } from './helpers/raw-http.js';

const TOKEN = 'metrics-Token_0123456789';
let open: ChildServer;
let closed: ChildServer;
const tmp = tempDir('vibefixer-exposure-');
beforeAll(async () => {
  [open, closed] = await Promise.all([
    startChild({ VIBEFIXER_DB_PATH: join(tmp.dir, 'open.sqlite') }),
    startChild({ VIBEFIXER_DB_PATH: join(tmp.dir, 'closed.sqlite'), VIBEFIXER_METRICS_TOKEN: TOKEN }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), closed?.stop()]);
  tmp.cleanup();
});

describe('/metrics with VIBEFIXER_METRICS_TOKEN', () => {
  it('answers 401 with a Bearer challenge without the token, and with a wrong one', async () => {
    const attempts: Array<Record<string, string>> = [{}, { Authorization: `Bearer ${TOKEN}x` }, { Authorization: `Basic ${TOKEN}` }, { Authorization: TOKEN }];
    for (const headers of attempts) {
      const res = await fetch(`${closed.url}/metrics`, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.json()).toEqual({ error: 'Unauthorized' });
    }
  });

  it('answers the Prometheus text with the right token', async () => {
    const res = await fetch(`${closed.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('vibefixer_persist_queue_depth');
  });

  it('keeps /health and the API open, and answers /metrics to anyone when no token is set (the default)', async () => {
    expect((await fetch(`${closed.url}/health`)).status).toBe(200);
    expect((await fetch(`${closed.url}/api/sessions/stats`)).status).toBe(200);
    expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
  });

  it('never writes the token to the logs', () => {
    expect(JSON.stringify(closed.logs)).not.toContain(TOKEN);
    expect(closed.logs.find((l) => l.event === 'config')?.config).toMatchObject({ metricsToken: '[REDACTED]' });
  });
});

describe('no library banner', () => {
  it('sends no uWebSockets header on any answer: API, errors, health, metrics, 401', async () => {
    const c = new RawConnection(closed.port);
    try {
      await c.write(
        request('GET', '/health'),
        request('GET', '/api/sessions/stats'),
        request('POST', '/api/high-scores', '{}'),
        request('GET', '/nope'),
        request('GET', '/metrics'),
        request('GET', '/metrics', undefined, { Authorization: `Bearer ${TOKEN}` }),
      );
      const answers = await c.waitFor(6);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 400, 404, 401, 200]);
      for (const a of answers) expect(Object.keys(a.headers)).not.toContain('uwebsockets');
    } finally {
      c.destroy();
    }
  });

  it('sends no uWebSockets header on the WebSocket upgrade', async () => {
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${open.port}/ws`);
      ws.once('upgrade', (res) => resolve(res.headers));
      ws.once('open', () => ws.close());
      ws.once('error', reject);
    });
    expect(headers.upgrade).toBe('websocket');
    expect(Object.keys(headers)).not.toContain('uwebsockets');
  });
});
