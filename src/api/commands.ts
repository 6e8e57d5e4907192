/**
 * The command table: every player command once, shared by HTTP and WebSocket. A transport
 * turns its request into (op, sessionId?, body) and calls `execute`; it never applies a rule
 * itself. The order of checks is the contract's: the session is looked up before the body is
 * read (an unknown session is 404 even with an invalid body), then the body is validated, then
 * the rule runs.
 */
import type { SessionRecord } from '../model/protocol.js';
import { type Answer, fail } from '../state/answer.js';
import {
  activeNotices,
  addHighScore,
  listHighScores,
  type ProcessInfo,
  sessionStats,
  systemStats,
} from '../state/catalog.js';
import type { HotState } from '../state/hot-state.js';
import {
  createSession,
  depositArtifact,
  endSession,
  lookupSession,
  setArtifactStatus,
  spawnArtifact,
} from '../state/sessions.js';
import { readArtifactStatus, readCreate, readDeposit, readEnd, readHighScore, readSpawn } from './args.js';
import { asFields, Invalid } from './fields.js';

export interface CommandContext {
  state: HotState;
  info: ProcessInfo;
  nowMs: number;
}

type Body = Record<string, unknown>;

interface Command {
  /** Writes count against the per-client rate limit and are refused while the queue is full. */
  readonly write: boolean;
  /** Takes a session id (a path segment over HTTP, `sessionId` over WS). */
  readonly session: boolean;
  run(ctx: CommandContext, body: Body, session: SessionRecord): Answer;
}

/** Validates the body with `read`, answers 400 with the contract's text, or runs `then`. */
function validated<A>(read: (body: Body) => A | Invalid, then: (ctx: CommandContext, args: A, s: SessionRecord) => Answer) {
  return (ctx: CommandContext, body: Body, session: SessionRecord): Answer => {
    const args = read(body);
    return args instanceof Invalid ? fail(400, args.message) : then(ctx, args, session);
  };
}

const noArgs = () => ({});

export const COMMANDS = {
  'session.create': {
    write: true,
    session: false,
    run: validated(readCreate, (c, a) => createSession(c.state, a.durationSeconds, c.nowMs)),
  },
  'session.spawn': {
    write: true,
    session: true,
    run: validated(readSpawn, (c, a, s) => spawnArtifact(c.state, s, a.x, a.y, c.nowMs)),
  },
  'session.artifactStatus': {
    write: true,
    session: true,
    run: validated(readArtifactStatus, (c, a, s) => setArtifactStatus(c.state, s, a.artifactId, a.status, c.nowMs)),
  },
  'session.deposit': {
    write: true,
    session: true,
    run: validated(readDeposit, (c, a, s) => depositArtifact(c.state, s, a.artifactId, c.nowMs)),
  },
  'session.end': {
    write: true,
    session: true,
    run: validated(readEnd, (c, a, s) => endSession(c.state, s, a.result, c.nowMs)),
  },
  'stats.get': { write: false, session: false, run: validated(noArgs, (c) => sessionStats(c.state, c.nowMs)) },
  'highScores.list': { write: false, session: false, run: validated(noArgs, (c) => listHighScores(c.state)) },
  'highScores.add': {
    write: true,
    session: false,
    run: validated(readHighScore, (c, a) => addHighScore(c.state, a, c.nowMs)),
  },
  'notices.active': { write: false, session: false, run: validated(noArgs, (c) => activeNotices(c.state, c.nowMs)) },
  'system.stats': { write: false, session: false, run: validated(noArgs, (c) => systemStats(c.state, c.info, c.nowMs)) },
} as const satisfies Record<string, Command>;

export type Op = keyof typeof COMMANDS;

export function isOp(name: unknown): name is Op {
  return typeof name === 'string' && Object.hasOwn(COMMANDS, name);
}

/** Phase 2: validate the body and run the rule. `body` may be any decoded JSON/msgpack value. */
export function runCommand(ctx: CommandContext, op: Op, session: SessionRecord | null, body: unknown): Answer {
  return COMMANDS[op].run(ctx, asFields(body), session as SessionRecord);
}
