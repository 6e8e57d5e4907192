/**
 * Question: how many write-mix operations per second does the server answer over WebSocket
 * (/ws, JSON text frames and msgpack binary frames), with what answer latency, in ack=durable,
 * compared in the same run with a uWS echo server (the machine's ceiling for this traffic)? On
 * SQLite and on PostgreSQL (VIBEFIXER_STORAGE=postgres: one PostgreSQL server for the run, a fresh
 * database per trial, its CPU in its own columns; lib/postgres.ts).
 * Client: several threads, each with a few `ws` sockets pipelining a fixed number of requests.
 */
import { join } from 'node:path';
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { BENCH_SESSION_SECONDS } from './lib/mix.js';
import { parseOptions } from './lib/options.js';
import { postgresEnv, startBenchPostgres } from './lib/postgres.js';
import { publish } from './lib/result.js';
import { type Proc, SERVER_BASE_ENV, startBaseline, startServer, tempDir } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';
import { runWsLoad, type WsFigures } from './lib/ws-load.js';

const opts = parseOptions();
const load = { threads: 2, sockets: 4, depth: 8, warmupMs: opts.quick ? 500 : 2000, durationMs: opts.quick ? 1000 : 10_000, pool: opts.quick ? 300 : 4000 };
const encodings = ['json', 'msgpack'] as const;
type Target = { kind: 'echo' | 'server'; encoding: (typeof encodings)[number]; postgres?: true };
const rows = [
  ...encodings.map((encoding) => ({ label: `uWS echo (ceiling), ${encoding}`, config: { kind: 'echo', encoding } as Target })),
  ...encodings.map((encoding) => ({ label: `server ack=durable, ${encoding}`, config: { kind: 'server', encoding } as Target })),
  ...encodings.map((encoding) => ({ label: `server ack=durable, postgres, ${encoding}`, config: { kind: 'server', encoding, postgres: true } as Target })),
];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable', VIBEFIXER_STORAGE: 'sqlite | postgres (per row)' }, {
  clientThreads: load.threads,
  socketsPerThread: load.sockets,
  inFlightPerSocket: load.depth,
  inFlightTotal: load.threads * load.sockets * load.depth,
  warmupMs: load.warmupMs,
  durationMs: load.durationMs,
  sessions: load.pool,
  mix: 'session.spawn → artifactStatus ground → carried → session.deposit',
});

const postgres = await startBenchPostgres();
header.settings.postgres = postgres.description;

let unavailable: string | null = null;
const results = await runTrials(rows, opts.trials, async (row): Promise<WsFigures> => {
  if (row.config.kind === 'server' && unavailable !== null) return nothing();
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    const onPostgres = row.config.postgres === true;
    const db = onPostgres ? postgresEnv(await postgres.freshDatabase()) : { VIBEFIXER_DB_PATH: join(tmp.dir, 'bench.sqlite') };
    proc = row.config.kind === 'echo' ? await startBaseline('uws-echo') : await startServer({ ...db, VIBEFIXER_ACK: 'durable' });
    return await runWsLoad({ ...load, url: `ws://127.0.0.1:${proc.port}/ws`, encoding: row.config.encoding, sessionSeconds: BENCH_SESSION_SECONDS, targetCpuMs: proc.cpuMs, ...(onPostgres ? { dbCpuMs: postgres.cpuMs } : {}) });
  } catch (error) {
    if (row.config.kind !== 'server' || !/upgrade refused/.test(String(error))) throw error;
    unavailable = String(error);
    process.stderr.write(`ws-mix: the server has no WebSocket transport yet (${unavailable})\n`);
    return nothing();
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}).finally(() => postgres.destroy());

function nothing(): WsFigures {
  return { opsPerS: NaN, p50Ms: NaN, p99Ms: NaN, answers: NaN, errors: NaN, closes: NaN, artifactsPerSession: NaN, clientCpuPct: NaN, serverCpuPct: NaN, serverUsPerOp: NaN, dbCpuPct: NaN, dbUsPerOp: NaN };
}

