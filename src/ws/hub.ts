/**
 * WebSocket transport (/ws) — PLACEHOLDER being replaced by the full implementation.
 */
import type { Logger } from 'pino';
import type { HighScoreRecord, SessionRecord } from '../../workers/protocol.js';
import type { Dispatcher } from '../api/dispatch.js';
import type { Config } from '../config.js';
import type { App } from '../http/server.js';

export interface WsDeps {
  dispatcher: Dispatcher;
  config: Config;
  log: Logger;
  durableSeq(): number;
}

export interface WsHub {
  readonly connections: number;
  bufferedBytes(): number;
  sessionChanged(record: SessionRecord): void;
  statsChanged(): void;
  highScoreAdded(record: HighScoreRecord): void;
  persisted(seq: number): void;
  closeAll(): void;
}

export function registerWebSocket(_app: App, _deps: WsDeps): WsHub {
  return {
    connections: 0,
    bufferedBytes: () => 0,
    sessionChanged: () => {},
    statsChanged: () => {},
    highScoreAdded: () => {},
    persisted: () => {},
    closeAll: () => {},
  };
}
