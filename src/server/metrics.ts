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
}

export class Metrics {
  readonly registry = new Registry();
  readonly batchSize: Histogram;
  readonly commitDuration: Histogram;
  readonly retries: Counter;
  readonly writesRefused: Counter<'reason'>;
  readonly reloadDuration: Gauge;
  readonly reloadRows: Gauge<'kind'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
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