const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
const echoOf = (encoding: string) => sum.get(rows.find((e) => e.config.kind === 'echo' && e.config.encoding === encoding)!.label)!;
const serverOf = (encoding: string, onPostgres = false) => rows.find((e) => e.config.kind === 'server' && e.config.encoding === encoding && (e.config.postgres === true) === onPostgres)!.label;
const cleanRow = (label: string) => results.get(label)!.every((t) => t.errors === 0 && t.closes === 0);
const targets = encodings.map((encoding) => {
  const share = ratio(sum.get(serverOf(encoding))!.opsPerS, echoOf(encoding).opsPerS);
  const clean = results.get(serverOf(encoding))!.every((t) => t.errors === 0 && t.closes === 0);
  return { id: `ws-durable-vs-echo-${encoding}`, what: `durable ops/s vs uWS echo, ${encoding} (same client and encoding)`, target: '≥ 40 %', measured: plain(share * 100, 0, ' %'), met: Number.isFinite(share) ? share >= 0.4 && clean : null };
});
// A check of this bench only (no row of RESULTS.md's list): the HTTP mix carries the target.
const pgTargets = encodings.map((encoding) => {
  const share = ratio(sum.get(serverOf(encoding, true))!.opsPerS, sum.get(serverOf(encoding))!.opsPerS);
  return { what: `postgres durable ops/s vs sqlite durable, ${encoding} (same run)`, target: '≥ 50 %', measured: plain(share * 100, 0, ' %'), met: Number.isFinite(share) ? share >= 0.5 && cleanRow(serverOf(encoding, true)) && cleanRow(serverOf(encoding)) : null };
});
publish({
  name: 'ws-mix',
  question: 'Write-mix operations per second and answer latency over WebSocket (JSON and msgpack), durable, on SQLite and on PostgreSQL, vs a uWS echo ceiling (same run).',
  header,
  tables: [
    {
      title: `WebSocket write mix, ${load.threads * load.sockets} sockets × ${load.depth} in flight, ${load.durationMs / 1000} s per trial`,
      columns: ['target', 'ops/s', 'p50 ms', 'p99 ms', 'error answers', 'closes', 'artifacts/session', 'CPU % server', 'CPU % postgres', 'CPU % client', 'server CPU µs/op', 'postgres CPU µs/op', '× echo ceiling (same encoding)'],
      rows: rows.map((r) => {
        const s = sum.get(r.label)!;
        const db = (v: string) => (r.config.postgres ? v : '—');
        return [r.label, cell(s.opsPerS), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.errors), cell(s.closes), cell(s.artifactsPerSession, 1), cell(s.serverCpuPct), db(cell(s.dbCpuPct)), cell(s.clientCpuPct), cell(s.serverUsPerOp, 1), db(cell(s.dbUsPerOp, 1)), ratioCell(ratio(s.opsPerS, echoOf(r.config.encoding).opsPerS))];
      }),
    },
  ],
  targets: [...targets, ...pgTargets],
  notes: [
    ...(unavailable === null ? [] : [`The server rows could not run: ${unavailable}. The script is ready for /ws (protocol: README, "WebSocket API").`]),
    'Latency = time from sending a request frame to decoding its answer, per request. The client threads and the server share the 2 cores; CPU % = CPU time during the window in % of one core.',
    'The echo answers each request with the request itself, so its client does the same encoding and decoding work as against the server.',
    '"server CPU µs/op" = CPU time of the target process (all threads, /proc/<pid>/stat) over the measured window ÷ ops answered in it. If "CPU % client" is near 200 % (both cores), the client threads, not the target, set ops/s.',
    `PostgreSQL rows: ${postgres.description}; before each trial the previous trial's database is dropped and a CHECKPOINT runs. "CPU % postgres" and "postgres CPU µs/op" = CPU time of the postmaster and all its children (backends, WAL writer, checkpointer; /proc/<pid>/stat, plus children reaped in the window): on SQLite the database work is inside the server's own CPU, so compare server + postgres with SQLite's server column. fsync is on: an answer waits for the WAL flush to disk (SQLite at synchronous=NORMAL does not fsync per commit).`,
  ],
  raw: Object.fromEntries(results),
});
