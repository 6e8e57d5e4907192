/**
 * The live admin topics over WebSocket: a player connection can never follow them (closed 4403),
 * an admin connection (its cookie sent with the upgrade) gets a snapshot and then the changes as
 * they happen, and is closed with 4401 when its admin session ends.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childServersForFile, tempDir } from './helpers/child-server.js';
import { ADMIN_PASSWORD, ADMIN_USER, adminRequest, login } from './helpers/admin.js';
import { closedWithin, packr, WsClient } from './ws.helpers.js';

const dir = tempDir('vibefixer-admin-ws-');
afterAll(() => dir.cleanup());
const start = childServersForFile({ VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'), ADMIN_USER, ADMIN_PASSWORD, VIBEFIXER_STATS_PUSH_MS: '20' });

let port: number;
let origin: string;
const clients: WsClient[] = [];
const open = async (headers: Record<string, string> = {}) => {
  const c = await WsClient.open(port, headers);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  port = (await start()).port;
  origin = `http://127.0.0.1:${port}`;
});
afterAll(() => {
  for (const c of clients) c.close();
});

describe('a player connection', () => {
  it('is closed with 4403 when it subscribes to admin:sessions', async () => {
    const player = await open();
    player.sendRaw(JSON.stringify({ id: 1, op: 'subscribe', topic: 'admin:sessions' }), false);
    expect(await closedWithin(player)).toEqual({ code: 4403, reason: 'Admin session required' });
  });

  it('is closed with 4403 for admin:logs and for any other admin: name, in msgpack too', async () => {
    const a = await open();
    a.sendRaw(JSON.stringify({ id: 1, op: 'subscribe', topic: 'admin:logs' }), false);
    expect((await closedWithin(a)).code).toBe(4403);
    const b = await open();
    b.sendRaw(packr.pack({ id: 1, op: 'subscribe', topic: 'admin:whatever' }), true);
    expect((await closedWithin(b)).code).toBe(4403);
  });

  it('is a player even with a valid cookie when the upgrade comes from another site', async () => {
    const cookie = await login(port);
    const hijack = await open({ Cookie: cookie, Origin: 'http://evil.example' });
    hijack.sendRaw(JSON.stringify({ id: 1, op: 'subscribe', topic: 'admin:logs' }), false);
    expect((await closedWithin(hijack)).code).toBe(4403);
  });

  it('still uses the public topics and ops normally', async () => {
    const player = await open();
    const answer = await player.request('subscribe', { topic: 'persisted' });
    expect(answer.ok).toBe(true);
  });
});

describe('an admin connection', () => {
  it('gets the active-session snapshot, then each new session as it is created', async () => {
    const cookie = await login(port);
    const admin = await open({ Cookie: cookie, Origin: origin });
    const ok = await admin.request('subscribe', { topic: 'admin:sessions' });
    expect(ok).toMatchObject({ ok: true, topic: 'admin:sessions' });
    const snapshot = await admin.waitPush((p) => p.topic === 'admin:sessions' && p.data.snapshot === true);
    expect(Array.isArray(snapshot.data.sessions)).toBe(true);
    const created = await adminRequest(port, 'POST', '/api/sessions', { body: {} });
    const id = created.json.sessionId;
    const push = await admin.waitPush((p) => p.topic === 'admin:sessions' && p.data.snapshot === false && p.data.sessions.some((s: any) => s.sessionId === id));
    expect(push.data.sessions.find((s: any) => s.sessionId === id)).toMatchObject({ status: 'active', score: 0, playerSpeedPercent: 100 });
    await adminRequest(port, 'POST', `/api/sessions/${id}/end`, { body: { result: 'won' } });
    await admin.waitPush((p) => p.topic === 'admin:sessions' && p.data.sessions?.some((s: any) => s.sessionId === id && s.status === 'ended'));
  });

  it('gets the log tail: the newest rows, then each new row as it is written', async () => {
    const cookie = await login(port);
    const admin = await open({ Cookie: cookie });
    expect((await admin.request('subscribe', { topic: 'admin:logs' })).ok).toBe(true);
    const snapshot = await admin.waitPush((p) => p.topic === 'admin:logs' && p.data.snapshot === true);
    expect(snapshot.data.logs[0]).toMatchObject({ eventType: 'admin_session_created' });
    await adminRequest(port, 'PUT', '/api/admin/game-settings', { cookie, body: { playerSpeedPercent: 77 } });
    const push = await admin.waitPush((p) => p.topic === 'admin:logs' && p.data.snapshot === false && p.data.logs.some((l: any) => l.eventType === 'admin_setting_updated'));
    expect(push.data.logs.find((l: any) => l.eventType === 'admin_setting_updated').details).toMatchObject({ to: 77 });
    expect(JSON.stringify(admin.frames)).not.toContain(cookie.split('=')[1]);
  });

  it('answers an unknown admin topic with 400 Unknown topic', async () => {
    const admin = await open({ Cookie: await login(port) });
    const answer = await admin.request('subscribe', { topic: 'admin:nope' });
    expect(answer).toMatchObject({ ok: false, error: { status: 400, message: 'Unknown topic' } });
  });

  it('is closed with 4401 when its admin session is logged out', async () => {
    const cookie = await login(port);
    const admin = await open({ Cookie: cookie });
    expect((await admin.request('subscribe', { topic: 'admin:logs' })).ok).toBe(true);
    await adminRequest(port, 'POST', '/api/admin/logout', { cookie });
    expect(await closedWithin(admin)).toEqual({ code: 4401, reason: 'Admin session ended' });
  });
});
