/**
 * The WebSocket close codes this server sends, in the private 4xxx range, mirroring the HTTP
 * status a request would get (the README lists them, and test/readme.test.ts checks the list).
 *
 * Some limits are enforced by uWebSockets.js itself, which drops the TCP connection without a
 * close frame; the client sees 1006 (abnormal closure) for each of them:
 *   - a frame larger than VIBEFIXER_WS_MAX_PAYLOAD_BYTES, or a text frame that is not UTF-8,
 *   - a reader so slow that more than VIBEFIXER_WS_MAX_BACKPRESSURE_BYTES wait in its send buffer.
 * A close frame could not reach the slow reader anyway: it would queue behind the bytes it is not reading.
 * Idleness is checked by the hub itself (idle.ts), so an idle client gets 4408 rather than 1006.
 */
import { SHUTTING_DOWN } from '../api/dispatch.js';

/** A frame that cannot be decoded at all: text that is not JSON, binary that is not one msgpack value. */
export const CLOSE_BAD_FRAME = 4400;
/** The admin session this connection was opened with ended (logout or expiry): its admin topics stop. */
export const CLOSE_ADMIN_SESSION_ENDED = 4401;
/** A subscribe to an admin topic from a connection without a live admin session (a player's). */
export const CLOSE_ADMIN_ONLY = 4403;
/** Nothing heard from the client (no frame, no pong to our pings) for VIBEFIXER_WS_IDLE_TIMEOUT_S. */
export const CLOSE_IDLE = 4408;
/** More than MAX_IN_FLIGHT requests of one socket still waiting for their answer. */
export const CLOSE_TOO_MANY_IN_FLIGHT = 4429;
/** The server is stopping: sent to every socket after the final flush. */
export const CLOSE_SHUTTING_DOWN = 4503;

/** Every close code this server sends itself (the README lists them). */
export const WS_CLOSE_CODES: readonly number[] = Object.freeze([
  CLOSE_BAD_FRAME,
  CLOSE_ADMIN_SESSION_ENDED,
  CLOSE_ADMIN_ONLY,
  CLOSE_IDLE,
  CLOSE_TOO_MANY_IN_FLIGHT,
  CLOSE_SHUTTING_DOWN,
]);

/** The close reasons (the text the client receives with the code). */
export const REASON_INVALID_JSON = 'Invalid JSON';
export const REASON_INVALID_MSGPACK = 'Invalid msgpack';
export const REASON_TOO_MANY_IN_FLIGHT = 'Too many requests in flight';
export const REASON_IDLE = 'Idle timeout';
export const REASON_ADMIN_ONLY = 'Admin session required';
export const REASON_ADMIN_SESSION_ENDED = 'Admin session ended';
/** The same text as the 503 answer to a write during shutdown. */
export const REASON_SHUTTING_DOWN = SHUTTING_DOWN;

/**
 * Answers one socket may owe at once. In durable mode an answer waits for its commit (up to
 * VIBEFIXER_DURABLE_WAIT_MS); a client that pipelines more than this without waiting for answers is
 * closed with 4429 instead of making the server hold an unbounded number of callbacks.
 */
export const MAX_IN_FLIGHT = 1_024;

/** Topics one socket may be subscribed to at once; past it `subscribe` answers 400. */
export const MAX_SUBSCRIPTIONS = 100;
