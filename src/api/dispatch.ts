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
import { type CommandContext, COMMANDS, findSession, type Op, runCommand, validArgs } from './commands.js';
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
}

/** Phase 1, before any body is read: the rate limit and, for session commands, the lookup. */
export function admit(d: Dispatcher, op: Op, clientKey: string, sessionId?: string): SessionRecord | null | Answer {
  if (COMMANDS[op].write) {
    const decision = d.limiter.take(clientKey, d.now());
    if (!decision.allowed) {
      d.onRefused?.('rate');
      if (decision.first) d.log?.warn({ event: 'rate_limit', client: clientKey, op }, 'rate limit exceeded');
      return fail(429, RATE_LIMITED, decision.retryAfterS);
    }
  }
  // A cold session exists; it is loaded in phase 2, before its rule runs.
  if (sessionId !== undefined && COMMANDS[op].session && d.state.isCold(sessionId)) return null;
  return findSession(context(d), op, sessionId);
}

/**
 * Runs `run` later, or never when the request is gone by then. HTTP passes one so that a write
 * whose answer will wait runs only after uWS has parsed what came with it (src/http/pending.ts).
 */
export type Schedule = (run: () => void) => void;

/**
 * Phase 2, with the body: refuses writes that cannot be queued (nothing changes then), runs the
 * rule, and calls `reply` once — at once, or after the commit in durable mode. With `schedule`,
 * refusals and invalid args are still answered at once; only a write that will change the state
 * and wait (ack=durable, or a cold session loaded first) goes through `schedule`, and takes this
 * same path again there.
 */
export function complete(d: Dispatcher, op: Op, sessionId: string | undefined, body: unknown, reply: (a: Answer) => void, schedule?: Schedule): void {
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
  const again = () => complete(d, op, sessionId, body, reply);
  if (sessionId !== undefined && COMMANDS[op].session && d.state.isCold(sessionId)) {
    // Load it, then take this same path again (warm always leaves it warm or gone).
    const loadThen = () => d.warm(sessionId, (loaded) => (loaded ? (schedule ?? now)(again) : reply(fail(503, NOT_LOADED, 1))));
    return schedule === undefined ? loadThen() : schedule(loadThen);
  }
  const ctx = context(d);
  // The session may have ended while the body was arriving: look it up again.
  const session = findSession(ctx, op, sessionId);
  if (session !== null && !isSession(session)) return reply(session);
  if (schedule !== undefined && COMMANDS[op].write && d.ack === 'durable' && validArgs(op, body)) return schedule(again);
  const answer = runCommand(ctx, op, session, body);
  if (d.log) logOutcome(d.log, op, answer);
  if (answer.seq === null || d.ack === 'memory') return reply(answer);
  d.queue.whenDurable(answer.seq, (error) => reply(error === null ? answer : fail(503, NOT_DURABLE, 1)));
}

const now: Schedule = (run) => run();

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
