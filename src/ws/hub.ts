/**
 * The WebSocket transport at /ws (protocol: README, "WebSocket API"): the uWS behaviour, connection bookkeeping,
 * and the hooks through which the state's changes and the queue's commits become pushes.
 *
 *   upgrade (copy headers, refuse when full or stopping) → open → message: decode → ops → answer
 *   sink ─ sessionChanged / statsChanged / highScoreAdded ─┐
 *   queue ─ persisted(seq) ────────────────────────────────┴→ topics → app.publish
 *
 * Owns the set of open sockets. Bounds: frame size, per-socket send buffer (slow readers are
 * closed by uWS, so buffered memory never passes connections × (bound + one frame)), idle time,
 * connections, answers owed per socket, subscriptions per socket. Never applies a rule.
 */
import type { Logger } from 'pino';
import { cookieValue } from '../admin/cookie.js';
import { sameOrigin } from '../admin/origin.js';
import type { AuditRow } from '../model/rows.js';
import { AdminTopics, type AdminTopicDeps } from './admin-topics.js';
import type { HighScoreRecord, SessionRecord } from '../model/protocol.js';
import type { Dispatcher } from '../api/dispatch.js';
import type { Config } from '../config.js';
import { clientKey } from '../http/client-key.js';
import { sendError } from '../http/respond.js';
import type { App } from '../http/server.js';
import {
  CLOSE_BAD_FRAME,
  CLOSE_SHUTTING_DOWN,
  CLOSE_TOO_MANY_IN_FLIGHT,
  MAX_IN_FLIGHT,
  REASON_INVALID_JSON,
  REASON_INVALID_MSGPACK,
  REASON_SHUTTING_DOWN,
  REASON_TOO_MANY_IN_FLIGHT,
} from './close-codes.js';
import { decodeFrame, UNDECODABLE } from './frames.js';
import { handleRequest, type OpDeps } from './ops.js';
import { closeWith, newSocketData, type Socket, type SocketData } from './socket.js';
import { startIdleCheck } from './idle.js';
import { Topics } from './topics.js';

export const WS_PATH = '/ws';
export const TOO_MANY_CONNECTIONS = 'Too many WebSocket connections';

export interface WsDeps {
  dispatcher: Dispatcher;
  config: Config;
  log: Logger;
  durableSeq(): number;
  /** The admin sessions and log behind the admin topics. */
  admin: Omit<AdminTopicDeps, 'pushMs'>;
}

export interface WsHub {
  readonly connections: number;
  /** Bytes waiting in every socket's send buffer (metrics; O(connections)). */
  bufferedBytes(): number;
  sessionChanged(record: SessionRecord): void;
  statsChanged(): void;
  highScoreAdded(record: HighScoreRecord): void;
  persisted(seq: number): void;
  /** A new audit/security log row (the admin:logs topic). */
  auditAppended(row: AuditRow): void;
  /** Admin sessions ended: connections opened with them are closed (4401). */
  adminSessionsEnded(hashes: readonly string[]): void;
  /** Refuses new connections and closes every socket with 4503 (after the final flush). */
  closeAll(): void;
}

