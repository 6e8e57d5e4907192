/**
 * Question: how many spawn / artifact-status / deposit requests per second does the server
 * answer at 50 connections, with what latency, in ack=durable and ack=memory, compared in the
 * same run with the original write-through design and with the machine's HTTP ceiling?
 *
 * Rows (each trial a fresh process): uWS hello-world (ceiling), write-through baseline
 * (node:http + one synchronous SQLite upsert per request), server durable, server memory.
 */
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { type MixFigures, type MixSettings, mixOnBaseline, mixOnServer } from './lib/mix-trial.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { SERVER_BASE_ENV } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';

const opts = parseOptions();
const base: Omit<MixSettings, 'pool'> = { connections: 50, warmupS: opts.quick ? 0.5 : 2, durationS: opts.quick ? 1.5 : 10 };
// The same pool for every target, sized so that sessions end with a few to ~20 artifacts
// (a real game has ~15).
const pool = opts.quick ? 1000 : 5000;

type Target = { kind: 'hello' } | { kind: 'write-through'; full: boolean } | { kind: 'server'; ack: 'durable' | 'memory'; full: boolean };
const rows = [
  { label: 'hello-world (uWS, ceiling)', config: { kind: 'hello' } as Target },
  { label: 'write-through (original design)', config: { kind: 'write-through', full: false } as Target },
  { label: 'server ack=durable', config: { kind: 'server', ack: 'durable', full: false } as Target },
  { label: 'server ack=memory', config: { kind: 'server', ack: 'memory', full: false } as Target },
  // Full mode only: what an fsync per commit costs each design (write-through: one per request).
  ...(opts.quick
    ? []
    : [
        { label: 'write-through, synchronous=FULL', config: { kind: 'write-through', full: true } as Target },
        { label: 'server ack=durable, SQLITE_SYNCHRONOUS=FULL', config: { kind: 'server', ack: 'durable', full: true } as Target },
      ]),
];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable | memory (per row)' }, {
  connections: base.connections,
  warmupS: base.warmupS,
  durationS: base.durationS,
  sessions: pool,
  mix: 'spawn → status ground → status carried → deposit, round-robin over the pool',
});
process.stderr.write(`http-mix: ${rows.length} rows × ${opts.trials} trials\n`);

const results = await runTrials(rows, opts.trials, (row): Promise<MixFigures> => {
  const c = row.config;
  if (c.kind === 'hello') return mixOnBaseline('uws-hello', false, { ...base, pool });
  if (c.kind === 'write-through') return mixOnBaseline('write-through', true, { ...base, pool }, c.full ? { BASELINE_SQLITE_SYNCHRONOUS: 'FULL' } : {});
  return mixOnServer({ VIBEFIXER_ACK: c.ack, ...(c.full ? { VIBEFIXER_SQLITE_SYNCHRONOUS: 'FULL' } : {}) }, { ...base, pool });
});

const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
const hello = sum.get(rows[0].label)!;
const wt = sum.get(rows[1].label)!;
const durable = sum.get(rows[2].label)!;

const table = {
  title: `HTTP write mix, ${base.connections} connections, ${base.durationS} s per trial`,
  columns: ['target', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'artifacts/session', 'CPU % server', 'CPU % client', 'server CPU µs/req', '× write-through', '× hello ceiling'],
  rows: rows.map((r) => {
    const s = sum.get(r.label)!;
    const usPerReq = byField(results.get(r.label)!.map((t) => ({ us: (t.serverCpuPct * 1e4) / t.rps }))).us;
    return [r.label, cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.non2xx), cell(s.errors), cell(s.artifactsPerSession, 1), cell(s.serverCpuPct), cell(s.clientCpuPct), cell(usPerReq), ratioCell(ratio(s.rps, wt.rps)), ratioCell(ratio(s.rps, hello.rps))];
  }),
};

const vsWt = ratio(durable.rps, wt.rps);
const vsHello = ratio(durable.rps, hello.rps);
publish({
  name: 'http-mix',
  question: 'Write-mix throughput and latency at 50 connections, durable and memory, vs write-through and the uWS ceiling (same run).',
  header,
  tables: [table],
  targets: [
    { what: 'durable req/s vs write-through', target: '≥ 15×', measured: ratioCell(vsWt), met: vsWt >= 15 },
    { what: 'durable req/s vs hello-world ceiling', target: '≥ 40 %', measured: plain(vsHello * 100, 0, ' %'), met: vsHello >= 0.4 },
    { what: 'durable p99 at 50 connections', target: '≤ 5 ms', measured: plain(durable.p99Ms.median, 2, ' ms'), met: durable.p99Ms.median <= 5 },
  ],
  notes: [
    'Client (autocannon, one thread, pipelining 1) and server share the 2 cores; the ceiling row is measured with the same client and request generator, so the ratios compare like with like.',
    'Latency = time from writing a request to parsing its answer, per request, in our own 2 %-bucket histogram.',
    `Sessions (${pool} per trial, for write-through too) are pre-created with requestedDurationSeconds=600, so no stale sweep interferes.`,
    'CPU % = CPU time during the measured window in % of one core (100 % = one core): the target process (all its threads) and the load client. The machine has 2 cores.',
    '"server CPU µs/req" = CPU time of the target process (all threads: main, SQLite worker, GC helpers) per answered request.',
    'The write-through baseline sets no synchronous pragma, as the original did; better-sqlite3 12 then runs a new WAL file at synchronous=1 (NORMAL) after its first write, so its commits do not fsync: it survives a process crash like ack=durable does.',
  ],
  raw: Object.fromEntries(results),
});
