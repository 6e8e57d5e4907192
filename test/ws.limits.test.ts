/**
 * The bounds of the WebSocket transport against the built server in its own process: frame size,
 * slow readers (bounded buffers), the write rate limit shared with HTTP, the connection limit,
 * and the 4503 close at shutdown.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { Client } from './helpers/http.js';
import { closedWithin, gauge, WsClient } from './ws.helpers.js';

const BACKPRESSURE_BYTES = 1_048_576;
const PAYLOAD_BYTES = 4_096;

const dir = tempDir('vibefixer-ws-limits-');
let bounded: ChildServer;
let limited: ChildServer;
const clients: WsClient[] = [];

async function open(server: ChildServer, headers?: Record<string, string>): Promise<WsClient> {
  const c = await WsClient.open(server.port, headers);
  clients.push(c);
  return c;
}

async function waitGauge(server: ChildServer, name: string, value: number, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while ((await gauge(server.url, name)) !== value) {
    if (Date.now() > until) throw new Error(`${name} did not reach ${value}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  [bounded, limited] = await Promise.all([
    startChild({
      VIBEFIXER_DB_PATH: join(dir.dir, 'bounded.sqlite'),
      VIBEFIXER_RATE_LIMIT_PER_MIN: '0',
      VIBEFIXER_WS_MAX_BACKPRESSURE_BYTES: String(BACKPRESSURE_BYTES),
      VIBEFIXER_WS_MAX_PAYLOAD_BYTES: String(PAYLOAD_BYTES),
    }),
    startChild({
      VIBEFIXER_DB_PATH: join(dir.dir, 'limited.sqlite'),
      VIBEFIXER_RATE_LIMIT_PER_MIN: '4',
      VIBEFIXER_TRUST_PROXY: 'true',
      VIBEFIXER_WS_MAX_CONNECTIONS: '3',
    }),
  ]);
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await Promise.all([bounded?.stop(), limited?.stop()]);
  dir.cleanup();
});

describe('frame size', () => {
  it('answers a frame of exactly VIBEFIXER_WS_MAX_PAYLOAD_BYTES and drops the connection on a larger one (1006)', async () => {
    const c = await open(bounded);
    const base = JSON.stringify({ id: 'big', op: 'stats.get', pad: '' });
    const exact = JSON.stringify({ id: 'big', op: 'stats.get', pad: 'x'.repeat(PAYLOAD_BYTES - base.length) });
    expect(Buffer.byteLength(exact)).toBe(PAYLOAD_BYTES);
    c.sendRaw(exact, false);
    await c.waitFrames(1);
    expect(c.frames[0].frame).toMatchObject({ id: 'big', ok: true });
    c.sendRaw(exact + ' ', false);
    expect((await closedWithin(c)).code).toBe(1006);
    expect((await fetch(`${bounded.url}/health`)).status).toBe(200);
  });
});

describe('slow readers', () => {
  it('closes a reader that stops reading once its buffer passes the bound, while another client keeps receiving', async () => {
    await waitGauge(bounded, 'vibefixer_ws_connections', 0);
    const fast = await open(bounded);
    const sessionId = (await fast.request('session.create')).sessionId as string;
    const topic = `session:${sessionId}`;
    await fast.request('subscribe', { topic });
    const slow = await open(bounded);
    await slow.request('subscribe', { topic });
    await slow.request('subscribe', { topic: 'persisted' }, true);
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    // Every spawn pushes the whole (growing) session view to both readers; the paused one's
    // kernel buffers fill first, then its uWS buffer, until it passes the bound.
    let spawns = 0;
    let connections = 2;
    let maxBuffered = 0;
    const started = Date.now();
    const sampler = (async () => {
      while (connections === 2 && Date.now() - started < 25_000) {
        maxBuffered = Math.max(maxBuffered, await gauge(bounded.url, 'vibefixer_ws_buffered_bytes'));
      }
    })();
    while (connections === 2 && spawns < 1_500 && Date.now() - started < 25_000) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => fast.request('session.spawn', { sessionId, x: 200 + i, y: 218 })));
      spawns += 10;
      connections = await gauge(bounded.url, 'vibefixer_ws_connections');
    }
    await sampler;
    expect(connections).toBe(1);
    // The paused reader was seen holding a backlog on the server before it was closed.
    expect(maxBuffered).toBeGreaterThan(0);
    // uWS buffers nothing more for a socket past the bound: at most the bound plus one frame (the
    // slow reader), plus at most a frame in flight for the fast one.
    const largestFrame = Math.max(...fast.frames.map((f) => JSON.stringify(f.frame).length)) + 16;
    expect(maxBuffered).toBeLessThanOrEqual(BACKPRESSURE_BYTES + 2 * largestFrame);

    const last = await fast.request('session.spawn', { sessionId, x: 1, y: 218 });
    const push = await fast.waitPush((p) => p.data.artifacts.length === spawns + 1, 10_000);
    expect(push.data.artifacts.at(-1)).toStrictEqual(last.artifact);

    // The client learns of the dropped connection once it reads again: no close frame (1006).
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await closedWithin(slow, 10_000)).code).toBe(1006);
  });
});

describe('answers owed', () => {
  it('closes with 4429 a client that has more than 1024 answers outstanding, and runs nothing after the 1025th frame', async () => {
    const c = await open(bounded);
    const before = (await (await fetch(`${bounded.url}/api/sessions/stats`)).json()).startedCount as number;
    // 1,100 masked frames in one TCP write: uWS reads them in one go, so no commit (and no durable
    // answer) can happen in between.
    // ws's frame encoder (exported at runtime, not in @types/ws).
    const { Sender } = wsModule as unknown as { Sender: { frame(d: Buffer, o: object): Buffer[] } };
    const frame = (text: string): Buffer[] =>
      Sender.frame(Buffer.from(text), {
        fin: true, rsv1: false, opcode: 1, mask: true, readOnly: false,
      });
    const burst = Buffer.concat(Array.from({ length: 1_100 }, () => frame('{"op":"session.create"}')).flat());
    (c.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(burst);
    expect(await closedWithin(c)).toStrictEqual({ code: 4429, reason: 'Too many requests in flight' });
    const after = (await (await fetch(`${bounded.url}/api/sessions/stats`)).json()).startedCount as number;
    expect(after - before).toBe(1_024);
  });
});

describe('admission', () => {
  it('shares one write budget per client with HTTP, keyed by X-Forwarded-For when the proxy is trusted', async () => {
    const one = { 'x-forwarded-for': '10.0.0.1' };
    const http = new Client(limited.url);
    const a = await open(limited, one);
    expect((await http.post('/api/sessions', undefined, one)).status).toBe(201);
    expect((await http.post('/api/sessions', undefined, one)).status).toBe(201);
    expect((await a.request('session.create')).ok).toBe(true);
    expect((await a.request('session.create', {}, true)).ok).toBe(true);
    const refused = await a.request('session.create');
    const viaHttp = await http.post('/api/sessions', undefined, one);
    expect(viaHttp.status).toBe(429);
    expect(refused).toMatchObject({ ok: false, error: { status: 429, message: viaHttp.json.error } });
    expect(Number.isInteger(refused.error.retryAfterS) && refused.error.retryAfterS >= 1).toBe(true);
    // Reads are not limited; another client has its own budget.
    expect((await a.request('stats.get')).ok).toBe(true);
    const b = await open(limited, { 'x-forwarded-for': '10.0.0.2' });
    expect((await b.request('session.create')).ok).toBe(true);
    a.close();
    b.close();
  });

  it('refuses the upgrade with 503 past VIBEFIXER_WS_MAX_CONNECTIONS, and frees the slot on close', async () => {
    await waitGauge(limited, 'vibefixer_ws_connections', 0);
    const open3 = [await open(limited), await open(limited), await open(limited)];
    await expect(WsClient.open(limited.port)).rejects.toMatchObject({ status: 503 });
    open3[0].close();
    await waitGauge(limited, 'vibefixer_ws_connections', 2);
    const again = await open(limited);
    expect((await again.request('notices.active')).ok).toBe(true);
    for (const c of [...open3, again]) c.close();
    await waitGauge(limited, 'vibefixer_ws_connections', 0);
  });
});

describe('shutdown', () => {
  it('closes every open socket with 4503 after the final flush, and exits 0', async () => {
    const text = await open(limited);
    const binary = await open(limited);
    await text.request('subscribe', { topic: 'stats' });
    await binary.request('subscribe', { topic: 'persisted' }, true);
    const exit = limited.stop('SIGTERM');
    for (const c of [text, binary]) {
      expect(await closedWithin(c, 10_000)).toStrictEqual({ code: 4503, reason: 'Server is shutting down' });
    }
    expect((await exit).code).toBe(0);
  });
});
