/**
 * Question: at a LOW, fixed request rate (a few hundred per second, what the first step of the
 * players bench sends), how much CPU does the server spend per request, in which thread, and how
 * many context switches and commits per request, compared in the same run with the uWS
 * hello-world at the same rate?
 *
 * Rows (each trial one fresh process that serves every rate in turn, lowest first): uWS
 * hello-world, server ack=memory, server ack=durable. `--build=<id>` (repeatable) adds the server
 * rows again from another frozen build (bench/out/build/<id>/, made by an earlier run), so a fix
 * is measured before/after in the same run; `--ack=memory|durable` keeps one ack's rows.
 * Load: lib/paced-mix.ts, open loop (request n intended at n / rate), the HTTP write mix over
 * keep-alive connections. CPU and context switches: lib/threads.ts (/proc/<pid>/task/*), over
 * the measured window only; commits from the server's /metrics, read outside the window.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { ROOT } from './lib/build.js';
import { collectHeader } from './lib/header.js';
import { cell, plain } from './lib/markdown.js';
import { placeholderPool, precreateSessions } from './lib/mix.js';
import { parseOptions } from './lib/options.js';
import { type PacedFigures, runPaced } from './lib/paced-mix.js';
import { publish, type Table } from './lib/result.js';
import { type Proc, SERVER_BASE_ENV, startBaseline, startProcess, startServer, tempDir } from './lib/server.js';
import { byField, type Summary } from './lib/stats.js';
import { sampleThreads, splitThreads, type ThreadSplit } from './lib/threads.js';
import { runTrials } from './lib/trials.js';

const argv = process.argv.slice(2);
// --build=<id> (repeatable): the server rows again from another frozen build (bench/out/build/<id>/)
// in the same run, e.g. the build before a fix. --ack=memory|durable: only that ack's server rows.
const buildIds = argv.filter((a) => a.startsWith('--build=')).map((a) => a.slice('--build='.length));
const ackOnly = argv.find((a) => a.startsWith('--ack='))?.slice('--ack='.length) ?? null;
if (ackOnly !== null && ackOnly !== 'memory' && ackOnly !== 'durable') throw new Error('--ack must be memory or durable');
const opts = parseOptions(argv.filter((a) => !a.startsWith('--build=') && !a.startsWith('--ack=')));
const buildMain = (id: string) => join(ROOT, 'bench', 'out', 'build', id, 'dist', 'src', 'server', 'main.js');
for (const id of buildIds) if (!existsSync(buildMain(id))) throw new Error(`--build: no frozen build ${id} (${buildMain(id)})`);

const RATES = [200, 1000];
const settings = {
  connections: 32,
  sessions: 200,
  /**
   * At the start of each trial, not measured: until V8 has optimized the whole request path. At
   * 200 req/s functions still reached TurboFan tens of seconds after start (~35 compilations in
   * 6 s after 3 s at 1,000 req/s; ~0 after 10 s): without it the low rate pays the compiler.
   */
  jitWarmupS: opts.quick ? 2 : 8,
  jitWarmupRate: 2000,
  /** Before each rate's window, at that rate. */
  warmupS: opts.quick ? 0.3 : 1,
  measureS: opts.quick ? 1.2 : 6,
};

type Target = { kind: 'hello' } | { kind: 'server'; ack: 'memory' | 'durable'; build: string | null };
const acks = (['memory', 'durable'] as const).filter((a) => ackOnly === null || a === ackOnly);
const rows: Array<{ label: string; config: Target }> = [
  { label: 'hello-world (uWS)', config: { kind: 'hello' } },
  ...[...buildIds, null].flatMap((build) =>
    acks.map((ack) => ({ label: `server ack=${ack}${build === null ? '' : `, build ${build}`}`, config: { kind: 'server', ack, build } as Target })),
  ),
];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'memory | durable (per row)' }, {
  rates: RATES.map((r) => `${r} req/s`).join(', '),
  connections: settings.connections,
  sessions: settings.sessions,
  jitWarmup: `${settings.jitWarmupS} s at ${settings.jitWarmupRate} req/s`,
  warmupS: settings.warmupS,
  measureS: settings.measureS,
  otherBuilds: buildIds.join(', ') || '(none)',
  mix: 'spawn → status ground → status carried → deposit, open loop at a fixed rate',
});

interface RateFigures {
  rps: number;
  cpuMsPerS: number;
  csPerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpuUsPerReq: number;
  mainUsPerReq: number;
  otherUsPerReq: number;
  restUsPerReq: number;
  csPerReq: number;
  csMainPerReq: number;
  csOtherPerReq: number;
  csRestPerReq: number;
  voluntaryPct: number;
  commitsPerS: number;
  reqPerCommit: number;
}
type TrialFigures = Record<string, number>;

