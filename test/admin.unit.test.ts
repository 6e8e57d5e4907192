/**
 * The admin console's parts without a server: lockout arithmetic, cookie parsing and attributes,
 * the Origin rule, scrypt hashes and the credential check, session expiry, and the audit log's
 * redaction, bounds and alert.
 */
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../src/admin/audit.js';
import { clearingCookie, cookieValue, sessionCookie } from '../src/admin/cookie.js';
import { Credentials } from '../src/admin/credentials.js';
import { LOGIN_BLOCK_MS, LOGIN_WINDOW_MS, LoginLockout } from '../src/admin/lockout.js';
import { sameOrigin } from '../src/admin/origin.js';
import { makeScryptHash, parseScryptHash } from '../src/admin/password.js';
import { ADMIN_SESSION_TTL_MS, AdminSessions, tokenHash } from '../src/admin/sessions.js';
import type { ChangeSink } from '../src/state/changes.js';

/** A change port that records every call and answers seq 1. */
function recordingSink(): ChangeSink & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    upsert: (table, key, row) => (calls.push(['upsert', table, key, row]), 1),
    delete: (table, key) => (calls.push(['delete', table, key]), 1),
    count: (delta) => (calls.push(['count', delta]), 1),
  };
}

describe('LoginLockout', () => {
  it('blocks on the 5th failure within the window, for 15 minutes', () => {
    const l = new LoginLockout();
    for (let i = 1; i <= 4; i++) expect(l.failed('a', 1000 * i)).toEqual({ blocked: false, attempts: i });
    expect(l.failed('a', 5000)).toEqual({ blocked: true, blockedUntilMs: 5000 + LOGIN_BLOCK_MS });
    expect(l.blockedForS('a', 5000)).toBe(LOGIN_BLOCK_MS / 1000);
    expect(l.blockedForS('a', 5000 + LOGIN_BLOCK_MS - 1)).toBe(1);
    expect(l.blockedForS('a', 5000 + LOGIN_BLOCK_MS)).toBe(0);
    expect(l.blockedForS('b', 5000)).toBe(0);
  });

  it('starts a fresh count once the window anchored at the first failure has passed', () => {
    const l = new LoginLockout();
    for (let i = 0; i < 4; i++) l.failed('a', 0);
    expect(l.failed('a', LOGIN_WINDOW_MS + 1)).toEqual({ blocked: false, attempts: 1 });
  });

  it('allows one check in flight per client', () => {
    const l = new LoginLockout();
    expect(l.beginCheck('a', 0)).toBe(true);
    expect(l.beginCheck('a', 0)).toBe(false);
    expect(l.beginCheck('b', 0)).toBe(true);
    l.endCheck('a');
    expect(l.beginCheck('a', 0)).toBe(true);
  });

  it('prunes entries whose window and block are over, so the map stays bounded', () => {
    const l = new LoginLockout();
    for (let i = 0; i < 1000; i++) l.failed(`10.0.${i >> 8}.${i & 255}`, 0);
    for (let i = 0; i < 5; i++) l.failed('blocked', 0);
    l.prune(LOGIN_WINDOW_MS + 1);
    expect(l.size).toBe(1);
    l.prune(LOGIN_BLOCK_MS + 1);
    expect(l.size).toBe(0);
  });
});

describe('the admin cookie', () => {
  it('takes the last value, skips undecodable and empty values', () => {
    expect(cookieValue('a=1; vibefixer_admin_session=x; vibefixer_admin_session=y')).toBe('y');
    expect(cookieValue('other=%E0%A4%A; vibefixer_admin_session=ok')).toBe('ok');
    expect(cookieValue('vibefixer_admin_session=%E0%A4%A')).toBeNull();
    expect(cookieValue('vibefixer_admin_session=')).toBeNull();
    expect(cookieValue('')).toBeNull();
    expect(cookieValue('vibefixer_admin_session_x=1')).toBeNull();
  });

  it('has the original attributes in the original order, Secure last in production', () => {
    const at = Date.UTC(2026, 10, 29, 18, 27, 21);
    expect(sessionCookie('admin_ab', 1_800_000, at, false)).toBe(
      'vibefixer_admin_session=admin_ab; Path=/; HttpOnly; SameSite=Strict; Max-Age=1800; Expires=Sun, 29 Nov 2026 18:27:21 GMT',
    );
    expect(clearingCookie(true)).toBe('vibefixer_admin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure');
  });
});

describe('sameOrigin', () => {
  it('passes an absent Origin and the same host, in any scheme', () => {
    expect(sameOrigin('', ['example.com'])).toBe(true);
    expect(sameOrigin('https://example.com', ['example.com'])).toBe(true);
    expect(sameOrigin('https://example.com', ['example.com:443'])).toBe(true);
    expect(sameOrigin('http://127.0.0.1:3000', ['127.0.0.1:3000'])).toBe(true);
    expect(sameOrigin('https://EXAMPLE.com', ['proxy.local', 'example.com'])).toBe(true);
  });

  it('refuses another host or port, "null", and non-http schemes', () => {
    expect(sameOrigin('https://admin.example.com', ['example.com'])).toBe(false);
    expect(sameOrigin('http://127.0.0.1:3001', ['127.0.0.1:3000'])).toBe(false);
    expect(sameOrigin('null', ['example.com'])).toBe(false);
    expect(sameOrigin('file://example.com', ['example.com'])).toBe(false);
    expect(sameOrigin('http://example.com', [''])).toBe(false);
  });
});

