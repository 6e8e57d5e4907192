/**
 * The one path every command takes, whatever the transport:
 *
 *   admit (rate limit, shutdown, queue bound) → find session → [transport reads the body]
 *     → run the rule → answer now (ack=memory, or nothing changed)
 *                    → or hold the answer until its seq is committed (ack=durable)
 *
 * HTTP and WebSocket differ only in how they get the body and write the answer; the checks, their
 * order and their error strings live here once.
 */
import type { Logger } from 'pino';
import type { SessionRecord } from '../model/protocol.js';
import { type Answer, fail } from '../state/answer.js';
import type { ProcessInfo } from '../state/catalog.js';
import type { HotState } from '../state/hot-state.js';
import { type CommandContext, COMMANDS, findSession, type Op, runCommand } from './commands.js';
import type { RateLimiter } from './rate-limit.js';

export const RATE_LIMITED = 'Rate limit exceeded';
export const QUEUE_FULL = 'Server busy: too many unsaved changes, retry later';
export const SHUTTING_DOWN = 'Server is shutting down';
export const NOT_DURABLE = 'Change not saved in time: storage unavailable, retry later';
export const NOT_LOADED = 'Session could not be loaded: storage unavailable, retry later';

/** What dispatch needs of the persistence queue (a subset of WriteBehindQueue). */
export interface DurabilityGate {
  accepting(): boolean;
  whenDurable(seq: number, cb: (error: Error | null) => void): void;
}

export interface Dispatcher {
  state: HotState;
  info: ProcessInfo;
  limiter: RateLimiter;
  queue: DurabilityGate;
  ack: 'durable' | 'memory';
  isShuttingDown(): boolean;
  now(): number;
  /**
   * Loads a cold session (reloaded at start-up, not used since) into the state, then calls
   * `then(true)`; `then(false)` when storage could not be read.
   */
  warm(sessionId: string, then: (loaded: boolean) => void): void;
  /** Counts refused writes (metrics). */
  onRefused?(reason: 'rate' | 'queue' | 'shutdown'): void;
  /**
   * Gameplay and security events of the original's log (CONTRACT §5): `rate_limit` (warn, once per
   * client and window), `session_started`/`session_ended` and `validation_failed` (debug: one line
   * per request would cost more than the request at full load).
   */
  log?: Pick<Logger, 'debug' | 'warn'>;
  /**
   * The same security events for the audit log the admin console serves (CONTRACT-ADMIN §3.1.3):
   * `rate_limit` once per client and window, `validation_failed` for each refused write body.
   */
  audit?(event: SecurityEvent): void;
}

export interface SecurityEvent {
  type: 'rate_limit' | 'validation_failed';
  client: string;
  op: Op;
  /** validation_failed: the error string answered. */
  reason?: string;
  /** rate_limit: seconds until the window ends. */
  retryAfterS?: number;
}

/** Phase 1, before any body is read: the rate limit and, for session commands, the lookup. */
export function admit(d: Dispatcher, op: Op, clientKey: string, sessionId?: string): SessionRecord | null | Answer {
  if (COMMANDS[op].write) {
    const decision = d.limiter.take(clientKey, d.now());
    if (!decision.allowed) {
      d.onRefused?.('rate');
      if (decision.first) {
        d.log?.warn({ event: 'rate_limit', client: clientKey, op }, 'rate limit exceeded');
        d.audit?.({ type: 'rate_limit', client: clientKey, op, retryAfterS: decision.retryAfterS });
      }
      return fail(429, RATE_LIMITED, decision.retryAfterS);
    }
  }
  // A cold session exists; it is loaded in phase 2, before its rule runs.
  if (sessionId !== undefined && COMMANDS[op].session && d.state.isCold(sessionId)) return null;
  return findSession(context(d), op, sessionId);
}

/**
 * Phase 2, with the body: refuses writes that cannot be queued (nothing changes then), runs the
 * rule, and calls `reply` once — at once, or after the commit in durable mode.
 */
export function complete(
  d: Dispatcher,
  op: Op,
  sessionId: string | undefined,
  body: unknown,
  reply: (a: Answer) => void,
  clientKey = '',
): void {
  if (COMMANDS[op].write) {
    if (d.isShuttingDown()) {
      d.onRefused?.('shutdown');
      return reply(fail(503, SHUTTING_DOWN, 1));
    }
    if (!d.queue.accepting()) {
      d.onRefused?.('queue');
      return reply(fail(503, QUEUE_FULL, 1));
    }
  }
  if (sessionId !== undefined && COMMANDS[op].session && d.state.isCold(sessionId)) {
    // Load it, then take this same path again (warm always leaves it warm or gone).
    d.warm(sessionId, (loaded) => (loaded ? complete(d, op, sessionId, body, reply, clientKey) : reply(fail(503, NOT_LOADED, 1))));
    return;
  }
  const ctx = context(d);
  // The session may have ended while the body was arriving: look it up again.
  const session = findSession(ctx, op, sessionId);
  if (session !== null && !isSession(session)) return reply(session);
  const answer = runCommand(ctx, op, session, body);
  if (d.log) logOutcome(d.log, op, answer);
  if (answer.status === 400 && d.audit && COMMANDS[op].write) d.audit({ type: 'validation_failed', client: clientKey, op, reason: String(answer.body.error) });
  if (answer.seq === null || d.ack === 'memory') return reply(answer);
  d.queue.whenDurable(answer.seq, (error) => reply(error === null ? answer : fail(503, NOT_DURABLE, 1)));
}

export function isSession(value: SessionRecord | Answer | null): value is SessionRecord {
  return value !== null && !('status' in value && 'body' in value);
}

function logOutcome(log: Pick<Logger, 'debug'>, op: Op, answer: Answer): void {
  if (answer.status === 400) log.debug({ event: 'validation_failed', op, error: answer.body.error }, 'validation failed');
  else if (op === 'session.create' && answer.status === 201) log.debug({ event: 'session_started', sessionId: answer.body.sessionId }, 'session started');
  else if (op === 'session.end' && answer.status === 200) log.debug({ event: 'session_ended', ...answer.body }, 'session ended');
}

function context(d: Dispatcher): CommandContext {
  return { state: d.state, info: d.info, nowMs: d.now() };
}