/** Committed batches so far (the count of the batch-size histogram), NaN without /metrics. */
function commits(proc: Proc): Promise<number> {
  return new Promise((resolve) => {
    http
      .get(`${proc.url}/metrics`, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const m = /^vibefixer_persist_batch_size_count (\d+)/m.exec(text);
          resolve(m === null ? NaN : Number(m[1]));
        });
      })
      .on('error', () => resolve(NaN));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fixed cost: no request at all for a window (timers, pollers), per second. */
async function idle(proc: Proc, hasMetrics: boolean): Promise<{ cpuMsPerS: number; csPerS: number; commitsPerS: number }> {
  await sleep(500);
  const c0 = hasMetrics ? await commits(proc) : NaN;
  const s0 = sampleThreads(proc.pid);
  const t0 = performance.now();
  await sleep(settings.measureS * 1000);
  const s = splitThreads(proc.pid, s0, sampleThreads(proc.pid));
  const windowS = (performance.now() - t0) / 1000;
  const c1 = hasMetrics ? await commits(proc) : NaN;
  return { cpuMsPerS: s.allMs / windowS, csPerS: s.csAll / windowS, commitsPerS: (c1 - c0) / windowS };
}

async function oneRate(proc: Proc, sessions: string[], ratePerS: number, hasMetrics: boolean): Promise<RateFigures> {
  const commits0 = hasMetrics ? await commits(proc) : NaN;
  let t0 = 0;
  let t1 = 0;
  let s0 = sampleThreads(proc.pid);
  let split: ThreadSplit | null = null;
  const f: PacedFigures = await runPaced({
    port: proc.port,
    sessions,
    ratePerS,
    connections: settings.connections,
    warmupMs: settings.warmupS * 1000,
    measureMs: settings.measureS * 1000,
    window: {
      open: () => {
        s0 = sampleThreads(proc.pid);
        t0 = performance.now();
      },
      close: () => {
        split = splitThreads(proc.pid, s0, sampleThreads(proc.pid));
        t1 = performance.now();
      },
    },
  });
  const commits1 = hasMetrics ? await commits(proc) : NaN;
  if (f.firstError !== null) process.stderr.write(`    (${ratePerS} req/s: first error ${f.firstError})\n`);
  const s = split as unknown as ThreadSplit;
  const windowS = (t1 - t0) / 1000;
  const perReq = (ms: number) => (ms * 1000) / f.answered;
  // Commits counted from just before the warm-up's end to just after the window: a slight overcount.
  const commitsPerS = (commits1 - commits0) / (settings.warmupS + windowS);
  return {
    rps: f.answered / windowS,
    cpuMsPerS: s.allMs / windowS,
    csPerS: s.csAll / windowS,
    p50Ms: f.p50Ms,
    p99Ms: f.p99Ms,
    errors: f.errors + f.non2xx,
    cpuUsPerReq: perReq(s.allMs),
    mainUsPerReq: perReq(s.mainMs),
    otherUsPerReq: perReq(s.otherMs),
    restUsPerReq: perReq(s.restMs),
    csPerReq: s.csAll / f.answered,
    csMainPerReq: s.csMain / f.answered,
    csOtherPerReq: s.csOther / f.answered,
    csRestPerReq: s.csRest / f.answered,
    voluntaryPct: s.csVoluntary * 100,
    commitsPerS,
    reqPerCommit: (f.answered / windowS) / commitsPerS,
  };
}

async function trial(target: Target): Promise<TrialFigures> {
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    const env = target.kind === 'server' ? { ...SERVER_BASE_ENV, VIBEFIXER_ACK: target.ack, VIBEFIXER_DB_PATH: join(tmp.dir, 'bench.sqlite') } : {};
    if (target.kind === 'hello') proc = await startBaseline('uws-hello');
    else if (target.build !== null) proc = await startProcess(buildMain(target.build), env);
    else proc = await startServer(env);
    const sessions = target.kind === 'hello' ? placeholderPool(settings.sessions) : await precreateSessions(proc.url, settings.sessions);
    const out: TrialFigures = {};
    // The hello-world runs no JavaScript per request: nothing to warm up.
    if (target.kind === 'server') await runPaced({ port: proc.port, sessions, ratePerS: settings.jitWarmupRate, connections: settings.connections, warmupMs: 0, measureMs: settings.jitWarmupS * 1000, window: { open() {}, close() {} } });
    for (const [k, v] of Object.entries(await idle(proc, target.kind === 'server'))) out[`idle:${k}`] = v;
    for (const rate of RATES) {
      const f = await oneRate(proc, sessions, rate, target.kind === 'server');
      for (const [k, v] of Object.entries(f)) out[`${rate}:${k}`] = v;
    }
    return out;
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}

