/**
 * The server's background timers, all unref'd and all guarded: a timer never crashes the
 * process (CONTRACT decision #18) and never runs on a request path.
 * - stale sweep every VIBEFIXER_STALE_SWEEP_INTERVAL_MS (30 s by default);
 * (WAL checkpoints are not here: the SQLite driver's checkpointer thread paces them on the
 * commits it sees, beside the commits: workers/sqlite/checkpointer.ts);
 * - retention once at start and then hourly;
 * - expiry of held durable answers past VIBEFIXER_DURABLE_WAIT_MS;
 * - pruning of expired rate-limit windows.
 */
import type { Logger } from 'pino';
import type { RateLimiter } from '../api/rate-limit.js';
import type { Config } from '../config.js';
import type { WorkerClient } from '../persist/client.js';
import type { WriteBehindQueue } from '../persist/queue.js';
import type { HotState } from '../state/hot-state.js';
import { IDEMPOTENCY_WINDOW_MS } from '../state/idempotency.js';

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
const RATE_PRUNE_INTERVAL_MS = 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface TimerDeps {
  config: Config;
  state: HotState;
  queue: WriteBehindQueue;
  client: WorkerClient;
  limiter: RateLimiter;
  log: Logger;
  /** Called with the high-score cutoff after retention deleted old rows. */
  onRetention(highScoreCutoffMs: number): void;
}

export interface Timers {
  stop(): void;
}

export function startTimers(d: TimerDeps): Timers {
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, name: string, fn: () => unknown) => {
    const timer = setInterval(() => {
      try {
        const result = fn();
        if (result instanceof Promise) result.catch((err: unknown) => d.log.error({ event: 'timer_failed', timer: name, err }, 'timer failed'));
      } catch (err) {
        d.log.error({ event: 'timer_failed', timer: name, err }, 'timer failed');
      }
    }, ms);
    timer.unref();
    timers.push(timer);
  };

  every(d.config.staleSweepIntervalMs, 'stale_sweep', () => {
    const ended = d.state.sweepStale(Date.now());
    if (ended > 0) d.log.info({ event: 'stale_sweep', ended }, 'stale sessions ended');
  });

  const retention = async () => {
    const nowMs = Date.now();
    const reply = await d.client.run({
      kind: 'retention',
      nowMs,
      sessionRetentionDays: d.config.sessionRetentionDays,
      highScoreRetentionDays: d.config.highScoreRetentionDays,
      idempotencyWindowMs: IDEMPOTENCY_WINDOW_MS,
      auditRetentionDays: d.config.auditRetentionDays,
      auditMaxRows: d.config.auditMaxRows,
    });
    if (!reply.ok) {
      d.log.warn({ event: 'retention_failed', error: reply }, 'retention failed');
      return;
    }
    if (d.config.highScoreRetentionDays > 0) d.onRetention(nowMs - d.config.highScoreRetentionDays * DAY_MS);
    if (reply.deletedSessions + reply.deletedHighScores > 0) {
      d.log.info({ event: 'retention', deletedSessions: reply.deletedSessions, deletedHighScores: reply.deletedHighScores }, 'retention ran');
    }
  };
  every(RETENTION_INTERVAL_MS, 'retention', retention);
  retention().catch((err: unknown) => d.log.error({ event: 'timer_failed', timer: 'retention', err }, 'timer failed'));

  every(Math.max(10, Math.min(250, Math.floor(d.config.durableWaitMs / 4))), 'durable_wait', () => d.queue.expireWaiters());
  every(RATE_PRUNE_INTERVAL_MS, 'rate_prune', () => d.limiter.prune(Date.now()));

  return {
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}
