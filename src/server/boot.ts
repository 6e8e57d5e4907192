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
import { adminConfigured, type Config } from '../config.js';
import { registerAdminRoutes } from '../http/admin.js';
import { registerRoutes } from '../http/app.js';
import { createApp, listen } from '../http/server.js';
import { StaticFiles } from '../http/static.js';
import type { OpenReply } from '../model/protocol.js';
import { WorkerClient } from '../persist/client.js';
import { WorkerSessionLoader } from '../persist/loader.js';
import type { BatchStore, WriteBehindQueue } from '../persist/queue.js';
import { reloadState } from '../persist/reload.js';
import { forgetHighScoresBefore } from '../state/catalog.js';
import { HIGH_SCORE_LIST_LIMIT, HotState } from '../state/hot-state.js';
import { IDEMPOTENCY_MAX_KEYS, IDEMPOTENCY_WINDOW_MS } from '../state/idempotency.js';
import { registerWebSocket, type WsHub } from '../ws/hub.js';
import { createAdmin } from './admin.js';
import { healthBody } from './health.js';
import { Metrics } from './metrics.js';
import { backupNow, shutdownSequence } from './shutdown.js';
import { startTimers, type Timers } from './timers.js';
import { SERVER_VERSION } from './version.js';
import { createQueue, openDatabase, StartupError, storageOptions } from './wiring.js';

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

/** The static folder, read once; a folder that cannot be read stops the start-up with one clear line. */
function loadStaticFiles(dir: string, log: Logger): StaticFiles {
  try {
    return new StaticFiles(dir, (path, reason) => log.warn({ event: 'static_skipped', path, reason }, `static file skipped: ${reason}`));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new StartupError(`VIBEFIXER_STATIC_DIR ${dir} cannot be served: ${why}`, 'STATIC_DIR');
  }
}

export async function startServer(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningServer> {
  const startedAtMs = Date.now();
  const staticFiles = config.staticDir === null ? null : loadStaticFiles(config.staticDir, log);
  if (staticFiles) log.info({ event: 'static_loaded', dir: staticFiles.root, files: staticFiles.count, bytes: staticFiles.bytes }, 'static files loaded');

  const client = new WorkerClient(storageOptions(config), opts.workerFile);
  let opened: OpenReply;
  try {
    opened = await openDatabase(client, config, log);
  } catch (error) {
    await client.destroy();
    throw error;
  }

  let ws: WsHub | null = null;
  let timers: Timers | null = null;
  let state: HotState | null = null;
  let adminParts: { sessions: { size: number }; audit: { size: number } } | null = null;
  const metrics = new Metrics({
    queueDepth: () => queue.depth,
    oldestUnflushedSeconds: () => queue.oldestUnflushedMs() / 1000,
    durableSeq: () => queue.durableSeq,
    sessionsActive: () => state?.sessions.size ?? 0,
    wsConnections: () => ws?.connections ?? 0,
    wsBufferedBytes: () => ws?.bufferedBytes() ?? 0,
    sessionsDropped: () => state?.sessions.dropped ?? 0,
    adminSessions: () => adminParts?.sessions.size ?? 0,
    auditRows: () => adminParts?.audit.size ?? 0,
  });
  const queue = createQueue(opts.wrapStore ? opts.wrapStore(client) : client, config, opened.lastSeq, metrics, log, {
    onCommitted: (seq) => ws?.persisted(seq),
  });

  // Every change goes to the queue as rows; sessions reloaded at start-up are read on first use.
  const hot = new HotState(queue, Date.now(), {
    loader: new WorkerSessionLoader(client, log),
    sweepRetryMs: config.staleSweepIntervalMs,
  });
  state = hot;

  log.info({ event: 'reload_start' }, 'reloading state');
  const reloadStartMs = Date.now();
  const reload = await reloadState(client, {
    rest: {
      highScoreLimit: HIGH_SCORE_LIST_LIMIT,
      idempotencySinceMs: reloadStartMs - IDEMPOTENCY_WINDOW_MS,
      idempotencyLimit: IDEMPOTENCY_MAX_KEYS,
      nowMs: reloadStartMs,
      auditLimit: config.auditMaxRows,
    },
    onSessions: (r) => hot.loadSessions(r),
    log,
  });
  hot.loadRest({ ...reload.rest, sessionsToday: opened.sessionsToday });
  const staleBefore = hot.stats.staleEndedCount;
  hot.sweepStale(Date.now());
  // Sessions that went stale while the server was down are loaded and ended before the port opens.
  await new Promise<void>((resolve) => hot.sessions.whenIdle(resolve));
  const staleAtStart = hot.stats.staleEndedCount - staleBefore;
  metrics.reloadDuration.set(reload.durationMs / 1000);
  metrics.reloadRows.set({ kind: 'sessions' }, reload.sessions);
  metrics.reloadRows.set({ kind: 'high_scores' }, reload.rest.highScores.length);
  log.info(
    {
      event: 'reload_done',
      sessions: reload.sessions,
      droppedSessions: hot.sessions.dropped,
      highScores: reload.rest.highScores.length,
      notices: reload.rest.notices.length,
      staleEndedAtStart: staleAtStart,
      durationMs: Math.round(reload.durationMs),
    },
    'state reloaded',
  );

  let shuttingDown = false;
  const onError = (error: unknown, where: string) => {
    log.error({ event: 'server_error', where, err: error }, 'unhandled error in handler');
    admin.serverError(where);
  };
  // Admin writes are answered after their commit whatever VIBEFIXER_ACK says (src/admin/console.ts).
  const admin = createAdmin({
    config,
    log,
    state: hot,
    sink: queue,
    gate: queue,
    isShuttingDown: () => shuttingDown,
    onError,
    onLogin: (outcome) => metrics.adminLogins.inc({ outcome }),
  });
  adminParts = admin;
  admin.sessions.load(reload.rest.adminSessions, Date.now());
  admin.audit.load(reload.rest.audit);
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
    log,
    // The audit log is served to admins only: without admin, no per-request work feeds it.
    audit: adminConfigured(config) ? (event) => admin.securityEvent(event) : undefined,
  };
  const app = createApp();
  registerAdminRoutes(app, { console: admin.console, trustProxy: config.trustProxy, onError });
  registerRoutes(app, {
    dispatcher,
    trustProxy: config.trustProxy,
    staticFiles,
    health: () => healthBody(queue, opened),
    metrics: () => metrics.text(),
    metricsToken: config.metricsToken,
    onError,
  });
  ws = registerWebSocket(app, {
    dispatcher,
    config,
    log,
    durableSeq: () => queue.durableSeq,
    admin: { state: hot, sessions: admin.sessions, audit: admin.audit, now: Date.now },
  });
  hot.observer = ws;
  admin.sessions.onEnded = (hashes) => ws?.adminSessionsEnded(hashes);
  admin.audit.onAppend = (row) => ws?.auditAppended(row);

  const listening = await listen(app, config.host, config.port);
  timers = startTimers({ config, state: hot, queue, client, limiter, log, onRetention: (cutoffMs) => forgetHighScoresBefore(hot, cutoffMs) });
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
      timers?.stop();
      admin.stop();
    },
    closeSockets: () => ws?.closeAll(),
  });
  const backup = () => backupNow(client, config, log, () => queue.durableSeq);
  return { port: listening.port, state: hot, queue, close, backup };
}
