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
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { SessionRecord } from '../model/records.js';
import { type Answer, fail, SESSION_NOT_FOUND } from '../state/answer.js';
import type { ProcessInfo } from '../state/catalog.js';
import type { HotState } from '../state/hot-state.js';
import { type CommandContext, COMMANDS, type Op, runCommand } from './commands.js';
import type { RateLimiter } from './rate-limit.js';

export const RATE_LIMITED = 'Rate limit exceeded';
export const QUEUE_FULL = 'Server busy: too many unsaved changes, retry later';
export const SHUTTING_DOWN = 'Server is shutting down';
export const NOT_DURABLE = 'Change not saved in time: storage unavailable, retry later';
export const NOT_LOADED = 'Session could not be loaded: storage unavailable, retry later';
export const INVALID_IDEMPOTENCY_KEY = 'Invalid Idempotency-Key';
export const IDEMPOTENCY_KEY_REUSED = 'Idempotency-Key was already used with a different request';

/** A write's idempotency key, scoped to the client that sent it. */
export interface RetryKey {
  client: string;
  key: string;
}

/** 1–255 visible ASCII characters (a UUID, a ULID, a counter…). */
const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

/** The key as sent (undefined: none), or the 400 answer for a malformed one. */
export function readRetryKey(raw: unknown, client: string): RetryKey | undefined | Answer {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !KEY_SHAPE.test(raw)) return fail(400, INVALID_IDEMPOTENCY_KEY);
  return { client, key: raw };
}

/** What makes two requests "the same": the op, the session and the body (transport fields left out). */
function fingerprintOf(op: Op, sessionId: string | undefined, body: unknown): string {
  let canonical = body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const fields = body as Record<string, unknown>;
    canonical = Object.keys(fields)
      .filter((k) => k !== 'id' && k !== 'op' && k !== 'sessionId' && k !== 'idempotencyKey')
      .sort()
      .map((k) => [k, fields[k]]);
  }
  return createHash('sha256').update(`${op}\u0000${sessionId ?? ''}\u0000${JSON.stringify(canonical) ?? ''}`).digest('base64url').slice(0, 22);
}

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
  /** Counts refused writes (metrics). */
  onRefused?(reason: 'rate' | 'queue' | 'shutdown'): void;
  /**
   * Gameplay and security events of the original's log (CONTRACT §5): `rate_limit` (warn, once per
   * client and window), `session_started`/`session_ended` and `validation_failed` (debug: one line
   * per request would cost more than the request at full load).
   */
  log?: Pick<Logger, 'debug' | 'warn'>;
}

/**
 * Phase 1, before any body is read: the rate limit and, for session commands, whether the
 * session exists. Returns the answer that ends the request here, or null to read the body.
 */
export function admit(d: Dispatcher, op: Op, clientKey: string, sessionId?: string): Answer | null {
  if (COMMANDS[op].write) {
    const decision = d.limiter.take(clientKey, d.now());
    if (!decision.allowed) {
      d.onRefused?.('rate');
      if (decision.first) d.log?.warn({ event: 'rate_limit', client: clientKey, op }, 'rate limit exceeded');
      return fail(429, RATE_LIMITED, decision.retryAfterS);
    }
  }
  if (COMMANDS[op].session && !d.state.sessions.has(sessionId ?? '')) return fail(404, SESSION_NOT_FOUND);
  return null;
}

/**
 * Phase 2, with the body: refuses writes that cannot be queued (nothing changes then), finds the
 * session (loading it when it was not used since start-up), runs the rule, and calls `reply`
 * once — at once, or after the commit in durable mode.
 */
export function complete(
  d: Dispatcher,
  op: Op,
  sessionId: string | undefined,
  body: unknown,
  reply: (a: Answer) => void,
  retry?: RetryKey,
): void {
  let remember: Remember | undefined;
  if (retry !== undefined && COMMANDS[op].write) {
    const fingerprint = fingerprintOf(op, sessionId, body);
    const seen = d.state.idempotency.find(retry.client, retry.key, d.now());
    if (seen !== undefined) {
      // A repeat: the first answer, once it is durable; nothing runs, nothing changes.
      if (seen.fingerprint !== fingerprint) return reply(fail(422, IDEMPOTENCY_KEY_REUSED));
      return answerWhenDurable(d, seen.answer, reply);
    }
    remember = { ...retry, fingerprint };
  }
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
  if (!COMMANDS[op].session) return run(d, op, null, body, reply, remember);
  // The session may have ended while the body was arriving: it is looked up now.
  d.state.sessions.use(sessionId ?? '', (use) => {
    if (use === 'missing') reply(fail(404, SESSION_NOT_FOUND));
    else if (use === 'unavailable') reply(fail(503, NOT_LOADED, 1));
    else run(d, op, use, body, reply, remember);
  });
}

type Remember = RetryKey & { fingerprint: string };

function run(d: Dispatcher, op: Op, session: SessionRecord | null, body: unknown, reply: (a: Answer) => void, remember?: Remember): void {
  let answer = runCommand(context(d), op, session, body);
  if (d.log) logOutcome(d.log, op, answer);
  if (remember !== undefined && answer.seq !== null && answer.status < 300) {
    // Handed on in the same run as the write's own rows: both land in one batch.
    const seq = d.state.idempotency.remember(remember.client, remember.key, remember.fingerprint, answer, d.now());
    answer = { ...answer, seq: Math.max(answer.seq, seq) };
  }
  if (answer.seq === null || d.ack === 'memory') return reply(answer);
  answerWhenDurable(d, answer, reply);
}

function answerWhenDurable(d: Dispatcher, answer: Answer, reply: (a: Answer) => void): void {
  if (answer.seq === null) return reply(answer);
  d.queue.whenDurable(answer.seq, (error) => reply(error === null ? answer : fail(503, NOT_DURABLE, 1)));
}

function logOutcome(log: Pick<Logger, 'debug'>, op: Op, answer: Answer): void {
  if (answer.status === 400) log.debug({ event: 'validation_failed', op, error: answer.body.error }, 'validation failed');
  else if (op === 'session.create' && answer.status === 201) log.debug({ event: 'session_started', sessionId: answer.body.sessionId }, 'session started');
  else if (op === 'session.end' && answer.status === 200) log.debug({ event: 'session_ended', ...answer.body }, 'session ended');
}

function context(d: Dispatcher): CommandContext {
  return { state: d.state, info: d.info, nowMs: d.now() };
}
