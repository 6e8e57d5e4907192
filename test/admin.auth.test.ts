/**
 * Admin authentication edges against real child servers: the login lockout per client (with
 * VIBEFIXER_TRUST_PROXY, so each test is its own client), the 503 of an unconfigured server, and a
 * production server with a hashed password (Secure cookie). Session expiry after 30 minutes is
 * proved in test/admin.unit.test.ts (no test waits 30 minutes).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScryptHash } from '../src/admin/password.js';
import { type ChildServer, childServersForFile, tempDir } from './helpers/child-server.js';
import { ADMIN_PASSWORD, ADMIN_USER, adminRequest, cookiePair, expectAdmin, expectAdminError } from './helpers/admin.js';

const dir = tempDir('vibefixer-admin-auth-');
afterAll(() => dir.cleanup());

describe('login lockout per client (5 failures in 10 minutes → 15 minutes), and rate limits in the log', () => {
  const start = childServersForFile({
    VIBEFIXER_DB_PATH: join(dir.dir, 'lockout.sqlite'),
    ADMIN_USER,
    ADMIN_PASSWORD,
    VIBEFIXER_TRUST_PROXY: 'true',
    VIBEFIXER_RATE_LIMIT_PER_MIN: '3',
  });
  let port: number;
  beforeAll(async () => {
    port = (await start()).port;
  });
  const attempt = (client: string, password: string) =>
    adminRequest(port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password }, headers: { 'X-Forwarded-For': client } });

  it('answers 401 five times, then 429 with Retry-After even for the right password', async () => {
    for (let i = 1; i <= 5; i++) expectAdminError(await attempt('203.0.113.1', `wrong${i}`), 401, 'Unauthorized');
    const blocked = await attempt('203.0.113.1', ADMIN_PASSWORD);
    expectAdminError(blocked, 429, 'Too many attempts, try later');
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  });

  it('keeps validating bodies during a block, and does not block other clients', async () => {
    for (let i = 1; i <= 5; i++) await attempt('203.0.113.2', 'wrong');
    expectAdminError(await adminRequest(port, 'POST', '/api/admin/login', { raw: '', headers: { 'X-Forwarded-For': '203.0.113.2' } }), 400, 'Body required');
    expectAdmin(await attempt('203.0.113.3', ADMIN_PASSWORD), 200);
  });

  it('clears the failure count on a successful login', async () => {
    for (let i = 1; i <= 4; i++) expectAdminError(await attempt('203.0.113.4', 'wrong'), 401, 'Unauthorized');
    expectAdmin(await attempt('203.0.113.4', ADMIN_PASSWORD), 200);
    for (let i = 1; i <= 4; i++) expectAdminError(await attempt('203.0.113.4', 'wrong'), 401, 'Unauthorized');
    expectAdmin(await attempt('203.0.113.4', ADMIN_PASSWORD), 200);
  });

  it('logs the failures (low) and the block (medium) with the client, and raises one security_alert', async () => {
    const cookie = cookiePair(await attempt('203.0.113.5', ADMIN_PASSWORD));
    const logs = (await adminRequest(port, 'GET', '/api/admin/logs?q=203.0.113.1', { cookie })).json.logs;
    const types = logs.map((l: any) => `${l.eventType}/${l.severity}`);
    expect(types.filter((t: string) => t === 'admin_auth_failed/low')).toHaveLength(4);
    expect(types.filter((t: string) => t === 'admin_auth_blocked/medium')).toHaveLength(1);
    expect(logs.find((l: any) => l.eventType === 'admin_auth_blocked').details).toMatchObject({ ip: '203.0.113.1', blockedUntil: expect.any(Number) });
    const alerts = (await adminRequest(port, 'GET', '/api/admin/logs?q=security_alert', { cookie })).json.logs;
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', message: 'Security alert: failure_threshold' });
    expect(alerts[0].details).toMatchObject({ alertType: 'failure_threshold', threshold: 10 });
  });

  it('writes one rate_limit row (medium) per client and window, and never rate-limits admin calls', async () => {
    const client = { 'X-Forwarded-For': '198.51.100.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await adminRequest(port, 'POST', '/api/sessions', { body: {}, headers: client })).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const cookie = cookiePair(await adminRequest(port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: ADMIN_PASSWORD }, headers: client }));
    for (let i = 0; i < 5; i++) expectAdmin(await adminRequest(port, 'GET', '/api/admin/game-settings', { cookie, headers: client }), 200);
    const rows = (await adminRequest(port, 'GET', '/api/admin/logs?q=rate_limit', { cookie })).json.logs.filter((l: any) => l.details.ip === '198.51.100.7');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ category: 'security', severity: 'medium', eventType: 'rate_limit' });
    expect(rows[0].details).toMatchObject({ op: 'session.create', retryAfterS: expect.any(Number) });
  });
});

describe('admin not configured', () => {
  const start = childServersForFile({ VIBEFIXER_DB_PATH: join(dir.dir, 'off.sqlite'), NODE_ENV: 'production', ADMIN_USER: '', ADMIN_PASSWORD: '' });
  let port: number;
  beforeAll(async () => {
    port = (await start()).port;
  });

  it('answers 503 Admin access not configured to a well-formed login, but 400 to a bad body', async () => {
    expectAdminError(await adminRequest(port, 'POST', '/api/admin/login', { body: { username: 'a', password: 'b' } }), 503, 'Admin access not configured');
    expectAdminError(await adminRequest(port, 'POST', '/api/admin/login', { raw: '' }), 400, 'Body required');
    expectAdminError(await adminRequest(port, 'POST', '/api/admin/login', { body: {} }), 400, 'Username and password are required');
  });

  it('answers 503 to logout and to every guarded path and method, with no cookie change', async () => {
    const logout = await adminRequest(port, 'POST', '/api/admin/logout');
    expectAdminError(logout, 503, 'Admin access not configured');
    expect(logout.headers['set-cookie']).toBeUndefined();
    for (const [method, path] of [['GET', '/api/admin/logs?limit=1'], ['PUT', '/api/admin/notices'], ['GET', '/api/admin/sessions/active'], ['DELETE', '/api/admin/high-scores/1'], ['POST', '/api/admin/game-settings']]) {
      expectAdminError(await adminRequest(port, method, path), 503, 'Admin access not configured');
    }
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/nothing'), 404, 'Not Found');
  });
});

describe('production with a hashed password', () => {
  const hash = makeScryptHash(ADMIN_PASSWORD, 1024, 8, 1);
  const start = childServersForFile({ VIBEFIXER_DB_PATH: join(dir.dir, 'prod.sqlite'), NODE_ENV: 'production', ADMIN_USER, ADMIN_PASSWORD_HASH: hash });
  let server: ChildServer;
  beforeAll(async () => {
    server = await start();
  });

  it('logs in with the password of the hash and sets a Secure cookie', async () => {
    const reply = await adminRequest(server.port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: ADMIN_PASSWORD } });
    expectAdmin(reply, 200);
    expect(reply.headers['set-cookie']![0]).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Max-Age=1800; Expires=[^;]+ GMT; Secure$/);
    const logout = await adminRequest(server.port, 'POST', '/api/admin/logout', { cookie: cookiePair(reply) });
    expect(logout.headers['set-cookie']).toEqual(['vibefixer_admin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure']);
  });

  it('refuses a wrong password against the hash', async () => {
    expectAdminError(await adminRequest(server.port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: 'nope' } }), 401, 'Unauthorized');
  });

  it('logs neither the hash nor the password, and says admin is on', async () => {
    const text = JSON.stringify(server.logs);
    expect(text).not.toContain(hash.split('$')[5]);
    expect(text).not.toContain(ADMIN_PASSWORD);
    expect(server.logs.find((l) => l.event === 'admin')).toMatchObject({ configured: true, passwordHashed: true, secureCookie: true });
  });
});
