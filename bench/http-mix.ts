/**
 * Question: how many spawn / artifact-status / deposit requests per second does the server
 * answer at 50 connections, with what latency, in ack=durable and ack=memory, compared in the
 * same run with the original write-through design and with the machine's HTTP ceiling?
 *
 * Rows (each trial a fresh process): uWS hello-world (ceiling), write-through baseline
 * (node:http + one synchronous SQLite upsert per request), server durable and memory on SQLite,
 * and the same two on PostgreSQL (VIBEFIXER_STORAGE=postgres: one PostgreSQL server for the
 * run, a fresh database per trial, its CPU in its own columns; lib/postgres.ts).
 * Load: wrk (lib/wrk.ts, bench/lua/mix.lua), the same client and request generator for every row.
 */
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { type MixFigures, type MixSettings, mixOnBaseline, mixOnServer } from './lib/mix-trial.js';
import { parseOptions } from './lib/options.js';
import { postgresEnv, startBenchPostgres } from './lib/postgres.js';
import { publish } from './lib/result.js';
import { SERVER_BASE_ENV } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';
import { requireWrk } from './lib/wrk.js';

const opts = parseOptions();
const wrkVersion = requireWrk();
const base: Omit<MixSettings, 'pool'> = { connections: 50, threads: 1, warmupS: opts.quick ? 1 : 2, durationS: opts.quick ? 1 : 8 };
// The same pool for every target, sized so that sessions end with a few to ~20 artifacts
// (a real game has ~15).
const pool = opts.quick ? 1000 : 5000;

type Target = { kind: 'hello' } | { kind: 'write-through'; full: boolean } | { kind: 'server'; ack: 'durable' | 'memory'; full: boolean; postgres?: true };
const rows = [
  { label: 'hello-world (uWS, ceiling)', config: { kind: 'hello' } as Target },
  { label: 'write-through (original design)', config: { kind: 'write-through', full: false } as Target },
  { label: 'server ack=durable', config: { kind: 'server', ack: 'durable', full: false } as Target },
  { label: 'server ack=memory', config: { kind: 'server', ack: 'memory', full: false } as Target },
  { label: 'server ack=durable, postgres', config: { kind: 'server', ack: 'durable', full: false, postgres: true } as Target },
  { label: 'server ack=memory, postgres', config: { kind: 'server', ack: 'memory', full: false, postgres: true } as Target },
  // Full mode only: what an fsync per commit costs each design (write-through: one per request).
  ...(opts.quick
    ? []
    : [
        { label: 'write-through, synchronous=FULL', config: { kind: 'write-through', full: true } as Target },
        { label: 'server ack=durable, SQLITE_SYNCHRONOUS=FULL', config: { kind: 'server', ack: 'durable', full: true } as Target },
      ]),
];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable | memory (per row)', VIBEFIXER_STORAGE: 'sqlite | postgres (per row)' }, {
  client: `${wrkVersion}, ${base.threads} thread`,
  connections: base.connections,
  warmupS: base.warmupS,
  durationS: base.durationS,
  sessions: pool,
  mix: 'spawn → status ground → status carried → deposit, round-robin over the pool',
});
process.stderr.write(`http-mix: ${rows.length} rows × ${opts.trials} trials\n`);
const postgres = await startBenchPostgres();
header.settings.postgres = postgres.description;

const results = await runTrials(rows, opts.trials, async (row): Promise<MixFigures> => {
  const c = row.config;
  if (c.kind === 'hello') return mixOnBaseline('uws-hello', false, { ...base, pool });
  if (c.kind === 'write-through') return mixOnBaseline('write-through', true, { ...base, pool }, c.full ? { BASELINE_SQLITE_SYNCHRONOUS: 'FULL' } : {});
  if (c.postgres) return mixOnServer({ VIBEFIXER_ACK: c.ack, ...postgresEnv(await postgres.freshDatabase()) }, { ...base, pool }, postgres.cpuMs);
  return mixOnServer({ VIBEFIXER_ACK: c.ack, ...(c.full ? { VIBEFIXER_SQLITE_SYNCHRONOUS: 'FULL' } : {}) }, { ...base, pool });
}).finally(() => postgres.destroy());

const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
const hello = sum.get(rows[0].label)!;
const wt = sum.get(rows[1].label)!;
const durable = sum.get(rows[2].label)!;

const memory = sum.get(rows[3].label)!;
const pgDurable = sum.get(rows[4].label)!;