describe('scrypt hashes and the credential check', () => {
  it('verifies the password of a hash and refuses others, in constant-time comparisons', async () => {
    const hash = makeScryptHash('s3cret', 1024, 8, 1);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const c = new Credentials('admin', null, hash);
    expect(await c.verify('admin', 's3cret')).toBe(true);
    expect(await c.verify(' admin ', ' s3cret ')).toBe(true);
    expect(await c.verify('admin', 's3cret!')).toBe(false);
    expect(await c.verify('Admin', 's3cret')).toBe(false);
  });

  it('checks a plain password the same way', async () => {
    const c = new Credentials('admin', 's3cret', null);
    expect(await c.verify('admin', 's3cret')).toBe(true);
    expect(await c.verify('admin', 'S3cret')).toBe(false);
  });

  it('refuses malformed or too costly hashes with a reason', () => {
    expect(parseScryptHash('scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe('has an N that is not a power of two');
    expect(parseScryptHash('scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe('needs more than 256 MiB per check (lower N or r)');
    expect(typeof parseScryptHash('bcrypt$x')).toBe('string');
  });
});

describe('AdminSessions', () => {
  it('keeps only the hash of a token, and writes it as a row', () => {
    const sink = recordingSink();
    const s = new AdminSessions(sink);
    const { token, session } = s.create(1000);
    expect(token).toMatch(/^admin_[0-9a-f]{32}$/);
    expect(session.hash).toBe(tokenHash(token));
    expect(sink.calls).toEqual([['upsert', 'adminSessions', session.hash, [session.hash, 1000, 1000 + ADMIN_SESSION_TTL_MS]]]);
    expect(JSON.stringify(sink.calls)).not.toContain(token);
  });

  it('refuses a session from the moment it expires (30 minutes after login, no renewal), and prunes it', () => {
    const sink = recordingSink();
    const s = new AdminSessions(sink);
    const ended: string[][] = [];
    s.onEnded = (h) => ended.push(h);
    const { token, session } = s.create(0);
    expect(s.find(token, ADMIN_SESSION_TTL_MS - 1)).not.toBeNull();
    expect(s.find(token, ADMIN_SESSION_TTL_MS)).toBeNull();
    s.prune(ADMIN_SESSION_TTL_MS);
    expect(s.size).toBe(0);
    expect(ended).toEqual([[session.hash]]);
    expect(sink.calls.at(-1)).toEqual(['delete', 'adminSessions', session.hash]);
  });

  it('ends a session on logout only once', () => {
    const s = new AdminSessions(recordingSink());
    const { token } = s.create(0);
    expect(s.end(token)).not.toBeNull();
    expect(s.end(token)).toBeNull();
    expect(s.find(token, 1)).toBeNull();
  });
});

describe('AuditLog', () => {
  const all = { startMs: 0, endMs: Number.MAX_SAFE_INTEGER, category: null, severity: null, q: null };

  it('redacts secret-looking keys at any depth before the row is built', () => {
    const sink = recordingSink();
    const log = new AuditLog({ sink, maxRows: 10, retentionDays: 0 });
    log.record({ eventType: 'x', severity: 'info', details: { password: 'p', nested: { apiKey: 'k', sessionToken: 't', ok: 1 }, cookie: 'c' } }, 1);
    const [entry] = log.query(all, 10);
    expect(entry.details).toEqual({ ip: 'unknown', path: 'unknown', method: 'unknown', password: '[REDACTED]', nested: { apiKey: '[REDACTED]', sessionToken: '[REDACTED]', ok: 1 }, cookie: '[REDACTED]' });
    expect(JSON.stringify(sink.calls)).not.toMatch(/"p"|"k"|"t"|"c"/);
  });

  it('keeps at most maxRows, newest first, and drops rows past retention', () => {
    const log = new AuditLog({ sink: recordingSink(), maxRows: 3, retentionDays: 1 });
    for (let i = 1; i <= 5; i++) log.record({ eventType: `e${i}`, severity: 'info' }, i * 1000);
    expect(log.query(all, 10).map((e) => e.eventType)).toEqual(['e5', 'e4', 'e3']);
    log.prune(86_400_000 + 4500);
    expect(log.query(all, 10).map((e) => e.eventType)).toEqual(['e5']);
  });

  it('raises one security_alert per clock minute at 10 failures', () => {
    const log = new AuditLog({ sink: recordingSink(), maxRows: 100, retentionDays: 0 });
    for (let i = 0; i < 25; i++) log.record({ eventType: 'validation_failed', severity: 'low', failure: 'validation', details: { reason: 'bad' } }, 60_000 + i);
    const alerts = log.query({ ...all, q: 'security_alert' }, 100);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'high', message: 'Security alert: failure_threshold' });
    expect(alerts[0].details).toMatchObject({ failureType: 'validation', count: 10, threshold: 10, details: { reason: 'bad' } });
    for (let i = 0; i < 10; i++) log.record({ eventType: 'admin_auth_failed', severity: 'low', failure: 'admin_auth' }, 120_000 + i);
    expect(log.query({ ...all, q: 'security_alert' }, 100)).toHaveLength(2);
  });
});
