/**
 * Question: how do VIBEFIXER_FLUSH_INTERVAL_MS and VIBEFIXER_FLUSH_MAX_BATCH change the http-mix's
 * throughput and answer latency, in ack=durable and ack=memory, so an operator can pick values?
 * Baseline: the defaults (100 ms, 2000) in the same mode, same run. Full mode crosses every
 * interval with every batch size; quick mode varies one knob at a time around the defaults.
 */
import { collectHeader } from './lib/header.js';
import { cell, ratioCell } from './lib/markdown.js';
import { type MixFigures, type MixSettings, mixOnServer } from './lib/mix-trial.js';
import { parseOptions } from './lib/options.js';
import { publish, type Table } from './lib/result.js';
import { SERVER_BASE_ENV } from './lib/server.js';
import { byField, ratio, type Summary } from './lib/stats.js';
import { runTrials } from './lib/trials.js';
import { requireWrk } from './lib/wrk.js';

const opts = parseOptions();
const wrkVersion = requireWrk();
// Quick: no warm-up invocation (wrk windows are whole seconds and 5 rows × 3 trials must fit ~40 s).
const settings: MixSettings = { connections: 50, threads: 1, warmupS: opts.quick ? 0 : 1, durationS: opts.quick ? 1 : 5, pool: opts.quick ? 500 : 3000 };
const DEFAULT = { interval: 100, batch: 2000 };
const intervals = [10, 100, 1000];
const batches = [100, 2000, 20000];
const modes = opts.quick ? (['durable'] as const) : (['durable', 'memory'] as const);

interface Knobs {
  ack: 'durable' | 'memory';
  interval: number;
  batch: number;
}
const combos: Array<{ interval: number; batch: number }> = opts.quick
  ? [
      ...intervals.map((interval) => ({ interval, batch: DEFAULT.batch })),
      ...batches.filter((b) => b !== DEFAULT.batch).map((batch) => ({ interval: DEFAULT.interval, batch })),
    ]
  : intervals.flatMap((interval) => batches.map((batch) => ({ interval, batch })));
const label = (k: Knobs) => `${k.ack} interval=${k.interval} ms batch=${k.batch}`;
const rows = modes.flatMap((ack) => combos.map((c) => ({ ack, ...c }))).map((k) => ({ label: label(k), config: k }));

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: modes.join(' | '), VIBEFIXER_FLUSH_INTERVAL_MS: intervals.join(' | '), VIBEFIXER_FLUSH_MAX_BATCH: batches.join(' | ') }, {
  client: `${wrkVersion}, ${settings.threads} thread`,
  connections: settings.connections,
  warmupS: settings.warmupS,
  durationS: settings.durationS,
  sessions: settings.pool,
  design: opts.quick ? 'durable only, one knob at a time around the defaults' : 'full cross, durable and memory',
});
process.stderr.write(`flush-tuning: ${rows.length} rows × ${opts.trials} trials\n`);

const results = await runTrials(rows, opts.trials, (row): Promise<MixFigures> =>
  mixOnServer({ VIBEFIXER_ACK: row.config.ack, VIBEFIXER_FLUSH_INTERVAL_MS: String(row.config.interval), VIBEFIXER_FLUSH_MAX_BATCH: String(row.config.batch) }, settings),
);

const sum = new Map([...results].map(([l, trials]) => [l, byField(trials.map((t) => ({ ...t })))]));
const tables: Table[] = modes.map((ack) => {
  const base = sum.get(label({ ack, ...DEFAULT }))!;
  return {
    title: `ack=${ack}: http-mix at ${settings.connections} connections, ${settings.durationS} s per trial (× = vs the defaults ${DEFAULT.interval} ms / ${DEFAULT.batch})`,
    columns: ['FLUSH_INTERVAL_MS', 'FLUSH_MAX_BATCH', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non-2xx', 'errors', 'CPU % server', 'CPU % client (wrk)', 'server CPU µs/req', '× req/s', '× p99'],
    rows: rows
      .filter((r) => r.config.ack === ack)
      .map((r) => {
        const s = sum.get(r.label)! as Record<keyof MixFigures, Summary>;
        return [String(r.config.interval), String(r.config.batch), cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.non2xx), cell(s.errors), cell(s.serverCpuPct), cell(s.clientCpuPct), cell(s.serverUsPerReq, 1), ratioCell(ratio(s.rps, base.rps)), ratioCell(ratio(s.p99Ms, base.p99Ms))];
      }),
  };
});

publish({
  name: 'flush-tuning',
  question: 'http-mix throughput and latency against FLUSH_INTERVAL_MS × FLUSH_MAX_BATCH, durable and memory, vs the defaults (same run).',
  header,
  tables,
  targets: [],
  notes: [
    'In durable mode a waiting answer sends its batch as soon as the worker is idle, so the interval should hardly matter; in memory mode the interval is the crash-loss window (see the durability bench).',
    'At 50 connections with one request in flight each, at most 50 sessions change between two commits in durable mode, so FLUSH_MAX_BATCH above ~50 cannot bind there.',
    `Client: wrk (${settings.threads} thread, ${settings.connections} connections) with bench/lua/mix.lua, as in http-mix; latency percentiles are wrk's own.`,
  ],
  raw: Object.fromEntries(results),
});
