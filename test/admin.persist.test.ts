/**
 * The admin console's state is persisted as typed rows (migration 7): admin sessions (by token
 * hash), the audit log, and every admin change, deletes included. Proven against real child servers
 * killed with SIGKILL right after an answer, with VIBEFIXER_ACK=memory and a flush interval of a
 * minute: only the admin console's own "answer after commit" rule can make these survive. The
 * retention of admin sessions and audit rows is proven at the worker's `handle()`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AdminSessionRow, AuditRow, WireBatch } from '../src/model/rows.js';
import { handle } from '../workers/persist.js';
import { MS_PER_DAY, RETENTION_CHUNK_ROWS } from '../workers/sqlite/maintenance.js';
import { ADMIN_PASSWORD, ADMIN_USER, adminRequest, cookiePair, login } from './helpers/admin.js';
import { type ChildServer, MAIN, startChild, tempDir } from './helpers/child-server.js';
import { applyTask, closeWorker, ok, openTask, readRows, removeTempDirs, tempDbPath } from './worker.fixtures.js';

const started: ChildServer[] = [];
const dirs: Array<{ cleanup(): void }> = [];

beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
});
afterAll(async () => {
  for (const child of started) if (child.proc.exitCode === null && child.proc.signalCode === null) await child.stop('SIGKILL');
  for (const d of dirs) d.cleanup();
  removeTempDirs();
});

/** A database of its own; every server on it answers admin writes after commit only by the admin rule. */
function database(): { dbPath: string; start(): Promise<ChildServer> } {
  const dir = tempDir('vibefixer-admin-persist-');
  dirs.push(dir);
  const dbPath = join(dir.dir, 'db.sqlite');
  const env = {
    VIBEFIXER_DB_PATH: dbPath,
    ADMIN_USER,
    ADMIN_PASSWORD,
    // Player writes would wait up to a minute for their batch: an admin answer sent before its
    // commit would be lost by the kill -9 every time, not by chance.
    VIBEFIXER_ACK: 'memory',
    VIBEFIXER_FLUSH_INTERVAL_MS: '60000',
  };
  return {
    dbPath,
    start: async () => {
      const child = await startChild(env);
      started.push(child);
      return child;
    },
  };
}

/** SIGKILL at once (called right after an answer arrived): nothing gets the chance to flush. */
async function kill9(child: ChildServer): Promise<void> {
  expect((await child.stop('SIGKILL')).signal).toBe('SIGKILL');
}

async function graceful(child: ChildServer): Promise<void> {
  expect((await child.stop('SIGTERM')).code).toBe(0);
}

/** The session probe every admin page runs first. */
async function probe(child: ChildServer, cookie: string): Promise<number> {
  return (await adminRequest(child.port, 'GET', '/api/admin/logs?limit=1', { cookie })).status;
}