process.stderr.write(`low-load: ${rows.length} rows × ${opts.trials} trials, rates ${RATES.join(', ')} req/s\n`);
const results = await runTrials(rows, opts.trials, (row) => trial(row.config));
const sum = new Map([...results].map(([label, trials]) => [label, byField(trials)]));

const idleTable: Table = {
  title: `idle (no request) for ${settings.measureS} s, after the warm-up`,
  columns: ['target', 'CPU ms/s (all threads)', 'ctx switches/s', 'commits/s'],
  rows: rows.map((r) => {
    const c = (k: string, d = 0) => cell(sum.get(r.label)![`idle:${k}`], d);
    return [r.label, c('cpuMsPerS', 2), c('csPerS'), r.config.kind === 'server' ? c('commitsPerS', 1) : '—'];
  }),
};
const rateTables: Table[] = RATES.map((rate) => {
  const get = (label: string, k: keyof RateFigures): Summary | undefined => sum.get(label)![`${rate}:${k}`];
  return {
    title: `${rate} req/s (open loop), ${settings.measureS} s window`,
    columns: ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'CPU ms/s (all threads)', 'ctx sw/s', 'CPU µs/req all', 'main', 'busiest other thread', 'rest', 'ctx sw/req all', 'main', 'busiest other', 'rest', 'voluntary %', 'commits/s', 'req/commit'],
    rows: rows.map((r) => {
      const c = (k: keyof RateFigures, d = 0) => cell(get(r.label, k), d);
      const server = r.config.kind === 'server';
      return [r.label, c('rps'), c('p50Ms', 2), c('p99Ms', 2), c('errors'), c('cpuMsPerS', 1), c('csPerS'), c('cpuUsPerReq'), c('mainUsPerReq'), c('otherUsPerReq'), c('restUsPerReq'), c('csPerReq', 2), c('csMainPerReq', 2), c('csOtherPerReq', 2), c('csRestPerReq', 2), c('voluntaryPct'), server ? c('commitsPerS') : '—', server ? c('reqPerCommit', 1) : '—'];
    }),
  };
});

const at = (label: string, rate: number, k: keyof RateFigures) => sum.get(label)?.[`${rate}:${k}`]?.median ?? NaN;
const hello200 = at(rows[0].label, 200, 'cpuUsPerReq');
publish({
  name: 'low-load',
  question: 'CPU, context switches and commits per request at a low fixed request rate (200 and 1,000 req/s), server ack=memory and ack=durable vs the uWS hello-world (same run).',
  header,
  tables: [idleTable, ...rateTables],
  targets: [],
  notes: [
    `At 200 req/s: hello-world ${plain(hello200)} µs/req; server memory ${plain(at('server ack=memory', 200, 'cpuUsPerReq'))} µs/req, durable ${plain(at('server ack=durable', 200, 'cpuUsPerReq'))} µs/req.`,
    'CPU = time on CPU of every thread of the target process over the measured window (/proc/<pid>/task/*/schedstat, ns-exact), divided by the answers to requests intended in the window. "main" is the main thread (uWS, game state, the write-behind queue); "busiest other thread" is, in the server, the persistence worker (one thread owns the database); "rest" is every other thread (V8 GC and compiler helpers, libuv threadpool).',
    'Context switches from /proc/<pid>/task/*/status (voluntary = the thread blocked: epoll_wait, futex; nonvoluntary = preempted). At low load every request wakes the main thread; every commit hands a task to the worker and its reply back.',
    'commits/s from vibefixer_persist_batch_size_count on /metrics, read just before the warm-up and just after the window (so it includes the warm-up); req/commit = req/s ÷ commits/s.',
    'Open loop: request n is intended at n / rate, ~1 ms timer granularity on the client, one request in flight per connection (lib/paced-mix.ts); latency is from the intended time. Each trial is one fresh process: pre-created sessions, a JIT warm-up (not measured; servers only), an idle window, then each rate, lowest first, after a short warm-up at that rate.',
    '"idle" = the fixed cost of a process that serves nothing: its timers and pollers, per second. At a rate R the per-request figures include idle ÷ R.',
  ],
  raw: Object.fromEntries(results),
});