export function registerWebSocket(app: App, deps: WsDeps): WsHub {
  const { config, log } = deps;
  const sockets = new Set<Socket>();
  const topics = new Topics(app, { dispatcher: deps.dispatcher, statsPushMs: config.statsPushMs, durableSeq: deps.durableSeq });
  const onError = (error: unknown, where: string) => log.error({ event: 'server_error', where, err: error }, 'unhandled error in WebSocket handler');
  const admin = new AdminTopics(app, { ...deps.admin, pushMs: config.statsPushMs });
  const opDeps: OpDeps = { dispatcher: deps.dispatcher, topics, admin, onError };
  let closing = false;
  const idle = startIdleCheck(sockets, config.wsIdleTimeoutS * 1000);

  app.ws<SocketData>(WS_PATH, {
    maxPayloadLength: config.wsMaxPayloadBytes,
    maxBackpressure: config.wsMaxBackpressureBytes,
    // Typed as a number in this build; any truthy value turns it on: a socket whose buffer passes
    // maxBackpressure is dropped instead of growing (or silently skipping pushes).
    closeOnBackpressureLimit: 1,
    // Idleness is ours (idle.ts: ping, then close with 4408); uWS's own would drop with 1006.
    idleTimeout: 0,
    sendPingsAutomatically: false,

    upgrade: (res, req, context) => {
      // Everything from `req` is copied now: uWS invalidates it when this handler returns.
      if (closing) return sendError(res, 503, REASON_SHUTTING_DOWN);
      if (sockets.size >= config.wsMaxConnections) return sendError(res, 503, TOO_MANY_CONNECTIONS);
      const data = newSocketData(clientKey(res, req, config.trustProxy), Date.now(), adminHashOf(req.getHeader('cookie'), req.getHeader('origin'), hostsOf(req.getHeader('host'), req.getHeader('x-forwarded-host'))));
      res.upgrade(
        data,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },

    open: (ws) => {
      sockets.add(ws);
      admin.opened(ws);
    },

    pong: (ws) => {
      ws.getUserData().lastSeenMs = Date.now();
    },

    message: (ws, message, isBinary) => {
      // Frames that arrived in the same read as one that closed the socket are not run.
      if (ws.getUserData().closed) return;
      ws.getUserData().lastSeenMs = Date.now();
      const request = decodeFrame(message, isBinary);
      if (request === UNDECODABLE) return closeWith(ws, CLOSE_BAD_FRAME, isBinary ? REASON_INVALID_MSGPACK : REASON_INVALID_JSON);
      if (ws.getUserData().inFlight >= MAX_IN_FLIGHT) {
        return closeWith(ws, CLOSE_TOO_MANY_IN_FLIGHT, REASON_TOO_MANY_IN_FLIGHT);
      }
      try {
        handleRequest(ws, request, isBinary, opDeps);
      } catch (error) {
        onError(error, 'ws message');
      }
    },

    close: (ws, code) => {
      ws.getUserData().closed = true;
      sockets.delete(ws);
      admin.closed(ws);
      // 1006 here is uWS's own: oversize or non-UTF-8 frame, backpressure limit (close-codes.ts).
      log.debug({ event: 'ws_closed', code, connections: sockets.size }, 'WebSocket closed');
    },
  });

  /** The hosts a request was sent to, as the admin HTTP routes see them (src/http/admin.ts). */
  function hostsOf(host: string, forwardedHost: string): string[] {
    const forwarded = config.trustProxy ? forwardedHost.split(',')[0].trim() : '';
    return forwarded === '' ? [host] : [host, forwarded];
  }

  /** The admin session of an upgrade: its cookie, if the request is same-origin (no cross-site hijack). */
  function adminHashOf(cookie: string, origin: string, hosts: string[]): string | null {
    if (!sameOrigin(origin, hosts)) return null;
    return deps.admin.sessions.find(cookieValue(cookie), Date.now())?.hash ?? null;
  }

  return {
    get connections() {
      return sockets.size;
    },
    bufferedBytes() {
      let total = 0;
      for (const ws of sockets) total += ws.getBufferedAmount();
      return total;
    },
    sessionChanged: (record) => {
      topics.sessionChanged(record);
      admin.sessionChanged(record);
    },
    auditAppended: (row) => admin.logAppended(row),
    adminSessionsEnded: (hashes) => admin.sessionsEnded(hashes),
    statsChanged: () => topics.statsChanged(),
    highScoreAdded: (record) => topics.highScoreAdded(record),
    persisted: (seq) => topics.persisted(seq),
    closeAll() {
      closing = true;
      idle.stop();
      topics.stop();
      admin.stop();
      // end() runs the close handler at once, which deletes from the set: iterate over a copy.
      for (const ws of [...sockets]) closeWith(ws, CLOSE_SHUTTING_DOWN, REASON_SHUTTING_DOWN);
    },
  };
}
