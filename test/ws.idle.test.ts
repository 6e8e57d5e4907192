/**
 * Idle WebSocket connections: a client that answers the server's pings stays connected however
 * long it is silent; one that hears nothing (a stuck or dead peer) is closed with 4408 once
 * VIBEFIXER_WS_IDLE_TIMEOUT_S has passed.
 */
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { closedWithin, WsClient } from './ws.helpers.js';

const tmp = tempDir();
let server: ChildServer;
beforeAll(async () => {
  server = await startChild({ VIBEFIXER_DB_PATH: join(tmp.dir, 'db.sqlite'), VIBEFIXER_WS_IDLE_TIMEOUT_S: '8' });
});
afterAll(async () => {
  await server.stop();
  tmp.cleanup();
});

describe('WebSocket idle timeout', () => {
  it('keeps a silent client that answers pings, and closes one that hears nothing with 4408', { timeout: 30_000 }, async () => {
    const live = await WsClient.open(server.port);
    const stuck = await WsClient.open(server.port);
    // A stuck peer: its socket is not read, so it neither sees the pings nor answers them.
    const raw = (stuck.ws as unknown as { _socket: Socket })._socket;
    raw.pause();
    await new Promise((r) => setTimeout(r, 13_500)); // timeout 8 s + one check tick (2 s) + margin
    raw.resume();
    expect(await closedWithin(stuck, 5_000)).toMatchObject({ code: 4408, reason: 'Idle timeout' });
    expect(live.ws.readyState).toBe(live.ws.OPEN);
    const answer = await live.request('system.stats');
    expect(answer.ok).toBe(true);
    live.ws.close();
  });
});
