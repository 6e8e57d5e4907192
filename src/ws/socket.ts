/**
 * One WebSocket connection as the hub sees it: what was copied from the upgrade request, how many
 * answers it is still owed, which public topics it follows, and whether it is closed. A closed
 * socket must never be touched again (uWS frees it), so every write goes through `sendTo`.
 */
import type { WebSocket } from 'uWebSockets.js';
import { encode } from './frames.js';

export interface SocketData {
  /** Rate-limit key: the remote address, or the proxy's client address with VIBEFIXER_TRUST_PROXY. */
  readonly key: string;
  /** Set in the close handler; answers that arrive later (durable mode) are dropped. */
  closed: boolean;
  /** Requests read but not yet answered. */
  inFlight: number;
  /** Public topic names this socket follows (the uWS topic is the JSON or the `bin:` variant). */
  readonly topics: Set<string>;
  /** When the client was last heard from (a frame or a pong), for the idle check. */
  lastSeenMs: number;
  /**
   * Hash of the admin session whose cookie came with the upgrade (same-origin only), else null:
   * only such a connection may follow the admin topics, and only while that session lives.
   */
  readonly adminHash: string | null;
}

export type Socket = WebSocket<SocketData>;

export function newSocketData(key: string, nowMs: number, adminHash: string | null = null): SocketData {
  return { key, closed: false, inFlight: 0, topics: new Set(), lastSeenMs: nowMs, adminHash };
}

/**
 * Sends one frame in the given encoding, unless the socket is closed. Corked, because answers in
 * durable mode are written from the queue's commit callback, outside any uWS handler. A reader
 * past the backpressure bound is closed by uWS (closeOnBackpressureLimit); the frame is dropped.
 */
export function sendTo(ws: Socket, frame: unknown, binary: boolean): void {
  if (ws.getUserData().closed) return;
  const bytes = encode(frame, binary);
  ws.cork(() => {
    ws.send(bytes, binary);
  });
}

/** Closes with a close frame carrying `code` and `reason`, unless already closed. */
export function closeWith(ws: Socket, code: number, reason: string): void {
  if (ws.getUserData().closed) return;
  ws.end(code, reason);
}
