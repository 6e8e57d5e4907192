/**
 * Composition of the admin console: credentials from the config, admin sessions, the login lockout,
 * the audit log (stdout + change port + live tail), and their timers. boot.ts calls this once and
 * hands the console to the HTTP routes and the sessions/log to the WebSocket hub.

 */
import type { Logger } from 'pino';
import { AdminConsole } from '../admin/console.js';
import { AuditLog } from '../admin/audit.js';
import { Credentials } from '../admin/credentials.js';
import { LoginLockout } from '../admin/lockout.js';
import { AdminSessions } from '../admin/sessions.js';
import type { DurabilityGate, SecurityEvent } from '../api/dispatch.js';
import { adminConfigured, type Config } from '../config.js';
import type { AuditRow } from '../model/rows.js';
import type { ChangeSink } from '../state/changes.js';
import type { HotState } from '../state/hot-state.js';

const SESSION_PRUNE_MS = 5_000;
const LOCKOUT_PRUNE_MS = 60_000;
const AUDIT_PRUNE_MS = 60 * 60 * 1000;
/** Events the dispatcher already logs to stdout itself. */
const LOGGED_ELSEWHERE: ReadonlySet<string> = new Set(['rate_limit', 'validation_failed', 'server_error']);

export interface AdminParts {
  console: AdminConsole;
  sessions: AdminSessions;
  audit: AuditLog;
  /** The dispatcher's hook: rate limits and refused bodies of player writes. */
  securityEvent(event: SecurityEvent): void;
  serverError(where: string): void;
  stop(): void;
}

export interface AdminWiring {
  config: Config;
  log: Logger;
  state: HotState;
  sink: ChangeSink;
  gate: DurabilityGate;
  isShuttingDown(): boolean;
  onError(error: unknown, where: string): void;
  onLogin?(outcome: 'ok' | 'failed' | 'blocked' | 'locked'): void;
}

function printer(log: Logger) {
  return (row: AuditRow, details: Record<string, unknown>) => {
    const [, , category, severity, eventType, message] = row;
    if (LOGGED_ELSEWHERE.has(eventType)) return;
    const line = { event: eventType, category, severity, ...details };
    if (severity === 'high') log.error(line, message);
    else if (severity === 'medium') log.warn(line, message);
    else log.info(line, message);
  };
}

export function createAdmin(w: AdminWiring): AdminParts {
  const { config } = w;
  const audit = new AuditLog({ sink: w.sink, maxRows: config.auditMaxRows, retentionDays: config.auditRetentionDays, print: printer(w.log) });
  const sessions = new AdminSessions(w.sink);
  const lockout = new LoginLockout();
  const credentials = adminConfigured(config) ? new Credentials(config.adminUser as string, config.adminPassword, config.adminPasswordHash) : null;
  const console = new AdminConsole({
    credentials,
    secureCookie: config.nodeEnv === 'production',
    state: w.state,
    sink: w.sink,
    sessions,
    audit,
    lockout,
    gate: w.gate,
    isShuttingDown: w.isShuttingDown,
    now: Date.now,
    onError: w.onError,
    onLogin: w.onLogin,
  });
  w.log.info({ event: 'admin', configured: credentials !== null, passwordHashed: config.adminPasswordHash !== null, secureCookie: config.nodeEnv === 'production' }, credentials === null ? 'admin console not configured' : 'admin console enabled');

  const guarded = (name: string, fn: () => void) => () => {
    try {
      fn();
    } catch (err) {
      w.log.error({ event: 'timer_failed', timer: name, err }, 'timer failed');
    }
  };
  const timers = [
    setInterval(guarded('admin_sessions', () => sessions.prune(Date.now())), SESSION_PRUNE_MS),
    setInterval(guarded('admin_lockout', () => lockout.prune(Date.now())), LOCKOUT_PRUNE_MS),
    setInterval(guarded('audit_prune', () => audit.prune(Date.now())), AUDIT_PRUNE_MS),
  ];
  for (const t of timers) t.unref();

  return {
    console,
    sessions,
    audit,
    securityEvent(e) {
      const context = { ip: e.client === '' ? 'unknown' : e.client };
      if (e.type === 'rate_limit') audit.record({ eventType: 'rate_limit', severity: 'medium', context, details: { op: e.op, retryAfterS: e.retryAfterS } }, Date.now());
      else audit.record({ eventType: 'validation_failed', severity: 'low', context, failure: 'validation', details: { op: e.op, reason: e.reason } }, Date.now());
    },
    serverError(where) {
      audit.record({ eventType: 'server_error', severity: 'high', details: { where, message: 'Unhandled server error' } }, Date.now());
    },
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}
