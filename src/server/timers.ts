/**
 * The server's background timers, all unref'd and all guarded: a timer never crashes the
 * process (CONTRACT decision #18) and never runs on a request path.
 * - stale sweep every VIBEFIXER_STALE_SWEEP_INTERVAL_MS (30 s by default);
 * - WAL checkpoint (PASSIVE), checked every VIBEFIXER_CHECKPOINT_INTERVAL_MS while committed rows
 *   wait for one (not at all when idle), run between commits when 500 rows were committed since
 *   the last one or 5 s have passed;
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
/** A checkpoint is due once this many changed rows were committed since the last one… */
export const CHECKPOINT_MIN_ROWS = 500;
/** …or once the oldest of them has waited this long (bounds the WAL of a quiet server). */
export const CHECKPOINT_MAX_AGE_MS = 5_000;
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
  /** A batch committed: arms the checkpoint check if it is not armed. */
  committed(): void;
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

  // A checkpoint holds the commits behind it (one worker thread), and part of its cost is fixed
  // (the syncs): it runs when enough was written since the last one, or when what was written
  // has waited long enough, so a lightly loaded server is not paused ten times a second.
  // The check is armed only while committed rows wait for a checkpoint (a commit arms it, see
  // `committed`), so an idle server is not woken ten times a second either.
  let lastCheckpointSeq = d.queue.durableSeq;
  let lastCheckpointRows = d.queue.committedEntities;
  let lastCheckpointAtMs = Date.now();
  let checkpointTimer: NodeJS.Timeout | null = null;
  let stopped = false;
  const checkpointIfDue = async () => {
    if (d.queue.durableSeq === lastCheckpointSeq) return;
    const rows = d.queue.committedEntities - lastCheckpointRows;
    if (rows < CHECKPOINT_MIN_ROWS && Date.now() - lastCheckpointAtMs < CHECKPOINT_MAX_AGE_MS) return;
    lastCheckpointSeq = d.queue.durableSeq;
    lastCheckpointRows = d.queue.committedEntities;
    lastCheckpointAtMs = Date.now();
    const reply = await d.client.run({ kind: 'checkpoint', mode: 'PASSIVE' });
    if (!reply.ok) d.log.warn({ event: 'checkpoint_failed', error: reply }, 'checkpoint failed');
  };
  const armCheckpoint = () => {
    if (d.config.checkpointIntervalMs <= 0 || checkpointTimer !== null || stopped) return;
    checkpointTimer = setTimeout(() => {
      checkpointIfDue()
        .catch((err: unknown) => d.log.error({ event: 'timer_failed', timer: 'checkpoint', err }, 'timer failed'))
        .finally(() => {
          checkpointTimer = null;
          // Rows still wait (below the row and age thresholds, or committed meanwhile): check again.
          if (d.queue.durableSeq !== lastCheckpointSeq) armCheckpoint();
        });
    }, d.config.checkpointIntervalMs);
    checkpointTimer.unref();
  };

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
    committed: armCheckpoint,
    stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      if (checkpointTimer !== null) clearTimeout(checkpointTimer);
    },
  };
}
