/**
 * What `/health` answers: liveness plus the storage state an operator acts on. Read-only: it
 * never changes the queue or the state, and it shows a quarantined file by its name only (the
 * absolute path of the data folder is nobody's business outside the host).
 */
import { basename } from 'node:path';
import type { OpenReply } from '../model/protocol.js';
import type { WriteBehindQueue } from '../persist/queue.js';

export type StorageState = 'ok' | 'degraded' | 'recovered-from-corruption';

export function storageState(queue: WriteBehindQueue, opened: OpenReply): StorageState {
  if (queue.degraded) return 'degraded';
  return opened.quarantinedTo !== null ? 'recovered-from-corruption' : 'ok';
}

export function healthBody(queue: WriteBehindQueue, opened: OpenReply): Record<string, unknown> {
  return {
    status: 'ok',
    storage: storageState(queue, opened),
    lastFlushAgeMs: queue.lastCommitAgeMs(),
    oldestUnflushedMs: queue.oldestUnflushedMs(),
    queueDepth: queue.depth,
    durableSeq: queue.durableSeq,
    ...(opened.quarantinedTo !== null ? { quarantinedTo: basename(opened.quarantinedTo) } : {}),
  };
}
