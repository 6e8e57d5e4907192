/**
 * The admin console's entry point (CONTRACT-ADMIN §2–3): every /api/admin/* request comes here from
 * its transport, in the contract's order:
 *
 *   login/logout (exact path + POST) ─► Origin ─► body checks ─► 503 ─► lockout ─► credentials
 *   guarded prefixes ─► 503 ─► session cookie (401) ─► Origin (403, writes) ─► route ─► [body] ─► run
 *   anything else under /api/admin/ ─► 404 (no auth check, as the original)
 *
 * Every change (a route's, a login's, a logout's) is answered only after the batch holding it has
 * committed, whatever VIBEFIXER_ACK says: an admin's edit that was confirmed must survive a crash.
 * Never: import a transport, log a token or a password.
 */
import { NOT_DURABLE, QUEUE_FULL, SHUTTING_DOWN, type DurabilityGate } from '../api/dispatch.js';
import type { ChangeSink } from '../state/changes.js';
import type { HotState } from '../state/hot-state.js';
import {
  type AdminAnswer,
  type AdminBody,
  type AdminRequest,
  BODY_REQUIRED,
  CREDENTIALS_REQUIRED,
  error,
  INVALID_JSON,
  json,
  NOT_CONFIGURED,
  NOT_FOUND_ROUTE,
  type Outcome,
  PAYLOAD_TOO_LARGE,
  TOO_MANY_ATTEMPTS,
  UNAUTHORIZED,
} from './answers.js';
import type { AuditLog, EventContext } from './audit.js';
import { clearingCookie, cookieValue, sessionCookie } from './cookie.js';
import type { Credentials } from './credentials.js';
import { LoginLockout } from './lockout.js';
import { CROSS_ORIGIN_REFUSED, isWriteMethod, sameOrigin } from './origin.js';
import { isGuarded, route } from './routes.js';
import { ADMIN_SESSION_TTL_MS, type AdminSessions, shortHash } from './sessions.js';

const USER_MAX = 64;
const PASSWORD_MAX = 128;

export interface AdminDeps {
  /** null: admin not configured (every admin call answers 503). */
  credentials: Credentials | null;
  /** NODE_ENV=production: the cookie gets `Secure`. */
  secureCookie: boolean;
  state: HotState;
  sink: ChangeSink;
  sessions: AdminSessions;
  audit: AuditLog;
  lockout: LoginLockout;
  gate: DurabilityGate;
  isShuttingDown(): boolean;
  now(): number;
  onError(error: unknown, where: string): void;
  /** Counts login outcomes (metrics): locked = refused during a block or while a check runs. */
  onLogin?(outcome: 'ok' | 'failed' | 'blocked' | 'locked'): void;
}

export type ReadBody = (then: (body: AdminBody) => void) => void;
export type Reply = (answer: AdminAnswer) => void;

export class AdminConsole {
  constructor(private readonly d: AdminDeps) {}

  get configured(): boolean {
    return this.d.credentials !== null;
  }

  /** Answers one request under /api/admin/; calls `reply` exactly once unless the body never arrives. */
  handle(req: AdminRequest, readBody: ReadBody, reply: Reply): void {
    if (req.path === '/api/admin/login') return req.method === 'post' ? this.login(req, readBody, reply) : reply(error(404, NOT_FOUND_ROUTE));
    if (req.path === '/api/admin/logout') return req.method === 'post' ? this.logout(req, reply) : reply(error(404, NOT_FOUND_ROUTE));
    if (!isGuarded(req.path)) return reply(error(404, NOT_FOUND_ROUTE));
    if (!this.configured) return reply(error(503, NOT_CONFIGURED));
    const nowMs = this.d.now();
    if (this.d.sessions.find(cookieValue(req.cookie), nowMs) === null) return reply(error(401, UNAUTHORIZED));
    const write = isWriteMethod(req.method);
    if (write && !sameOrigin(req.origin, req.hosts)) return this.refuseOrigin(req, reply);
    const r = route(req.method, req.path, req.query);
    if (!r.body) {
      const refusal = write ? this.refusal() : null;
      return refusal !== null ? reply(refusal) : this.finish(r.run(this.ctx(req), null), reply, write);
    }
    readBody((body) => {
      if (body.kind === 'tooLarge') return reply(error(413, PAYLOAD_TOO_LARGE));
      if (body.kind === 'invalidJson') return reply(error(400, INVALID_JSON));
      const refusal = this.refusal();
      if (refusal !== null) return reply(refusal);
      this.finish(r.run(this.ctx(req), body.value), reply, true);
    });
  }

  // --- login and logout --------------------------------------------------------------------