const table = {
  title: `HTTP write mix, ${base.connections} connections, ${base.durationS} s per trial`,
  columns: ['target', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'non-2xx', 'errors', 'artifacts/session', 'CPU % server', 'CPU % postgres', 'CPU % client (wrk)', 'server CPU µs/req', 'postgres CPU µs/req', '× write-through', '× hello ceiling'],
  rows: rows.map((r) => {
    const s = sum.get(r.label)!;
    const db = (v: string) => (r.config.kind === 'server' && r.config.postgres ? v : '—');
    return [r.label, cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.maxMs, 1), cell(s.non2xx), cell(s.errors), cell(s.artifactsPerSession, 1), cell(s.serverCpuPct), db(cell(s.dbCpuPct)), cell(s.clientCpuPct), cell(s.serverUsPerReq, 1), db(cell(s.dbUsPerReq, 1)), ratioCell(ratio(s.rps, wt.rps)), ratioCell(ratio(s.rps, hello.rps))];
  }),
};

const vsHello = ratio(durable.rps, hello.rps);
const memVsHello = ratio(memory.rps, hello.rps);
const pgVsSqlite = ratio(pgDurable.rps, durable.rps);
const clean = (label: string) => results.get(label)!.every((t) => t.non2xx === 0 && t.errors === 0);
publish({
  name: 'http-mix',
  question: 'Write-mix throughput and latency at 50 connections, durable and memory, on SQLite and on PostgreSQL, vs write-through and the uWS ceiling (same run).',
  header,
  tables: [table],
  targets: [
    { id: 'http-durable-vs-hello', what: 'durable req/s vs uWS hello-world (same client)', target: '≥ 40 %', measured: plain(vsHello * 100, 0, ' %'), met: vsHello >= 0.4 && clean(rows[2].label) },
    { id: 'http-durable-p99', what: 'durable p99 at 50 connections', target: '≤ 5 ms', measured: plain(durable.p99Ms.median, 2, ' ms'), met: durable.p99Ms.median <= 5 && clean(rows[2].label) },
    { id: 'http-memory-vs-hello', what: 'memory req/s vs uWS hello-world (same client)', target: '≥ 50 %', measured: plain(memVsHello * 100, 0, ' %'), met: memVsHello >= 0.5 && clean(rows[3].label) },
    { id: 'http-postgres-durable-vs-sqlite', what: 'postgres durable req/s vs sqlite durable (same run)', target: '≥ 50 %', measured: plain(pgVsSqlite * 100, 0, ' %'), met: pgVsSqlite >= 0.5 && clean(rows[4].label) && clean(rows[2].label) },
  ],
  notes: [
    `Client: wrk (${base.threads} thread, ${base.connections} keep-alive connections, one request in flight each) with bench/lua/mix.lua, the same client and request generator for every row, so the ratios compare like with like. Its CPU column shows whether it saturated (100 % = one full core).`,
    'Latency and req/s are wrk\'s own (time from writing a request to reading its whole answer; p99.9 and max included). A target is met only if its trials also had no non-2xx answer and no socket error.',
    'The mix chains answers per wrk thread: a spawn answer puts its artifact on a queue, and each artifact is then grounded, carried and deposited exactly once (bench/lua/mix.lua); "artifacts/session" = spawns in the window ÷ pool size.',
    `Sessions (${pool} per trial, for write-through too) are pre-created with requestedDurationSeconds=600, so no stale sweep interferes.`,
    'CPU % = CPU time during the measured window in % of one core (100 % = one core): the target process (all its threads, /proc/<pid>/stat) and wrk. The machine has 2 cores.',
    '"server CPU µs/req" = CPU time of the target process (all threads: main, persistence worker, GC helpers) per completed request. On SQLite that includes the database work; on PostgreSQL the database is a separate server on the same 2 cores: "CPU % postgres" and "postgres CPU µs/req" are its CPU time (the postmaster and all its children — backends, WAL writer, checkpointer — from /proc/<pid>/stat, plus the children it reaped in the window) over the same window. Compare SQLite\'s server µs/req with server + postgres µs/req.',
    `PostgreSQL rows: one server for the run (${postgres.description}); each trial gets a new database (the previous one dropped, then a CHECKPOINT, so no trial pays for another one's dirty pages). fsync is on, as in production: an ack=durable answer waits for the WAL flush to disk, which ack=durable on SQLite at synchronous=NORMAL does not (its FULL row, full mode only, does).`,
    'The write-through baseline sets no synchronous pragma, as the original did; better-sqlite3 12 then runs a new WAL file at synchronous=1 (NORMAL) after its first write, so its commits do not fsync: it survives a process crash like ack=durable does.',
  ],
  raw: Object.fromEntries(results),
});
