/**
 * The composition root: opens the database through the worker, reloads the hot state, wires
 * state → queue → worker and the transports, and only then listens.
 *
 *   open (worker) → reload pages → HotState → [sweep stale] → routes (HTTP, WS) → listen
 *
 * Shutdown runs the same way backwards (DESIGN invariant 5): stop listening, refuse writes,
 * drain the queue (bounded), checkpoint, close the file, close sockets.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { Logger } from 'pino';
import type { OpenReply, TaskError } from './model/protocol.js';
import type { Dispatcher } from './api/dispatch.js';
import { RateLimiter } from './api/rate-limit.js';
import type { Config } from './config.js';
import { registerRoutes } from './http/app.js';
import { createApp, listen } from './http/server.js';
import { StaticFiles } from './http/static.js';
import { Metrics } from './metrics.js';
import { WorkerClient } from './persist/client.js';
import { type BatchStore, WriteBehindQueue } from './persist/queue.js';
import { checkStoredSessions } from './persist/check.js';
import { ColdLoader } from './persist/cold.js';
import { reloadState } from './persist/reload.js';
import type { DirtySink } from './persist/sink.js';
import { forgetHighScoresBefore } from './state/catalog.js';
import { localDayBounds } from './state/day.js';
import { HIGH_SCORE_LIST_LIMIT, HotState } from './state/hot-state.js';
import { SERVER_VERSION } from './version.js';
import { registerWebSocket, type WsHub } from './ws/hub.js';
import { startTimers } from './timers.js';

/** `data/vibefixer.sqlite` → `data/backups/vibefixer-20261126T143500123Z.sqlite`. */
export function backupPath(dbPath: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, '');
  return join(dirname(dbPath), 'backups', `${basename(dbPath, extname(dbPath))}-${stamp}${extname(dbPath) || '.sqlite'}`);
}

export class StartupError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface RunningServer {
  port: number;
  state: HotState;
  queue: WriteBehindQueue;
  /** Graceful stop; resolves when the file is closed. Never rejects. */
  close(reason: string): Promise<{ flushed: boolean }>;
  /** Online backup of the committed state into `<db folder>/backups/`; resolves to the file. */
  backup(): Promise<string>;
}

async function openDatabase(client: WorkerClient, config: Config, log: Logger): Promise<OpenReply> {
  const today = localDayBounds(Date.now());
  const reply: OpenReply | TaskError = await client.run({
    kind: 'open',
    dbPath: config.dbPath,
    synchronous: config.sqliteSynchronous,
    todayStartMs: today.startMs,
    todayEndMs: today.endMs,
  });
  if (!reply.ok) throw new StartupError(reply.message, reply.code);
  if (reply.quarantinedTo !== null) {
    log.error(
      { event: 'database_quarantined', dbPath: config.dbPath, quarantinedTo: reply.quarantinedTo, reason: reply.quarantineReason },
      'DATABASE WAS CORRUPT: moved aside with its -wal/-shm files; starting with an EMPTY database',
    );
  }
  log.info(
    { event: 'database_open', dbPath: config.dbPath, created: reply.created, schemaVersion: reply.schemaVersion, migratedFrom: reply.migratedFrom, lastSeq: reply.lastSeq },
    'database open',
  );
  return reply;
}

/** Seams for tests: wrap the worker client to inject faults, or load a different worker file. */
export interface StartOptions {
  wrapStore?(store: BatchStore): BatchStore;
  workerFile?: string;
}

