/**
 * The admin console over real HTTP (CONTRACT-ADMIN §1–3 and its decisions): login and logout, the
 * session guard, every endpoint's statuses, strings and fields, the Origin check, Cache-Control, and
 * the audit rows its changes write. One child server with admin configured; the lockout, the
 * unconfigured server and production cookies are in test/admin.auth.test.ts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, childServersForFile, tempDir } from './helpers/child-server.js';
import { ADMIN_PASSWORD, ADMIN_USER, adminRequest, type AdminSend, cookiePair, expectAdmin, expectAdminError, login } from './helpers/admin.js';
import { ISO_MS } from './helpers/http.js';

const dir = tempDir('vibefixer-admin-http-');
afterAll(() => dir.cleanup());
const start = childServersForFile({ VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'), ADMIN_USER, ADMIN_PASSWORD });

let server: ChildServer;
let port: number;
let cookie: string;
let origin: string;

const as = (method: string, path: string, send: AdminSend = {}) => adminRequest(port, method, path, { cookie, ...send });

beforeAll(async () => {
  server = await start();
  port = server.port;
  origin = `http://127.0.0.1:${port}`;
  cookie = await login(port);
});

describe('login', () => {
  const post = (send: AdminSend) => adminRequest(port, 'POST', '/api/admin/login', send);

  it('checks the body in the original order and answers its strings', async () => {
    expectAdminError(await post({ raw: '' }), 400, 'Body required');
    expectAdminError(await post({ raw: 'null' }), 400, 'Body required');
    expectAdminError(await post({ raw: '{nope' }), 400, 'Invalid JSON');
    expectAdminError(await post({ raw: 'x'.repeat(102_401) }), 413, 'Payload too large');
    expectAdminError(await post({ body: [] }), 400, 'Username and password are required');
    expectAdminError(await post({ body: { username: 'admin' } }), 400, 'Username and password are required');
    expectAdminError(await post({ body: { username: '   ', password: 'x' } }), 400, 'Username and password are required');
    expectAdminError(await post({ body: { username: 'u'.repeat(65), password: 'x' } }), 400, 'Username and password are required');
  });

  it('logs in with trimmed credentials: 200 {expiresAt} 30 minutes ahead and the exact cookie', async () => {
    const before = Date.now();
    const reply = await post({ body: { username: '  admin ', password: ' s3cret  ' } });
    expectAdmin(reply, 200);
    expect(Object.keys(reply.json)).toEqual(['expiresAt']);
    expect(reply.json.expiresAt).toMatch(ISO_MS);
    const expiresAtMs = Date.parse(reply.json.expiresAt);
    expect(expiresAtMs - before).toBeGreaterThanOrEqual(30 * 60_000);
    expect(expiresAtMs - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    const set = reply.headers['set-cookie'];
    expect(set).toHaveLength(1);
    expect(set![0]).toBe(
      `${cookiePair(reply)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=1800; Expires=${new Date(expiresAtMs).toUTCString()}`,
    );
    expect(cookiePair(reply)).toMatch(/^vibefixer_admin_session=admin_[0-9a-f]{32}$/);
  });

  it('answers a wrong password or user with 401 Unauthorized', async () => {
    expectAdminError(await post({ body: { username: ADMIN_USER, password: 'wrong' }, headers: { 'X-Forwarded-For': '10.9.9.9' } }), 401, 'Unauthorized');
    expectAdminError(await post({ body: { username: 'Admin', password: ADMIN_PASSWORD } }), 401, 'Unauthorized');
  });

  it('answers other methods on the login and logout paths with 404 Not Found', async () => {
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/login'), 404, 'Not Found');
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/logout'), 404, 'Not Found');
  });
});

describe('the session guard', () => {
  it('answers 401 without a cookie, with an unknown one, and with an empty one', async () => {
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/logs?limit=1'), 401, 'Unauthorized');
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/logs?limit=1', { cookie: 'vibefixer_admin_session=admin_00000000000000000000000000000000' }), 401, 'Unauthorized');
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/logs?limit=1', { cookie: 'vibefixer_admin_session=' }), 401, 'Unauthorized');
  });

  it('answers 401, not 500, for an undecodable cookie, and ignores a stray undecodable one (decision Q8)', async () => {
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/logs?limit=1', { cookie: 'vibefixer_admin_session=%E0%A4%A' }), 401, 'Unauthorized');
    expectAdmin(await as('GET', '/api/admin/logs?limit=1', { cookie: `other=%E0%A4%A; ${cookie}` }), 200);
  });

  it('takes the last value when the cookie name appears twice', async () => {
    expectAdmin(await as('GET', '/api/admin/logs?limit=1', { cookie: `vibefixer_admin_session=admin_x; ${cookie}` }), 200);
    expectAdminError(await as('GET', '/api/admin/logs?limit=1', { cookie: `${cookie}; vibefixer_admin_session=admin_x` }), 401, 'Unauthorized');
  });

  it('checks the session before the body is read: an oversized unauthenticated body gets 401', async () => {
    expectAdminError(await adminRequest(port, 'POST', '/api/admin/notices', { raw: 'x'.repeat(200_000) }), 401, 'Unauthorized');
  });

  it('answers unknown /api/admin paths with 404 without an auth check, and guarded ones with 401 first', async () => {
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/nothing'), 404, 'Not Found');
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/sessions'), 404, 'Not Found');
    expectAdminError(await adminRequest(port, 'PUT', '/api/admin/notices'), 401, 'Unauthorized');
    expectAdminError(await as('PUT', '/api/admin/notices'), 404, 'Not Found');
  });
});

describe('the Origin check of admin writes (decision Q13)', () => {
  const notice = { message: 'origin test', validTo: '2099-01-01T00:00:00.000Z' };

  it('refuses a write from another site or an opaque origin with 403', async () => {
    expectAdminError(await as('POST', '/api/admin/notices', { body: notice, origin: 'http://evil.example' }), 403, 'Cross-origin request refused');
    expectAdminError(await as('POST', '/api/admin/notices', { body: notice, origin: 'null' }), 403, 'Cross-origin request refused');
    expectAdminError(await as('PUT', '/api/admin/game-settings', { body: { playerSpeedPercent: 90 }, origin: `http://127.0.0.1:${port + 1}` }), 403, 'Cross-origin request refused');
    expectAdminError(await adminRequest(port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: ADMIN_PASSWORD }, origin: 'https://evil.example' }), 403, 'Cross-origin request refused');
    const list = await as('GET', '/api/admin/notices');
    expect(list.json.notices.some((n: any) => n.message === 'origin test')).toBe(false);
  });

  it('lets same-origin writes, writes without Origin and reads from anywhere through', async () => {
    expectAdmin(await as('POST', '/api/admin/notices', { body: notice, origin }), 201);
    expectAdmin(await as('POST', '/api/admin/notices', { body: notice }), 201);
    expectAdmin(await as('GET', '/api/admin/notices', { origin: 'http://evil.example' }), 200);
  });

  it('writes an admin_origin_refused row', async () => {
    const reply = await as('GET', '/api/admin/logs?q=admin_origin_refused');
    expect(reply.json.logs.length).toBeGreaterThanOrEqual(4);
    expect(reply.json.logs[0]).toMatchObject({ category: 'security', severity: 'medium', eventType: 'admin_origin_refused' });
  });
});

describe('logs', () => {
  it('lists newest first with the range and the limit used', async () => {
    const reply = await as('GET', '/api/admin/logs');
    expectAdmin(reply, 200);
    expect(Object.keys(reply.json)).toEqual(['logs', 'range', 'limit']);
    expect(reply.json.limit).toBe(200);
    expect(reply.json.range.start).toBe('1970-01-01T00:00:00.000Z');
    expect(reply.json.range.end).toMatch(ISO_MS);
    const times = reply.json.logs.map((l: any) => Date.parse(l.timestamp));
    expect(times).toEqual([...times].sort((a: number, b: number) => b - a));
    for (const entry of reply.json.logs) {
      expect(Object.keys(entry)).toEqual(['timestamp', 'category', 'severity', 'eventType', 'message', 'details']);
      expect(entry.details).toMatchObject({ ip: expect.any(String), path: expect.any(String), method: expect.any(String) });
    }
    expect(reply.json.logs.some((l: any) => l.eventType === 'admin_session_created' && l.message === 'Security event: admin_session_created')).toBe(true);
    expect(reply.json.logs.some((l: any) => l.eventType === 'admin_auth_failed' && l.severity === 'low')).toBe(true);
  });

  it('clamps and floors the limit (decision Q9)', async () => {
    const limitOf = async (q: string) => (await as('GET', `/api/admin/logs?limit=${q}`)).json.limit;
    expect(await limitOf('')).toBe(1);
    expect(await limitOf('-4')).toBe(1);
    expect(await limitOf('1e2')).toBe(100);
    expect(await limitOf('0x10')).toBe(16);
    expect(await limitOf('99999')).toBe(500);
    expect(await limitOf('abc')).toBe(200);
    expect(await limitOf('2.5')).toBe(2);
    expect((await as('GET', '/api/admin/logs?limit=2')).json.logs).toHaveLength(2);
  });

  it('answers 400 for a bad start, end, category or severity, in that order', async () => {
    expectAdminError(await as('GET', '/api/admin/logs?start=foo&category=x'), 400, 'Invalid start');
    expectAdminError(await as('GET', '/api/admin/logs?end=foo&category=x'), 400, 'Invalid end');
    expectAdminError(await as('GET', '/api/admin/logs?category=x&severity=y'), 400, 'Invalid category');
    expectAdminError(await as('GET', '/api/admin/logs?severity=y'), 400, 'Invalid severity');
  });

  it('filters by range, category, severity and text', async () => {
    const future = await as('GET', '/api/admin/logs?start=2999-01-01T00:00:00Z');
    expect(future.json.logs).toEqual([]);
    const low = await as('GET', '/api/admin/logs?severity=LOW&category=Security');
    expect(low.json.logs.length).toBeGreaterThan(0);
    expect(low.json.logs.every((l: any) => l.severity === 'low' && l.category === 'security')).toBe(true);
    const q = await as('GET', '/api/admin/logs?q=SESSION_CREATED');
    expect(q.json.logs.length).toBeGreaterThan(0);
    expect(q.json.logs.every((l: any) => l.eventType === 'admin_session_created')).toBe(true);
    expect((await as('GET', '/api/admin/logs?category=gameplay')).json.logs).toEqual([]);
  });

  it('exports every match as {logs} with the attachment header', async () => {
    const reply = await as('GET', '/api/admin/logs/export?severity=info');
    expectAdmin(reply, 200);
    expect(reply.headers['content-disposition']).toBe('attachment; filename=admin-logs.json');
    expect(Object.keys(reply.json)).toEqual(['logs']);
    expect(reply.json.logs.length).toBeGreaterThan(0);
  });

  it('answers GET and HEAD only, on the two exact paths (decision Q10)', async () => {
    expectAdminError(await as('POST', '/api/admin/logs'), 405, 'Method not allowed');
    expectAdminError(await as('DELETE', '/api/admin/logs/export'), 405, 'Method not allowed');
    expectAdminError(await as('GET', '/api/admin/logsfoo'), 404, 'Not Found');
    expectAdminError(await as('GET', '/api/admin/logs/x'), 404, 'Not Found');
    const head = await as('HEAD', '/api/admin/logs?limit=1');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers['cache-control']).toBe('no-store');
  });
});

describe('active sessions', () => {
  it('lists active sessions sorted by start with the fields the page reads', async () => {
    const create = (d: number) => adminRequest(port, 'POST', '/api/sessions', { body: { requestedDurationSeconds: d } });
    const first = (await create(60)).json.sessionId;
    const second = (await create(120)).json.sessionId;
    const reply = await as('GET', '/api/admin/sessions/active');
    expectAdmin(reply, 200);
    const ids = reply.json.sessions.map((s: any) => s.sessionId);
    expect(ids.indexOf(first)).toBeLessThan(ids.indexOf(second));
    const entry = reply.json.sessions.find((s: any) => s.sessionId === first);
    expect(Object.keys(entry)).toEqual(['sessionId', 'status', 'startedAt', 'elapsedSeconds', 'score', 'remainingArtifacts', 'playerSpeedPercent']);
    expect(entry).toMatchObject({ status: 'active', score: 0, remainingArtifacts: 0, playerSpeedPercent: expect.any(Number) });
    expect(entry.startedAt).toMatch(ISO_MS);
    const starts = reply.json.sessions.map((s: any) => Date.parse(s.startedAt));
    expect(starts).toEqual([...starts].sort((a: number, b: number) => a - b));
  });

  it('leaves out ended sessions', async () => {
    const id = (await adminRequest(port, 'POST', '/api/sessions', { body: {} })).json.sessionId;
    expect((await adminRequest(port, 'POST', `/api/sessions/${id}/end`, { body: { result: 'lost' } })).status).toBe(200);
    const reply = await as('GET', '/api/admin/sessions/active');
    expect(reply.json.sessions.some((s: any) => s.sessionId === id)).toBe(false);
  });

  it('answers other methods and sub-paths with 405', async () => {
    expectAdminError(await as('POST', '/api/admin/sessions/active'), 405, 'Method not allowed');
    expectAdminError(await as('GET', '/api/admin/sessions/active/x'), 405, 'Method not allowed');
    expectAdminError(await as('GET', '/api/admin/sessions/activeX'), 405, 'Method not allowed');
  });
});

describe('high scores', () => {
  let id: number;
  beforeAll(async () => {
    const added = await adminRequest(port, 'POST', '/api/high-scores', { body: { playerTag: 'ACE', result: 'won', remainingUnchecked: 3 } });
    expect(added.status).toBe(201);
    id = added.json.score.id;
  });

  it('lists the public list, newest first, with a limit', async () => {
    const reply = await as('GET', '/api/admin/high-scores');
    expectAdmin(reply, 200);
    expect(reply.json.scores[0]).toMatchObject({ id, playerTag: 'ACE', result: 'won', remainingUnchecked: 3 });
    expect((await as('GET', '/api/admin/high-scores?limit=')).json.scores).toHaveLength(1);
    expect((await as('GET', '/api/admin/high-scores?limit=1.5')).status).toBe(200);
  });

  it('validates a PATCH before the lookup, with the original strings', async () => {
    expectAdminError(await as('PATCH', '/api/admin/high-scores/999999', { body: { playerTag: '' } }), 400, 'playerTag is invalid');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { body: { playerTag: 'x'.repeat(41) } }), 400, 'playerTag is invalid');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { body: { playerTag: null } }), 400, 'playerTag is invalid');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { body: { result: 'draw' } }), 400, 'result must be won or lost');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { body: { remainingUnchecked: 10_000 } }), 400, 'remainingUnchecked is invalid');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { body: { remainingUnchecked: '3' } }), 400, 'remainingUnchecked is invalid');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { body: { remainingUnchecked: null } }), 400, 'No fields to update');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { raw: '' }), 400, 'No fields to update');
    expectAdminError(await as('PATCH', `/api/admin/high-scores/${id}`, { raw: '{x' }), 400, 'Invalid JSON');
    expectAdminError(await as('PATCH', '/api/admin/high-scores/999999', { body: { playerTag: 'X' } }), 404, 'Not found');
  });

  it('edits an entry (remainingUnchecked up to 9999, decision Q14) and the public list shows it', async () => {
    const reply = await as('PATCH', `/api/admin/high-scores/00${id}`, { body: { playerTag: '  edited  ', result: 'LOST', remainingUnchecked: 600.5 }, origin });
    expectAdmin(reply, 200);
    expect(reply.json.score).toMatchObject({ id, playerTag: 'edited', result: 'lost', remainingUnchecked: 600.5 });
    expect(Object.keys(reply.json.score)).toEqual(['id', 'createdAt', 'playerTag', 'result', 'remainingUnchecked']);
    const pub = await adminRequest(port, 'GET', '/api/high-scores');
    expect(pub.json.scores.find((s: any) => s.id === id)).toMatchObject({ playerTag: 'edited', result: 'lost' });
    const audit = await as('GET', '/api/admin/logs?q=admin_high_score_updated');
    expect(audit.json.logs[0].details).toMatchObject({ id, changed: { playerTag: 'edited', result: 'lost', remainingUnchecked: 600.5 } });
  });

  it('routes like the original: 404 for other paths, 405 for other methods on an id, 400 for a huge id', async () => {
    expectAdminError(await as('POST', '/api/admin/high-scores'), 404, 'Not Found');
    expectAdminError(await as('GET', '/api/admin/high-scores/abc'), 404, 'Not Found');
    expectAdminError(await as('GET', '/api/admin/high-scoresX'), 404, 'Not Found');
    expectAdminError(await as('GET', `/api/admin/high-scores/${id}`), 405, 'Method not allowed');
    expectAdminError(await as('PUT', `/api/admin/high-scores/${id}`), 405, 'Method not allowed');
    expectAdminError(await as('DELETE', `/api/admin/high-scores/${'9'.repeat(400)}`), 400, 'Invalid id');
  });

  it('deletes an entry once; the second delete is 404', async () => {
    expectAdmin(await as('DELETE', `/api/admin/high-scores/${id}`, { origin }), 200, { ok: true });
    expectAdminError(await as('DELETE', `/api/admin/high-scores/${id}`), 404, 'Not found');
    const pub = await adminRequest(port, 'GET', '/api/high-scores');
    expect(pub.json.scores.some((s: any) => s.id === id)).toBe(false);
  });
});

describe('notices', () => {
  it('validates a new notice with the original strings (and decision Q15)', async () => {
    const post = (body: unknown) => as('POST', '/api/admin/notices', { body });
    expectAdminError(await post({ validTo: '2099-01-01' }), 400, 'message is required');
    expectAdminError(await post({ message: 'x'.repeat(241), validTo: '2099-01-01' }), 400, 'message is required');
    expectAdminError(await post({ message: 'hi', validFrom: 'garbage', validTo: '2099-01-01' }), 400, 'validFrom is invalid');
    expectAdminError(await post({ message: 'hi' }), 400, 'validTo is required');
    expectAdminError(await post({ message: 'hi', validTo: 'soon' }), 400, 'validTo is required');
    expectAdminError(await post({ message: 'hi', validTo: '+010000-01-01T00:00:00.000Z' }), 400, 'validTo is required');
    expectAdminError(await post({ message: 'hi', validFrom: '2099-01-02', validTo: '2099-01-01' }), 400, 'validTo must be after validFrom');
    expectAdminError(await as('POST', '/api/admin/notices', { raw: '{' }), 400, 'Invalid JSON');
  });

  it('creates a notice that players see at once, and lists it with every field', async () => {
    const created = await as('POST', '/api/admin/notices', { body: { message: '  Maintenance tonight  ', validTo: '2099-01-01T00:00:00.000Z' }, origin });
    expectAdmin(created, 201);
    const notice = created.json.notice;
    expect(notice).toMatchObject({ title: 'A message from the basement troll', message: 'Maintenance tonight', validTo: '2099-01-01T00:00:00.000Z' });
    expect(Object.keys(notice)).toEqual(['id', 'title', 'message', 'validFrom', 'validTo', 'createdAt', 'updatedAt']);
    expect(notice.id).toMatch(/^[0-9a-f-]{36}$/);
    const active = await adminRequest(port, 'GET', '/api/notices/active');
    expect(active.json.notices.find((n: any) => n.id === notice.id)).toEqual({
      id: notice.id, title: notice.title, message: notice.message, validFrom: notice.validFrom, validTo: notice.validTo,
    });
    const list = await as('GET', '/api/admin/notices');
    expectAdmin(list, 200);
    expect(list.json.notices.find((n: any) => n.id === notice.id)).toEqual(notice);
  });

  it('keeps a future notice and an instant window out of the active list', async () => {
    const future = await as('POST', '/api/admin/notices', { body: { message: 'later', validFrom: '2098-01-01T00:00:00Z', validTo: '2099-01-01T00:00:00Z' } });
    const instant = await as('POST', '/api/admin/notices', { body: { message: 'instant', validFrom: '2020-01-01T00:00:00Z', validTo: '2020-01-01T00:00:00Z' } });
    expect(future.status).toBe(201);
    expect(instant.status).toBe(201);
    const ids = (await adminRequest(port, 'GET', '/api/notices/active')).json.notices.map((n: any) => n.id);
    expect(ids).not.toContain(future.json.notice.id);
    expect(ids).not.toContain(instant.json.notice.id);
  });

  it('replaces a notice with PATCH, and deletes it once', async () => {
    const id = (await as('POST', '/api/admin/notices', { body: { message: 'old', validTo: '2099-01-01T00:00:00Z' } })).json.notice.id;
    expectAdminError(await as('PATCH', `/api/admin/notices/${id}`, { body: { message: 'new', validTo: '2099-01-01T00:00:00Z' } }), 400, 'validFrom and validTo are required');
    expectAdminError(await as('PATCH', '/api/admin/notices/nope', { body: { message: 'n', validFrom: '2020-01-01', validTo: '2099-01-01' } }), 404, 'Not found');
    const patched = await as('PATCH', `/api/admin/notices/${id}`, { body: { message: 'new', validFrom: '2020-01-01T00:00:00Z', validTo: '2099-01-01T00:00:00Z' }, origin });
    expectAdmin(patched, 200);
    expect(patched.json.notice).toMatchObject({ id, message: 'new', validFrom: '2020-01-01T00:00:00.000Z', createdAt: expect.stringMatching(ISO_MS) });
    expect((await adminRequest(port, 'GET', '/api/notices/active')).json.notices.find((n: any) => n.id === id).message).toBe('new');
    expectAdmin(await as('DELETE', `/api/admin/notices/${id}`, { origin }), 200, { ok: true });
    expectAdminError(await as('DELETE', `/api/admin/notices/${id}`), 404, 'Not found');
    expect((await adminRequest(port, 'GET', '/api/notices/active')).json.notices.some((n: any) => n.id === id)).toBe(false);
    const events = (await as('GET', '/api/admin/logs?q=admin_notice_')).json.logs.map((l: any) => l.eventType);
    expect(events).toEqual(expect.arrayContaining(['admin_notice_created', 'admin_notice_updated', 'admin_notice_deleted']));
  });

  it('routes like the original: 404 for other paths and methods, 405 on an id', async () => {
    expectAdminError(await as('DELETE', '/api/admin/notices'), 404, 'Not Found');
    expectAdminError(await as('GET', '/api/admin/notices/'), 404, 'Not Found');
    expectAdminError(await as('GET', '/api/admin/noticesX'), 404, 'Not Found');
    expectAdminError(await as('GET', '/api/admin/notices/abc'), 405, 'Method not allowed');
  });
});

describe('game settings', () => {
  it('answers the default, and refuses values outside 50–150', async () => {
    expectAdmin(await as('GET', '/api/admin/game-settings'), 200, { settings: { playerSpeedPercent: 100 } });
    for (const body of [{ playerSpeedPercent: 49 }, { playerSpeedPercent: 151 }, { playerSpeedPercent: '100' }, { playerSpeedPercent: null }, {}]) {
      expectAdminError(await as('PUT', '/api/admin/game-settings', { body }), 400, 'playerSpeedPercent must be between 50 and 150');
    }
    expectAdminError(await as('PUT', '/api/admin/game-settings', { raw: '' }), 400, 'playerSpeedPercent must be between 50 and 150');
  });

  it('applies a new speed to sessions created afterwards only', async () => {
    const before = (await adminRequest(port, 'POST', '/api/sessions', { body: {} })).json;
    const put = await as('PUT', '/api/admin/game-settings', { body: { playerSpeedPercent: 120.5 }, origin });
    expectAdmin(put, 200);
    expect(put.json.setting).toMatchObject({ key: 'playerSpeedPercent', value: 120.5, updatedAt: expect.stringMatching(ISO_MS) });
    expectAdmin(await as('GET', '/api/admin/game-settings'), 200, { settings: { playerSpeedPercent: 120.5 } });
    const after = (await adminRequest(port, 'POST', '/api/sessions', { body: {} })).json;
    expect(after.playerSpeedPercent).toBe(120.5);
    const list = (await as('GET', '/api/admin/sessions/active')).json.sessions;
    expect(list.find((s: any) => s.sessionId === before.sessionId).playerSpeedPercent).toBe(before.playerSpeedPercent);
    expect(list.find((s: any) => s.sessionId === after.sessionId).playerSpeedPercent).toBe(120.5);
    const audit = (await as('GET', '/api/admin/logs?q=admin_setting_updated')).json.logs[0];
    expect(audit.details).toMatchObject({ key: 'playerSpeedPercent', to: 120.5 });
  });

  it('answers other methods and sub-paths with 405', async () => {
    expectAdminError(await as('POST', '/api/admin/game-settings'), 405, 'Method not allowed');
    expectAdminError(await as('GET', '/api/admin/game-settings/x'), 405, 'Method not allowed');
  });
});

describe('player events in the audit log', () => {
  it('writes validation_failed (low) for a refused player write', async () => {
    expect((await adminRequest(port, 'POST', '/api/high-scores', { body: { playerTag: '' } })).status).toBe(400);
    const row = (await as('GET', '/api/admin/logs?q=validation_failed')).json.logs[0];
    expect(row).toMatchObject({ category: 'security', severity: 'low', eventType: 'validation_failed' });
    expect(row.details).toMatchObject({ ip: '127.0.0.1', op: 'highScores.add', reason: 'playerTag is required' });
  });
});

describe('metrics', () => {
  it('count admin logins by outcome and show the live admin sessions and audit rows', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (line: string) => Number(text.split('\n').find((l) => l.startsWith(`${line} `))?.slice(line.length + 1));
    expect(value('vibefixer_admin_logins_total{outcome="ok"}')).toBeGreaterThanOrEqual(2);
    expect(value('vibefixer_admin_logins_total{outcome="failed"}')).toBeGreaterThanOrEqual(2);
    expect(value('vibefixer_admin_sessions')).toBeGreaterThanOrEqual(1);
    expect(value('vibefixer_audit_rows')).toBeGreaterThan(5);
  });
});

describe('logout and secrets', () => {
  it('never writes the token or the password into a log line, the log list, an export or the metrics', async () => {
    const token = cookie.split('=')[1];
    const fresh = (await login(port)).split('=')[1];
    const texts = [
      JSON.stringify(server.logs),
      (await as('GET', '/api/admin/logs?limit=500')).text,
      (await as('GET', '/api/admin/logs/export')).text,
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    ];
    for (const text of texts) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(fresh);
      expect(text).not.toContain(token.slice('admin_'.length));
      expect(text).not.toContain(ADMIN_PASSWORD);
    }
    expect(server.logs.some((l) => l.event === 'admin_session_created' && typeof l.session === 'string' && (l.session as string).length === 12)).toBe(true);
  });

  it('logs out: 200 {ok:true}, the clearing cookie, and the old cookie gets 401', async () => {
    const mine = await login(port);
    const reply = await adminRequest(port, 'POST', '/api/admin/logout', { cookie: mine, origin });
    expectAdmin(reply, 200, { ok: true });
    expect(reply.headers['set-cookie']).toEqual(['vibefixer_admin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expectAdminError(await adminRequest(port, 'GET', '/api/admin/logs?limit=1', { cookie: mine }), 401, 'Unauthorized');
    expectAdmin(await adminRequest(port, 'POST', '/api/admin/logout'), 200, { ok: true });
    expectAdmin(await adminRequest(port, 'POST', '/api/admin/logout', { cookie: 'other=%E0%A4%A' }), 200, { ok: true });
    const row = (await as('GET', '/api/admin/logs?q=admin_logout')).json.logs[0];
    expect(row).toMatchObject({ severity: 'info', eventType: 'admin_logout' });
  });

  it('does not trust X-Forwarded-For without VIBEFIXER_TRUST_PROXY: a rotating header does not dodge the lockout', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await adminRequest(port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: 'nope' }, headers: { 'X-Forwarded-For': `10.0.0.${i}` } });
      expectAdminError(reply, 401, 'Unauthorized');
    }
    const blocked = await adminRequest(port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: ADMIN_PASSWORD }, headers: { 'X-Forwarded-For': '10.0.0.99' } });
    expectAdminError(blocked, 429, 'Too many attempts, try later');
    // A cookie still works from a blocked client.
    expectAdmin(await as('GET', '/api/admin/logs?limit=1'), 200);
  });
});
