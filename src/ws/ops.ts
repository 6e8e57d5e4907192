/**
 * One decoded request → one answer. Command ops take the same path as HTTP (`admit`, then
 * `complete` with the request object itself as the body), so validation, error statuses and
 * error strings are the HTTP ones; `subscribe`/`unsubscribe` manage the socket's topics.
 *
 *   not an object ............................ 400 'Frame must be an object'   (id null)
 *   id not a string/number/boolean/null ...... 400 'Invalid id'                 (id null)
 *   op missing, not a string, or unknown ..... 400 'Unknown op'
 *   command op ............................... whatever HTTP answers for the same command
 *   subscribe/unsubscribe .................... 400 'Unknown topic', 404 'Session not found',
 *                                              400 'Too many subscriptions'
 *
 * Never: apply a rule, or answer a socket twice for one request.
 */
import { COMMANDS, isOp, type Op } from '../api/commands.js';
import { admit, complete, type Dispatcher, readRetryKey } from '../api/dispatch.js';
import { type Answer, fail } from '../state/answer.js';
import { MAX_SUBSCRIPTIONS } from './close-codes.js';
import { answerFrame, errorFrame, isRequestId, okFrame, pushFrame, type RequestId } from './frames.js';
import { sendTo, type Socket } from './socket.js';
import { isTopicName, type Topics, UNKNOWN_TOPIC, wireTopic } from './topics.js';

export const NOT_AN_OBJECT = 'Frame must be an object';
export const INVALID_ID = 'Invalid id';
export const UNKNOWN_OP = 'Unknown op';
export const TOO_MANY_SUBSCRIPTIONS = 'Too many subscriptions';
export const INTERNAL_ERROR = 'Internal Server Error';

export interface OpDeps {
  dispatcher: Dispatcher;
  topics: Topics;
  onError(error: unknown, where: string): void;
}

type Request = Record<string, unknown>;

function isRequest(value: unknown): value is Request {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Answers one decoded frame on `ws`, in the encoding it came in (`binary`). */
export function handleRequest(ws: Socket, request: unknown, binary: boolean, deps: OpDeps): void {
  const reply = (frame: unknown) => sendTo(ws, frame, binary);
  if (!isRequest(request)) return reply(errorFrame(null, 400, NOT_AN_OBJECT));
  // A missing id is answered with id null; a non-scalar one cannot be echoed.
  const id = request.id === undefined ? null : request.id;
  if (!isRequestId(id)) return reply(errorFrame(null, 400, INVALID_ID));
  const op = request.op;
  if (op === 'subscribe') return subscribe(ws, request, id, binary, deps.topics);
  if (op === 'unsubscribe') return unsubscribe(ws, request, id, binary);
  if (!isOp(op)) return reply(errorFrame(id, 400, UNKNOWN_OP));
  runCommandOp(ws, op, request, id, binary, deps);
}

function runCommandOp(ws: Socket, op: Op, request: Request, id: RequestId, binary: boolean, deps: OpDeps): void {
  const data = ws.getUserData();
  // Over HTTP the session id is a path segment, always a string; here a non-string is "no id": 404.
  const sessionId = COMMANDS[op].session && typeof request.sessionId === 'string' ? request.sessionId : undefined;
  let answered = false;
  const done = (answer: Answer) => {
    if (answered) return;
    answered = true;
    data.inFlight -= 1;
    sendTo(ws, answerFrame(id, answer), binary);
  };
  data.inFlight += 1;
  try {
    const refused = admit(deps.dispatcher, op, data.key, sessionId);
    if (refused !== null) return done(refused);
    const retry = COMMANDS[op].write ? readRetryKey(request.idempotencyKey, data.key) : undefined;
    if (retry !== undefined && 'status' in retry) return done(retry);
    complete(deps.dispatcher, op, sessionId, request, done, retry);
  } catch (error) {
    deps.onError(error, `ws ${op}`);
    done(fail(500, INTERNAL_ERROR));
  }
}

function subscribe(ws: Socket, request: Request, id: RequestId, binary: boolean, topics: Topics): void {
  const topic = request.topic;
  const refusal = topics.refusal(topic);
  if (refusal !== null) return sendTo(ws, errorFrame(id, refusal.status, refusal.message), binary);
  const name = topic as string;
  const followed = ws.getUserData().topics;
  if (!followed.has(name) && followed.size >= MAX_SUBSCRIPTIONS) {
    return sendTo(ws, errorFrame(id, 400, TOO_MANY_SUBSCRIPTIONS), binary);
  }
  // One variant per socket: subscribing again in the other encoding switches it.
  ws.unsubscribe(wireTopic(name, !binary));
  ws.subscribe(wireTopic(name, binary));
  followed.add(name);
  sendTo(ws, okFrame(id, { topic: name }), binary);
  topics.current(name, (data) => sendTo(ws, pushFrame(name, data), binary));
}

function unsubscribe(ws: Socket, request: Request, id: RequestId, binary: boolean): void {
  const topic = request.topic;
  if (!isTopicName(topic)) return sendTo(ws, errorFrame(id, 400, UNKNOWN_TOPIC), binary);
  ws.unsubscribe(wireTopic(topic, false));
  ws.unsubscribe(wireTopic(topic, true));
  ws.getUserData().topics.delete(topic);
  sendTo(ws, okFrame(id, { topic }), binary);
}
