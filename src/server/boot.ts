/**
 * The composition root, in start-up order: open the database through the worker (wiring.ts),
 * reload the hot state, wire state → queue → worker and the transports, and only then listen.
 *
 *   open (worker) → reload pages → HotState → [sweep stale] → routes (HTTP, WS) → listen
 *
 * Shutdown (shutdown.ts) runs the same way backwards (DESIGN invariant 5); /health is health.ts.
 */
import type { Logger } from 'pino';
import type { Dispatcher } from '../api/dispatch.js';
import { RateLimiter } from '../api/rate-limit.js';
import type { Config } from '../config.js';
import { registerRoutes } from '../http/app.js';
import { createApp, listen } from '../http/server.js';
import { StaticFiles } from '../http/static.js';
import type { OpenReply } from '../model/protocol.js';
import { checkStoredSessions } from '../persist/check.js';
import { WorkerClient } from '../persist/client.js';
import { ColdLoader } from '../persist/cold.js';
import type { BatchStore, WriteBehindQueue } from '../persist/queue.js';
import { reloadState } from '../persist/reload.js';
import type { DirtySink } from '../persist/sink.js';
import { forgetHighScoresBefore } from '../state/catalog.js';
import { HIGH_SCORE_LIST_LIMIT, HotState } from '../state/hot-state.js';
import { registerWebSocket, type WsHub } from '../ws/hub.js';
import { healthBody } from './health.js';
import { Metrics } from './metrics.js';
import { backupNow, shutdownSequence } from './shutdown.js';
import { startTimers } from './timers.js';
import { SERVER_VERSION } from './version.js';
import { createQueue, openDatabase, StartupError } from './wiring.js';

export { StartupError } from './wiring.js';
export { backupPath } from './shutdown.js';

export interface RunningServer {
  port: number;
  state: HotState;
  queue: WriteBehindQueue;
  /** Graceful stop; resolves when the file is closed. Never rejects. */
  close(reason: string): Promise<{ flushed: boolean }>;
  /** Online backup of the committed state into `<db folder>/backups/`; resolves to the file. */
  backup(): Promise<string>;
}

/** Seams for tests: wrap the worker client to inject faults, or load a different worker file. */
export interface StartOptions {
  wrapStore?(store: BatchStore): BatchStore;
  workerFile?: string;
}

export async function startServer(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningServer> {
  const startedAtMs = Date.now();
  // Until the PostgreSQL driver (workers/postgres/) is wired into the worker, refuse rather than
  // silently run on SQLite. The lead removes this when wiring openPostgres.
  if (config.storage !== 'sqlite') {
    throw new StartupError(`VIBEFIXER_STORAGE=${config.storage} is not wired into this build yet; use sqlite`, 'UNSUPPORTED');
  }
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
  const queue = createQueue(opts.wrapStore ? opts.wrapStore(client) : client, config, opened.lastSeq, metrics, log, {
    onCommitted: (seq) => ws?.persisted(seq),
  });

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
  const app = createApp();
  registerRoutes(app, {
    dispatcher,
    trustProxy: config.trustProxy,
    staticFiles,
    health: () => healthBody(queue, opened),
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

  const close = shutdownSequence({
    config,
    log,
    queue,
    client,
    stopListening: () => listening.stop(),
    refuseWrites: () => {
      shuttingDown = true;
      timers.stop();
    },
    backgroundDone: () => sessionCheck,
    closeSockets: () => ws?.closeAll(),
  });
  const backup = () => backupNow(client, config, log, () => queue.durableSeq);
  return { port: listening.port, state: hot, queue, close, backup };
}