function tokenOf(cookie: string): string {
  return decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function readDb<T>(dbPath: string, read: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const adminEvents = (logs: Array<{ eventType: string }>) => logs.map((l) => l.eventType).filter((t) => t.startsWith('admin_'));

describe('admin sessions across restarts', () => {
  it('a session survives a kill -9 right after its login was answered and a graceful restart; logout ends it for good', { timeout: 90_000 }, async () => {
    const db = database();
    const first = await db.start();
    const cookie = await login(first.port);
    await kill9(first);

    const second = await db.start();
    expect(await probe(second, cookie)).toBe(200);
    const other = await login(second.port);
    await graceful(second);

    const third = await db.start();
    expect(await probe(third, cookie)).toBe(200);
    expect((await adminRequest(third.port, 'POST', '/api/admin/logout', { cookie })).status).toBe(200);
    await kill9(third);

    const fourth = await db.start();
    expect(await probe(fourth, cookie)).toBe(401);
    // Logout ended that session only.
    expect(await probe(fourth, other)).toBe(200);
    await graceful(fourth);

    const fifth = await db.start();
    expect(await probe(fifth, cookie)).toBe(401);
    expect(await probe(fifth, other)).toBe(200);
    await graceful(fifth);
    expect(readDb(db.dbPath, (d) => d.prepare('SELECT token_hash FROM admin_sessions').all())).toEqual([{ token_hash: sha256(tokenOf(other)) }]);
  });

  it('a session that expired while the server was down does not come back', { timeout: 60_000 }, async () => {
    const db = database();
    const first = await db.start();
    const expired = await login(first.port);
    const valid = await login(first.port);
    await graceful(first);
    // The lifetime is a fixed 30 minutes: let it pass by moving the row into the past.
    const rw = new Database(db.dbPath);
    try {
      const past = Date.now() - 60 * 60 * 1000;
      expect(rw.prepare('UPDATE admin_sessions SET created_at = ?, expires_at = ? WHERE token_hash = ?').run(past - 1_800_000, past, sha256(tokenOf(expired))).changes).toBe(1);
    } finally {
      rw.close();
    }

    const second = await db.start();
    expect(await probe(second, expired)).toBe(401);
    expect(await probe(second, valid)).toBe(200);
    await graceful(second);
  });
});

describe('the audit log across restarts', () => {
  it('login and admin-change rows survive a kill -9 right after the write was answered, are served after the restart, and later rows get higher ids', { timeout: 60_000 }, async () => {
    const db = database();
    const first = await db.start();
    const wrong = await adminRequest(first.port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: 'wrong' } });
    expect(wrong.status).toBe(401);
    const cookie = await login(first.port);
    const created = await adminRequest(first.port, 'POST', '/api/admin/notices', { cookie, body: { message: 'audited', validTo: '2099-01-01T00:00:00Z' } });
    expect(created.status).toBe(201);
    await kill9(first);

    const second = await db.start();
    const logs = (await adminRequest(second.port, 'GET', '/api/admin/logs', { cookie })).json.logs;
    expect(adminEvents(logs)).toEqual(['admin_notice_created', 'admin_session_created', 'admin_auth_failed']);
    expect(logs.find((l: any) => l.eventType === 'admin_notice_created').details).toMatchObject({ id: created.json.notice.id, message: 'audited' });
    expect(logs.find((l: any) => l.eventType === 'admin_auth_failed')).toMatchObject({ severity: 'low', category: 'security', details: { reason: 'invalid_credentials' } });
    expect((await adminRequest(second.port, 'PUT', '/api/admin/game-settings', { cookie, body: { playerSpeedPercent: 90 } })).status).toBe(200);
    const after = (await adminRequest(second.port, 'GET', '/api/admin/logs', { cookie })).json.logs;
    expect(adminEvents(after)).toEqual(['admin_setting_updated', 'admin_notice_created', 'admin_session_created', 'admin_auth_failed']);
    await graceful(second);

    const rows = readDb(db.dbPath, (d) => d.prepare("SELECT id, at, event_type FROM audit_log WHERE event_type LIKE 'admin%' ORDER BY id").all()) as Array<{ id: number; at: number; event_type: string }>;
    expect(rows.map((r) => r.event_type)).toEqual(['admin_auth_failed', 'admin_session_created', 'admin_notice_created', 'admin_setting_updated']);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    for (let i = 1; i < rows.length; i++) expect(rows[i].at).toBeGreaterThanOrEqual(rows[i - 1].at);
  });
});

