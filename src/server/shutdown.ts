/**
 * Graceful stop and online backup (DESIGN invariant 5): stop listening, refuse new writes, drain
 * the queue within VIBEFIXER_SHUTDOWN_TIMEOUT_MS, close the database, close the sockets.
 * Correctness never depends on this running: a kill -9 loses nothing beyond the stated window.
 *
 * Never: reject (a failure is logged and reported as `flushed: false`), or close the database
 * while a batch may still be in flight.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { WorkerClient } from '../persist/client.js';
import type { WriteBehindQueue } from '../persist/queue.js';

/** `data/vibefixer.sqlite` → `data/backups/vibefixer-20261126T143500123Z.sqlite`. */
export function backupPath(dbPath: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  return join(dirname(dbPath), 'backups', `${basename(dbPath, extname(dbPath))}-${stamp}${extname(dbPath) || '.sqlite'}`);
}

export interface ShutdownParts {
  config: Config;
  log: Logger;
  queue: WriteBehindQueue;
  client: WorkerClient;
  /** Closes the listen socket: no new connections. */
  stopListening(): void;
  /** From here on writes are refused (503) and the timers stop. */
  refuseWrites(): void;
  closeSockets(): void;
}

/** Returns `close(reason)`: idempotent, resolves once the database is closed. */
export function shutdownSequence(p: ShutdownParts): (reason: string) => Promise<{ flushed: boolean }> {
  let closing: Promise<{ flushed: boolean }> | null = null;
  return (reason) => {
    closing ??= (async () => {
      const { log, queue, client, config } = p;
      log.info({ event: 'shutdown_start', reason, queueDepth: queue.depth }, 'shutting down');
      p.stopListening();
      p.refuseWrites();
      const flushed = await Promise.race([
        queue.drain().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, false).unref()),
      ]);
      queue.stop();
      if (!flushed) log.error({ event: 'shutdown_flush_timeout', queueDepth: queue.depth }, 'final flush did not finish in time');
      const closed = await client.run({ kind: 'close' });
      if (!closed.ok) log.error({ event: 'close_failed', error: closed }, 'closing the database failed');
      await client.destroy();
      p.closeSockets();
      log.info({ event: 'shutdown_done', flushed, durableSeq: queue.durableSeq }, 'stopped');
      return { flushed };
    })();
    return closing;
  };
}

/** Online backup of the committed state into `<db folder>/backups/`; resolves to the file. */
export async function backupNow(client: WorkerClient, config: Config, log: Logger, durableSeq: () => number): Promise<string> {
  const destPath = backupPath(config.dbPath, new Date());
  const reply = await client.run({ kind: 'backup', destPath });
  if (!reply.ok) throw new Error(`backup failed: ${reply.code}: ${reply.message}`);
  log.info({ event: 'backup_done', destPath, pages: reply.totalPages, durableSeq: durableSeq() }, 'backup written');
  return destPath;
}
