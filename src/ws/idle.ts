/**
 * The idle check of WebSocket connections, done here rather than by uWS (whose idle timeout drops
 * the TCP connection, so the client would see 1006): a timer pings every connection silent for half
 * the timeout, and closes with 4408 one that stayed silent for the whole timeout. Browsers and the
 * `ws` package answer pings, so a live client is never idle. Cost: one pass over the connections per
 * tick, on a timer, never on a request.
 */
import { CLOSE_IDLE, REASON_IDLE } from './close-codes.js';
import { closeWith, type Socket } from './socket.js';

/** Longest time between two passes: bounds how late past the timeout an idle socket is closed. */
const MAX_TICK_MS = 5_000;

export function startIdleCheck(sockets: ReadonlySet<Socket>, idleMs: number, now: () => number = Date.now): { stop(): void } {
  const timer = setInterval(() => {
    const t = now();
    for (const ws of [...sockets]) {
      const silentMs = t - ws.getUserData().lastSeenMs;
      if (silentMs >= idleMs) closeWith(ws, CLOSE_IDLE, REASON_IDLE);
      else if (silentMs >= idleMs / 2) ws.ping();
    }
  }, Math.min(MAX_TICK_MS, Math.max(250, Math.floor(idleMs / 4))));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
