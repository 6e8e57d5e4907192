/**
 * Prometheus metrics (prom-client, own registry, with the default process metrics including
 * event-loop lag). Gauges are read at scrape time from the live objects through `MetricSources`,
 * so the request path pays nothing for them; only events (commits, retries, refusals) count.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricSources {
  queueDepth(): number;
  oldestUnflushedSeconds(): number;
  durableSeq(): number;
  sessionsActive(): number;
  wsConnections(): number;
  wsBufferedBytes(): number;
  /** Sessions listed active at start-up whose rows were gone when they were first used. */
  sessionsDropped(): number;
  adminSessions(): number;
  auditRows(): number;
}

/**
 * Sampling period of the event-loop delay histogram behind `nodejs_eventloop_lag_{min,max,mean,p50,p90,p99}`.
 * prom-client's default, 10 ms, is a native timer that wakes an idle main thread 100 times a
 * second: ~85 % of an idle server's CPU and ~0.5 extra wake-ups per request at 200 req/s
 * (bench/low-load.ts). At 100 ms a lag still shows whenever the loop blocks past a sample.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

export class Metrics {
  readonly registry = new Registry();
  readonly batchSize: Histogram;
  readonly commitDuration: Histogram;
  readonly retries: Counter;
  readonly writesRefused: Counter<'reason'>;
  readonly reloadDuration: Gauge;
  readonly reloadRows: Gauge<'kind'>;
  readonly adminLogins: Counter<'outcome'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('vibefixer_persist_queue_depth', 'Changed entities not yet committed (pending + in flight)', sources.queueDepth);
    gauge(
      'vibefixer_persist_oldest_unflushed_seconds',
      'Age of the oldest change not yet committed: what a crash would lose in ack=memory',
      sources.oldestUnflushedSeconds,
    );
    gauge('vibefixer_persist_durable_seq', 'Seq of the last committed batch', sources.durableSeq);
    gauge('vibefixer_sessions_active', 'Active sessions in memory', sources.sessionsActive);
    gauge('vibefixer_ws_connections', 'Open WebSocket connections', sources.wsConnections);
    gauge('vibefixer_ws_buffered_bytes', 'Bytes buffered for slow WebSocket readers (sum)', sources.wsBufferedBytes);
    gauge('vibefixer_admin_sessions', 'Live admin sessions', sources.adminSessions);
    gauge('vibefixer_audit_rows', 'Rows in the audit/security log', sources.auditRows);
    this.adminLogins = new Counter({
      name: 'vibefixer_admin_logins_total',
      help: 'Admin login attempts by outcome: ok, failed (401), blocked (the 5th failure), locked (429)',
      labelNames: ['outcome'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'vibefixer_persist_batch_size',
      help: 'Changed rows per committed batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      registers,
    });
    this.commitDuration = new Histogram({
      name: 'vibefixer_persist_commit_duration_seconds',
      help: 'Time the worker spent applying one batch (one transaction)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.retries = new Counter({ name: 'vibefixer_persist_retries_total', help: 'Failed batch attempts (retried)', registers });
    this.writesRefused = new Counter({
      name: 'vibefixer_writes_refused_total',
      help: 'Writes refused before changing anything, by reason (rate, queue, shutdown)',
      labelNames: ['reason'],
      registers,
    });
    // Zero series for every reason, so a dashboard sees 0 rather than nothing.
    for (const reason of ['rate', 'queue', 'shutdown']) this.writesRefused.inc({ reason }, 0);
    this.reloadDuration = new Gauge({ name: 'vibefixer_reload_duration_seconds', help: 'Start-up reload time', registers });
    new Counter({
      name: 'vibefixer_sessions_dropped_total',
      help: 'Sessions listed active at start-up whose stored rows were gone when first used (dropped from the active ones)',
      registers,
      collect() {
        this.reset();
        this.inc(sources.sessionsDropped());
      },
    });
    this.reloadRows = new Gauge({ name: 'vibefixer_reload_rows', help: 'Rows reloaded at start-up', labelNames: ['kind'], registers });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
