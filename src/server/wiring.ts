/**
 * The storage half of the composition root: open the database through the worker (refusing to
 * start on a database we must not touch), and build the write-behind queue with its metrics and
 * log events.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { OpenReply, StorageOptions, TaskError } from '../model/protocol.js';
import type { WorkerClient } from '../persist/client.js';
import { type BatchStore, WriteBehindQueue } from '../persist/queue.js';
import { localDayBounds } from '../state/day.js';
import type { Metrics } from './metrics.js';

export class StartupError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The storage the configuration names, as the worker opens it. */
export function storageOptions(config: Config): StorageOptions {
  if (config.storage === 'postgres' && config.pgUrl !== null) {
    return { driver: 'postgres', url: config.pgUrl, poolSize: config.pgPoolSize, statementTimeoutMs: config.pgStatementTimeoutMs };
  }
  return {
    driver: 'sqlite',
    dbPath: config.dbPath,
    synchronous: config.sqliteSynchronous,
    checkpointIntervalMs: config.checkpointIntervalMs,
    logCheckpoints: config.logLevel === 'debug' || config.logLevel === 'trace',
  };
}

export async function openDatabase(client: WorkerClient, config: Config, log: Logger): Promise<OpenReply> {
  const today = localDayBounds(Date.now());
  const reply: OpenReply | TaskError = await client.run({
    kind: 'open',
    storage: storageOptions(config),
    todayStartMs: today.startMs,
    todayEndMs: today.endMs,
  });
  if (!reply.ok) throw new StartupError(reply.message, reply.code);
  if (reply.quarantinedTo !== null) {
    log.error(
      { event: 'database_quarantined', dbPath: reply.location, quarantinedTo: reply.quarantinedTo, reason: reply.quarantineReason },
      'DATABASE WAS CORRUPT: moved aside with its -wal/-shm files; starting with an EMPTY database',
    );
  }
  log.info(
    { event: 'database_open', driver: reply.driver, location: reply.location, created: reply.created, integrityChecked: reply.integrityChecked, schemaVersion: reply.schemaVersion, migratedFrom: reply.migratedFrom, lastSeq: reply.lastSeq },
    'database open',
  );
  return reply;
}

export interface QueueHooks {
  /** A batch committed: the WS hub publishes the new durable seq. */
  onCommitted(seq: number): void;
}

export function createQueue(
  store: BatchStore,
  config: Config,
  lastSeq: number,
  metrics: Metrics,
  log: Logger,
  hooks: QueueHooks,
): WriteBehindQueue {
  return new WriteBehindQueue(
    store,
    {
      flushIntervalMs: config.flushIntervalMs,
      flushMaxBatch: config.flushMaxBatch,
      maxPending: config.queueMaxPending,
      durableWaitMs: config.durableWaitMs,
      retryMaxBackoffMs: config.retryMaxBackoffMs,
      lastSeq,
    },
    {
      committed: (c) => {
        metrics.batchSize.observe(c.entities);
        metrics.commitDuration.observe(c.commitMs / 1000);
        hooks.onCommitted(c.seq);
      },
      failed: (f) => {
        metrics.retries.inc();
        const error = f.error instanceof Error ? { message: f.error.message } : f.error;
        log.error({ event: 'batch_failed', seq: f.seq, attempt: f.attempt, retryInMs: f.retryInMs, error }, 'batch failed; kept and retried');
      },
      recovered: (r) => log.warn({ event: 'storage_recovered', seq: r.seq, attempts: r.attempts }, 'storage recovered'),
    },
  );
}