export async function startServer(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningServer> {
  const startedAtMs = Date.now();
  const staticFiles = config.staticDir === null ? null : new StaticFiles(config.staticDir);
  if (staticFiles) log.info({ event: 'static_loaded', dir: staticFiles.root, files: staticFiles.count, bytes: staticFiles.bytes }, 'static files loaded');

  const client = new WorkerClient({ dbPath: config.dbPath, synchronous: config.sqliteSynchronous }, opts.workerFile);
  let opened: OpenReply;
  try {
    opened = await openDatabase(client, config, log);
  } catch (error) {
    await client.destroy();
    throw error;
  }

  let ws: WsHub | null = null;
  let state: HotState | null = null;
  const metrics = new Metrics({
    queueDepth: () => queue.depth,
    oldestUnflushedSeconds: () => queue.oldestUnflushedMs() / 1000,
    durableSeq: () => queue.durableSeq,
    sessionsActive: () => state?.sessions.size ?? 0,
    wsConnections: () => ws?.connections ?? 0,
    wsBufferedBytes: () => ws?.bufferedBytes() ?? 0,
  });
  const queue = new WriteBehindQueue(
    opts.wrapStore ? opts.wrapStore(client) : client,
    {
      flushIntervalMs: config.flushIntervalMs,
      flushMaxBatch: config.flushMaxBatch,
      maxPending: config.queueMaxPending,
      durableWaitMs: config.durableWaitMs,
      retryMaxBackoffMs: config.retryMaxBackoffMs,
      lastSeq: opened.lastSeq,
    },
    {
      committed: (c) => {
        metrics.batchSize.observe(c.entities);
        metrics.commitDuration.observe(c.commitMs / 1000);
        ws?.persisted(c.seq);
      },
      failed: (f) => {
        metrics.retries.inc();
        const error = f.error instanceof Error ? { message: f.error.message } : f.error;
        log.error({ event: 'batch_failed', seq: f.seq, attempt: f.attempt, retryInMs: f.retryInMs, error }, 'batch failed; kept and retried');
      },
      recovered: (r) => log.warn({ event: 'storage_recovered', seq: r.seq, attempts: r.attempts }, 'storage recovered'),
    },
  );

  // Every change goes to the queue; the WS hub sees the same calls to push live updates.
  const sink: DirtySink = {
    session: (r, level) => (ws?.sessionChanged(r), queue.session(r, level)),
    stats: (r) => (ws?.statsChanged(), queue.stats(r)),
    highScore: (r) => (ws?.highScoreAdded(r), queue.highScore(r)),
    notice: (r) => queue.notice(r),
    setting: (r) => queue.setting(r),
  };
  const hot = new HotState(sink, Date.now());
  state = hot;
  // Sessions reloaded at start-up are cold until first used (src/persist/cold.ts).
  const loader = new ColdLoader(client, log, () => metrics.skippedRows.inc());
  const warm = (id: string, then: (loaded: boolean) => void) =>
    loader.load(id, (loaded) => {
      if (loaded.ok) hot.warm(id, loaded.record, Date.now());
      then(loaded.ok);
    });
  hot.onColdExpired = (id) =>
    warm(id, (loaded) => {
      // Storage unreadable: keep it cold and let a later sweep try again.
      if (!loaded) hot.deadlines.push(Date.now() + config.staleSweepIntervalMs, id);
    });

  log.info({ event: 'reload_start' }, 'reloading state');
  const reload = await reloadState(client, { highScoreLimit: HIGH_SCORE_LIST_LIMIT, onSessions: (r) => hot.loadSessions(r), log });
  hot.loadRest({ ...reload.rest, sessionsToday: opened.sessionsToday });
  const staleBefore = hot.stats.staleEndedCount;
  hot.sweepStale(Date.now());
  // Sessions that went stale while the server was down are loaded and ended before the port opens.
  await loader.idle();
  const staleAtStart = hot.stats.staleEndedCount - staleBefore;
  metrics.reloadDuration.set(reload.durationMs / 1000);
  metrics.reloadRows.set({ kind: 'sessions' }, reload.sessions);
  metrics.reloadRows.set({ kind: 'high_scores' }, reload.rest.highScores.length);
  log.info(
    {
      event: 'reload_done',
      sessions: reload.sessions,
      skippedRows: reload.rest.skipped + loader.skipped,
      highScores: reload.rest.highScores.length,
      notices: reload.rest.notices.length,
      staleEndedAtStart: staleAtStart,
      durationMs: Math.round(reload.durationMs),
    },
    'state reloaded',
  );

  let shuttingDown = false;
  const limiter = new RateLimiter(config.rateLimitPerMin);
  const dispatcher: Dispatcher = {
    state: hot,
    info: { startedAtMs, version: SERVER_VERSION },
    limiter,
    queue,
    ack: config.ack,
    isShuttingDown: () => shuttingDown,
    now: Date.now,
    onRefused: (reason) => metrics.writesRefused.inc({ reason }),
    warm,
    log,
  };
  const storageState = () =>
    queue.degraded ? 'degraded' : opened.quarantinedTo !== null ? 'recovered-from-corruption' : 'ok';

  const app = createApp();
  registerRoutes(app, {
    dispatcher,
    trustProxy: config.trustProxy,
    staticFiles,
    health: () => ({
      status: 'ok',
      storage: storageState(),
      lastFlushAgeMs: queue.lastCommitAgeMs(),
      oldestUnflushedMs: queue.oldestUnflushedMs(),
      queueDepth: queue.depth,
      durableSeq: queue.durableSeq,
      ...(opened.quarantinedTo !== null ? { quarantinedTo: opened.quarantinedTo } : {}),
    }),
    metrics: () => metrics.text(),
    onError: (error, where) => log.error({ event: 'server_error', where, err: error }, 'unhandled error in handler'),
  });
  ws = registerWebSocket(app, { dispatcher, config, log, durableSeq: () => queue.durableSeq });

  const listening = await listen(app, config.host, config.port);
  // Undecodable session rows are found after the port opened (src/persist/check.ts).
  const sessionCheck = checkStoredSessions(client, {
    onSkipped: (id) => {
      hot.warm(id, null, Date.now());
      metrics.skippedRows.inc();
    },
    log,
    stopped: () => shuttingDown,
  });
  const timers = startTimers({ config, state: hot, queue, client, limiter, log, onRetention: (cutoffMs) => forgetHighScoresBefore(hot, cutoffMs) });
  log.info(
    { event: 'listening', host: config.host, port: listening.port, ack: config.ack, synchronous: config.sqliteSynchronous, startupMs: Date.now() - startedAtMs },
    `listening on ${config.host}:${listening.port}`,
  );

  let closing: Promise<{ flushed: boolean }> | null = null;
  const close = (reason: string) => {
    closing ??= (async () => {
      log.info({ event: 'shutdown_start', reason, queueDepth: queue.depth }, 'shutting down');
      listening.stop();
      shuttingDown = true;
      timers.stop();
      await sessionCheck;
      const flushed = await Promise.race([
        queue.drain().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, false).unref()),
      ]);
      queue.stop();
      if (!flushed) log.error({ event: 'shutdown_flush_timeout', queueDepth: queue.depth }, 'final flush did not finish in time');
      const closed = await client.run({ kind: 'close' });
      if (!closed.ok) log.error({ event: 'close_failed', error: closed }, 'closing the database failed');
      await client.destroy();
      ws?.closeAll();
      log.info({ event: 'shutdown_done', flushed, durableSeq: queue.durableSeq }, 'stopped');
      return { flushed };
    })();
    return closing;
  };
  const backup = async () => {
    const destPath = backupPath(config.dbPath, new Date());
    const reply = await client.run({ kind: 'backup', destPath });
    if (!reply.ok) throw new Error(`backup failed: ${reply.code}: ${reply.message}`);
    log.info({ event: 'backup_done', destPath, pages: reply.totalPages, durableSeq: queue.durableSeq }, 'backup written');
    return destPath;
  };
  return { port: listening.port, state: hot, queue, close, backup };
}