describe('admin changes survive a kill -9 right after their answer (VIBEFIXER_ACK=memory)', () => {
  it('high-score edit and delete, notice create, edit and delete, and the speed setting', { timeout: 120_000 }, async () => {
    const db = database();
    let server = await db.start();
    const addScore = async (tag: string) => (await adminRequest(server.port, 'POST', '/api/high-scores', { body: { playerTag: tag, result: 'won', remainingUnchecked: 1 } })).json.score.id as number;
    const kept = await addScore('KEEP');
    const gone = await addScore('GONE');
    const cookie = await login(server.port);
    const as = (method: string, path: string, body?: unknown) => adminRequest(server.port, method, path, { cookie, body });
    /** Kills the server right after `write` was answered, restarts it, and returns the answer. */
    const crashAfter = async (write: () => Promise<{ status: number; text: string; json: any }>, status = 200) => {
      const reply = await write();
      expect(reply.status, reply.text).toBe(status);
      await kill9(server);
      server = await db.start();
      return reply.json;
    };
    const scores = async () => (await adminRequest(server.port, 'GET', '/api/high-scores')).json.scores as Array<{ id: number; playerTag: string }>;
    const notices = async () => (await as('GET', '/api/admin/notices')).json.notices as Array<{ id: string }>;

    const edited = await crashAfter(() => as('PATCH', `/api/admin/high-scores/${kept}`, { playerTag: 'EDITED', result: 'lost', remainingUnchecked: 7 }));
    expect((await scores()).find((s) => s.id === kept)).toEqual(edited.score);
    expect((await scores()).map((s) => s.id)).toContain(gone);

    await crashAfter(() => as('DELETE', `/api/admin/high-scores/${gone}`));
    expect((await scores()).map((s) => s.id)).toEqual([kept]);
    expect((await as('GET', '/api/admin/high-scores')).json.scores.map((s: any) => s.id)).toEqual([kept]);

    const created = (await crashAfter(() => as('POST', '/api/admin/notices', { message: 'first text', validFrom: '2020-01-01T00:00:00Z', validTo: '2099-01-01T00:00:00Z' }), 201)).notice;
    expect(await notices()).toEqual([created]);
    expect((await adminRequest(server.port, 'GET', '/api/notices/active')).text).toContain('first text');

    const updated = (await crashAfter(() => as('PATCH', `/api/admin/notices/${created.id}`, { message: 'second text', validFrom: '2021-01-01T00:00:00Z', validTo: '2098-01-01T00:00:00Z' }))).notice;
    expect(updated).toMatchObject({ id: created.id, message: 'second text', createdAt: created.createdAt });
    expect(await notices()).toEqual([updated]);

    await crashAfter(() => as('DELETE', `/api/admin/notices/${created.id}`));
    expect(await notices()).toEqual([]);
    expect((await adminRequest(server.port, 'GET', '/api/notices/active')).text).not.toContain('second text');

    await crashAfter(() => as('PUT', '/api/admin/game-settings', { playerSpeedPercent: 60 }));
    expect((await as('GET', '/api/admin/game-settings')).json).toEqual({ settings: { playerSpeedPercent: 60 } });
    expect((await adminRequest(server.port, 'POST', '/api/sessions', { body: {} })).json.playerSpeedPercent).toBe(60);

    // Every change left its audit row, through all six crashes.
    const logs = (await as('GET', '/api/admin/logs')).json.logs;
    expect(adminEvents(logs)).toEqual([
      'admin_setting_updated',
      'admin_notice_deleted',
      'admin_notice_updated',
      'admin_notice_created',
      'admin_high_score_deleted',
      'admin_high_score_updated',
      'admin_session_created',
    ]);
    await graceful(server);
  });

  it('a deleted high score id is never handed out again, even when it was deleted before its creation was committed', { timeout: 60_000 }, async () => {
    const db = database();
    const first = await db.start();
    const cookie = await login(first.port);
    // With a one-minute flush interval the creation is still pending when the delete replaces it.
    const id = (await adminRequest(first.port, 'POST', '/api/high-scores', { body: { playerTag: 'BRIEF', result: 'won', remainingUnchecked: 1 } })).json.score.id as number;
    expect((await adminRequest(first.port, 'DELETE', `/api/admin/high-scores/${id}`, { cookie })).status).toBe(200);
    await kill9(first);

    const second = await db.start();
    const next = (await adminRequest(second.port, 'POST', '/api/high-scores', { body: { playerTag: 'NEXT', result: 'won', remainingUnchecked: 1 } })).json.score.id as number;
    expect(next).toBeGreaterThan(id);
    await graceful(second);
  });
});