  private login(req: AdminRequest, readBody: ReadBody, reply: Reply): void {
    if (!sameOrigin(req.origin, req.hosts)) return this.refuseOrigin(req, reply);
    readBody((body) => {
      if (body.kind === 'tooLarge') return reply(error(413, PAYLOAD_TOO_LARGE));
      if (body.kind === 'invalidJson') return reply(error(400, INVALID_JSON));
      if (!body.value) return reply(error(400, BODY_REQUIRED));
      const fields = body.value as Record<string, unknown>;
      const user = typeof fields.username === 'string' ? fields.username.trim() : '';
      const password = typeof fields.password === 'string' ? fields.password.trim() : '';
      if (Array.isArray(body.value) || user === '' || user.length > USER_MAX || password === '' || password.length > PASSWORD_MAX) {
        return reply(error(400, CREDENTIALS_REQUIRED));
      }
      const credentials = this.d.credentials;
      if (credentials === null) return reply(error(503, NOT_CONFIGURED));
      const nowMs = this.d.now();
      const blockedS = this.d.lockout.blockedForS(req.clientKey, nowMs);
      const wait = blockedS > 0 ? blockedS : this.d.lockout.beginCheck(req.clientKey, nowMs) ? 0 : 1;
      if (wait > 0) {
        this.d.onLogin?.('locked');
        return reply(error(429, TOO_MANY_ATTEMPTS, [['Retry-After', String(wait)]]));
      }
      // One catch for the check and for what follows it: nothing may become an unhandled rejection.
      credentials
        .verify(user, fields.password as string)
        .then((ok) => {
          this.d.lockout.endCheck(req.clientKey);
          this.loginChecked(req, ok, reply);
        })
        .catch((err: unknown) => {
          this.d.lockout.endCheck(req.clientKey);
          this.d.onError(err, 'admin login');
          reply(error(500, 'Internal Server Error'));
        });
    });
  }

  private loginChecked(req: AdminRequest, ok: boolean, reply: Reply): void {
    const nowMs = this.d.now();
    const context = eventContext(req);
    if (!ok) {
      const outcome = this.d.lockout.failed(req.clientKey, nowMs);
      this.d.onLogin?.(outcome.blocked ? 'blocked' : 'failed');
      if (outcome.blocked) {
        this.d.audit.record({ eventType: 'admin_auth_blocked', severity: 'medium', context, failure: 'admin_auth', details: { reason: 'too_many_failures', blockedUntil: outcome.blockedUntilMs } }, nowMs);
      } else {
        this.d.audit.record({ eventType: 'admin_auth_failed', severity: 'low', context, failure: 'admin_auth', details: { reason: 'invalid_credentials', attempts: outcome.attempts } }, nowMs);
      }
      return reply(error(401, UNAUTHORIZED));
    }
    const refusal = this.refusal();
    if (refusal !== null) return reply(refusal);
    this.d.lockout.succeeded(req.clientKey);
    this.d.onLogin?.('ok');
    const { token, session, seq } = this.d.sessions.create(nowMs);
    const expiresAt = new Date(session.expiresAtMs).toISOString();
    const auditSeq = this.d.audit.record({ eventType: 'admin_session_created', severity: 'info', context, details: { session: shortHash(session.hash), expiresAt } }, nowMs);
    const cookie = sessionCookie(token, ADMIN_SESSION_TTL_MS, session.expiresAtMs, this.d.secureCookie);
    this.finish({ answer: json(200, { expiresAt }, [['Set-Cookie', cookie]]), seq: Math.max(seq, auditSeq) }, reply, true);
  }

  /** Logout needs no valid session and reads no body (CONTRACT-ADMIN §2.2). */
  private logout(req: AdminRequest, reply: Reply): void {
    if (!this.configured) return reply(error(503, NOT_CONFIGURED));
    if (!sameOrigin(req.origin, req.hosts)) return this.refuseOrigin(req, reply);
    const answer = json(200, { ok: true }, [['Set-Cookie', clearingCookie(this.d.secureCookie)]]);
    const ended = this.d.sessions.end(cookieValue(req.cookie));
    if (ended === null) return reply(answer);
    const auditSeq = this.d.audit.record({ eventType: 'admin_logout', severity: 'info', context: eventContext(req), details: { session: shortHash(ended.hash) } }, this.d.now());
    this.finish({ answer, seq: Math.max(ended.seq, auditSeq) }, reply, true);
  }

  // --- shared ------------------------------------------------------------------------------

  private refuseOrigin(req: AdminRequest, reply: Reply): void {
    this.d.audit.record({ eventType: 'admin_origin_refused', severity: 'medium', context: eventContext(req), failure: 'admin_origin', details: { origin: req.origin.slice(0, 200) } }, this.d.now());
    reply(error(403, CROSS_ORIGIN_REFUSED));
  }

  /** A write that cannot be queued now is refused before it changes anything. */
  private refusal(): AdminAnswer | null {
    if (this.d.isShuttingDown()) return error(503, SHUTTING_DOWN, [['Retry-After', '1']]);
    if (!this.d.gate.accepting()) return error(503, QUEUE_FULL, [['Retry-After', '1']]);
    return null;
  }

  /** Replies at once when nothing changed, else after the commit (503 when it does not come in time). */
  private finish(outcome: Outcome, reply: Reply, write: boolean): void {
    if (outcome.seq === null || !write) return reply(outcome.answer);
    this.d.gate.whenDurable(outcome.seq, (err) => reply(err === null ? outcome.answer : error(503, NOT_DURABLE, [['Retry-After', '1']])));
  }

  private ctx(req: AdminRequest) {
    return { state: this.d.state, sink: this.d.sink, audit: this.d.audit, nowMs: this.d.now(), event: eventContext(req) };
  }
}

function eventContext(req: AdminRequest): EventContext {
  return { ip: req.clientKey, path: req.path, method: req.method.toUpperCase() };
}
