/**
 * Admin changes that the current storage already persists survive a graceful restart: a notice
 * (with its createdAt/updatedAt), the player speed, a high-score edit. (Admin sessions, the audit
 * log and deletes are memory-only until the storage rewrite: their restart tests come with it.)
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childServersForFile, tempDir } from './helpers/child-server.js';
import { ADMIN_PASSWORD, ADMIN_USER, adminRequest, login } from './helpers/admin.js';

const dir = tempDir('vibefixer-admin-restart-');
afterAll(() => dir.cleanup());
const start = childServersForFile({ VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'), ADMIN_USER, ADMIN_PASSWORD });

describe('admin changes across a restart', () => {
  it('keeps notices, the player speed and high-score edits', async () => {
    const first = await start();
    const cookie = await login(first.port);
    const notice = (await adminRequest(first.port, 'POST', '/api/admin/notices', { cookie, body: { message: 'kept', validTo: '2099-01-01T00:00:00Z' } })).json.notice;
    expect((await adminRequest(first.port, 'PUT', '/api/admin/game-settings', { cookie, body: { playerSpeedPercent: 140 } })).status).toBe(200);
    const id = (await adminRequest(first.port, 'POST', '/api/high-scores', { body: { playerTag: 'OLD', result: 'won', remainingUnchecked: 1 } })).json.score.id;
    expect((await adminRequest(first.port, 'PATCH', `/api/admin/high-scores/${id}`, { cookie, body: { playerTag: 'NEW' } })).status).toBe(200);
    expect((await first.stop('SIGTERM')).code).toBe(0);

    const second = await start();
    const again = await login(second.port);
    const notices = (await adminRequest(second.port, 'GET', '/api/admin/notices', { cookie: again })).json.notices;
    expect(notices).toContainEqual(notice);
    expect((await adminRequest(second.port, 'GET', '/api/admin/game-settings', { cookie: again })).json).toEqual({ settings: { playerSpeedPercent: 140 } });
    expect((await adminRequest(second.port, 'POST', '/api/sessions', { body: {} })).json.playerSpeedPercent).toBe(140);
    const scores = (await adminRequest(second.port, 'GET', '/api/high-scores')).json.scores;
    expect(scores.find((s: any) => s.id === id)).toMatchObject({ playerTag: 'NEW' });
  });
});