describe('the admin session token is never stored or logged', () => {
  it('appears in no log line and in no table or file of the database: only its SHA-256 is kept', { timeout: 60_000 }, async () => {
    const db = database();
    const first = await db.start();
    const loginReply = await adminRequest(first.port, 'POST', '/api/admin/login', { body: { username: ADMIN_USER, password: ADMIN_PASSWORD } });
    const cookie = cookiePair(loginReply);
    const token = tokenOf(cookie);
    expect(token.length).toBeGreaterThan(16);
    const ended = await login(first.port);
    expect((await adminRequest(first.port, 'POST', '/api/admin/notices', { cookie, body: { message: 'm', validTo: '2099-01-01T00:00:00Z' } })).status).toBe(201);
    expect((await adminRequest(first.port, 'POST', '/api/admin/logout', { cookie: ended })).status).toBe(200);
    await kill9(first);
    // After a kill -9 the WAL still holds the rows: no file of the database may hold a token.
    for (const file of [db.dbPath, `${db.dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      for (const t of [token, tokenOf(ended)]) expect(bytes.includes(t), `${file} holds a token`).toBe(false);
    }
    const second = await db.start();
    expect(await probe(second, cookie)).toBe(200);
    await graceful(second);

    const tables = readDb(db.dbPath, (d) => (d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
    expect(tables).toContain('admin_sessions');
    for (const table of tables) {
      const text = JSON.stringify(readDb(db.dbPath, (d) => d.prepare(`SELECT * FROM "${table}"`).raw().all()));
      for (const t of [token, tokenOf(ended)]) expect(text.includes(t), `table ${table} holds a token`).toBe(false);
    }
    expect(readDb(db.dbPath, (d) => d.prepare('SELECT token_hash FROM admin_sessions').all())).toEqual([{ token_hash: sha256(token) }]);
    for (const child of [first, second]) {
      const lines = JSON.stringify(child.logs);
      for (const t of [token, tokenOf(ended)]) {
        expect(lines.includes(t), 'a log line holds a token').toBe(false);
        // Logs name a session by 12 hex digits of its hash, never by the whole hash.
        expect(lines.includes(sha256(t))).toBe(false);
      }
    }
    expect(JSON.stringify(first.logs)).toContain(sha256(token).slice(0, 12));
  });
});

// --- worker level: reload and retention of admin sessions and audit rows -----------------------

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

function auditRow(id: number, at: number): AuditRow {
  return [id, at, 'security', 'info', 'admin_logout', 'Security event: admin_logout', JSON.stringify({ ip: 'unknown', n: id })];
}

function adminBatch(seq: number, adminSessions: AdminSessionRow[], audit: AuditRow[], deleteSessions: string[] = []): WireBatch {
  const b: WireBatch = { seq, upserts: { adminSessions, audit }, deletes: {}, stats: null };
  if (deleteSessions.length > 0) b.deletes.adminSessions = deleteSessions;
  return b;
}

function retentionTask(auditRetentionDays: number, auditMaxRows: number) {
  return { kind: 'retention' as const, nowMs: NOW, sessionRetentionDays: 0, highScoreRetentionDays: 0, idempotencyWindowMs: MS_PER_DAY, auditRetentionDays, auditMaxRows };
}

async function restAt(nowMs: number, auditLimit = 100_000) {
  return ok(await handle({ kind: 'reloadRest', highScoreLimit: 0, idempotencySinceMs: 0, idempotencyLimit: 1, nowMs, auditLimit }), 'reloadRest');
}

describe('persistence worker: admin sessions and audit rows', () => {
  afterEach(closeWorker);

  it('reloads only unexpired admin sessions, drops logged-out ones, and the newest audit rows oldest first', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    const expired: AdminSessionRow = [sha256('expired'), NOW - 60 * MINUTE, NOW - 30 * MINUTE];
    const endsNow: AdminSessionRow = [sha256('ends-now'), NOW - 30 * MINUTE, NOW];
    const live: AdminSessionRow = [sha256('live'), NOW - MINUTE, NOW + 29 * MINUTE];
    const loggedOut: AdminSessionRow = [sha256('logged-out'), NOW - MINUTE, NOW + 29 * MINUTE];
    ok(await handle(applyTask(adminBatch(1, [expired, endsNow, live, loggedOut], [auditRow(1, NOW - 2), auditRow(2, NOW - 1), auditRow(3, NOW)]))), 'apply');
    ok(await handle(applyTask(adminBatch(2, [], [], [loggedOut[0]]))), 'apply');
    const rest = await restAt(NOW, 2);
    expect(rest.adminSessions).toEqual([live]);
    expect(rest.audit).toEqual([auditRow(2, NOW - 1), auditRow(3, NOW)]);
  });

  it('a high score deleted in the batch that would have created it still raises the highest id handed out', async () => {
    ok(await handle(openTask(tempDbPath())), 'open');
    ok(await handle(applyTask({ seq: 1, upserts: {}, deletes: { highScores: [7] }, stats: null })), 'apply');
    expect((await restAt(NOW)).maxHighScoreId).toBe(7);
  });

  it('retention deletes expired admin sessions, audit rows past the retention days, and audit rows beyond the newest auditMaxRows', async () => {
    const dbPath = tempDbPath();
    ok(await handle(openTask(dbPath)), 'open');
    const sessions: AdminSessionRow[] = [
      [sha256('expired'), NOW - 60 * MINUTE, NOW - 30 * MINUTE],
      [sha256('ends-now'), NOW - 30 * MINUTE, NOW],
      [sha256('live'), NOW - MINUTE, NOW + 29 * MINUTE],
    ];
    // More rows than one retention chunk on each side of the age cutoff.
    const oldRows = RETENTION_CHUNK_ROWS + 200;
    const total = oldRows + RETENTION_CHUNK_ROWS + 300;
    const rows: AuditRow[] = [];
    for (let id = 1; id <= total; id++) rows.push(auditRow(id, id <= oldRows ? NOW - 31 * MS_PER_DAY : NOW - MS_PER_DAY));
    ok(await handle(applyTask(adminBatch(1, sessions, rows))), 'apply');

    // By age (30 days), the row cap far away.
    expect(ok(await handle(retentionTask(30, 100_000)), 'retention').deletedAuditRows).toBe(oldRows);
    expect(await readRows(dbPath, 'SELECT token_hash FROM admin_sessions')).toEqual([{ token_hash: sha256('live') }]);
    expect(await readRows(dbPath, 'SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM audit_log')).toEqual([{ lo: oldRows + 1, hi: total, n: total - oldRows }]);

    // By row count (age kept forever): only the newest 1000 stay.
    expect(ok(await handle(retentionTask(0, 1000)), 'retention').deletedAuditRows).toBe(total - oldRows - 1000);
    expect(await readRows(dbPath, 'SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM audit_log')).toEqual([{ lo: total - 999, hi: total, n: 1000 }]);
    const rest = await restAt(NOW);
    expect(rest.audit).toHaveLength(1000);
    expect(rest.audit[0]).toEqual(rows[total - 1000]);
    expect(rest.audit[999]).toEqual(rows[total - 1]);

    // Nothing more to do: retention is idempotent.
    expect(ok(await handle(retentionTask(30, 1000)), 'retention').deletedAuditRows).toBe(0);
    expect(await readRows(dbPath, 'SELECT count(*) AS n FROM audit_log')).toEqual([{ n: 1000 }]);
  });
});
