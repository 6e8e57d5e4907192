/**
 * Question: how many sessions per second can be created (POST /api/sessions with no body, as the
 * game sends it) at 50 connections, durable and memory, compared in the same run with the
 * original write-through design (one synchronous SQLite upsert of session + stats row each)?
 */
import { join } from 'node:path';
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { type Proc, SERVER_BASE_ENV, startBaseline, tempDir, withServer } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';
import { requireWrk, runWrk, type WrkFigures } from './lib/wrk.js';

const opts = parseOptions();
const wrkVersion = requireWrk();
const load = { connections: 50, threads: 1, warmupS: opts.quick ? 1 : 2, durationS: opts.quick ? 1 : 8 };

type Target = { kind: 'write-through' } | { kind: 'server'; ack: 'durable' | 'memory' };
const rows = [
  { label: 'write-through (original design)', config: { kind: 'write-through' } as Target },
  { label: 'server ack=durable', config: { kind: 'server', ack: 'durable' } as Target },
  { label: 'server ack=memory', config: { kind: 'server', ack: 'memory' } as Target },
];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable | memory (per row)' }, {
  client: `${wrkVersion}, ${load.threads} thread`,
  ...load,
  request: 'POST /api/sessions, no body (default 60 s duration)',
});
process.stderr.write(`create: ${rows.length} rows × ${opts.trials} trials\n`);

const measure = async (proc: Proc): Promise<WrkFigures> => {
  const { sent: _sent, ...figures } = await runWrk({ url: proc.url, script: 'static', args: ['POST', '/api/sessions', 'create'], ...load, targetCpuMs: proc.cpuMs });
  return figures;
};

const results = await runTrials(rows, opts.trials, async (row): Promise<WrkFigures> => {
  if (row.config.kind === 'server') return withServer({ VIBEFIXER_ACK: row.config.ack }, measure);
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    proc = await startBaseline('write-through', { VIBEFIXER_DB_PATH: join(tmp.dir, 'baseline.sqlite') });
    return await measure(proc);
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
});

const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
const wt = sum.get(rows[0].label)!;
const durable = sum.get(rows[1].label)!;
const vsWt = ratio(durable.rps, wt.rps);
const clean = results.get(rows[1].label)!.every((t) => t.non2xx === 0 && t.errors === 0);
publish({
  name: 'create',
  question: 'Session creations per second (POST /api/sessions) at 50 connections, vs the write-through design (same run).',
  header,
  tables: [
    {
      title: `POST /api/sessions, ${load.connections} connections, ${load.durationS} s per trial`,
      columns: ['target', 'creates/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'non-2xx', 'errors', 'CPU % server', 'CPU % client (wrk)', 'server CPU µs/create', '× write-through'],
      rows: rows.map((r) => {
        const s = sum.get(r.label)!;
        return [r.label, cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.maxMs, 1), cell(s.non2xx), cell(s.errors), cell(s.serverCpuPct), cell(s.clientCpuPct), cell(s.serverUsPerReq), ratioCell(ratio(s.rps, wt.rps))];
      }),
    },
  ],
  targets: [
    { id: 'create-vs-write-through', what: 'durable creates/s vs write-through', target: '≥ 3×', measured: ratioCell(vsWt), met: vsWt >= 3 && clean },
    { id: 'create-p99', what: 'durable create p99 at 50 connections', target: '≤ 10 ms', measured: plain(durable.p99Ms.median, 2, ' ms'), met: durable.p99Ms.median <= 10 && clean },
  ],
  notes: [
    'Each create generates a level (terrain answered to the client, written once to session_levels) and bumps the stats row.',
    `Client: wrk (${load.threads} thread, ${load.connections} connections) with bench/lua/static.lua; latency percentiles are wrk's own. wrk and the server share the 2 cores; CPU % = CPU time during the window in % of one core; "server CPU µs/create" = the server's CPU time (all threads) per completed create.`,
    'A target is met only if its trials also had no non-2xx answer and no socket error.',
  ],
  raw: Object.fromEntries(results),
});
