/**
 * Question: how many sessions per second can be created (POST /api/sessions with no body, as the
 * game sends it) at 50 connections, durable and memory, compared in the same run with the
 * original write-through design (one synchronous SQLite upsert of session + stats row each)?
 */
import { join } from 'node:path';
import { collectHeader } from './lib/header.js';
import { type LoadFigures, runLoad } from './lib/http-load.js';
import { cell, ratioCell } from './lib/markdown.js';
import { createRequests } from './lib/mix.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { type Proc, SERVER_BASE_ENV, startBaseline, tempDir, withServer } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';

const opts = parseOptions();
const load = { connections: 50, warmupS: opts.quick ? 0.5 : 2, durationS: opts.quick ? 1.5 : 10 };

type Target = { kind: 'write-through' } | { kind: 'server'; ack: 'durable' | 'memory' };
const rows = [
  { label: 'write-through (original design)', config: { kind: 'write-through' } as Target },
  { label: 'server ack=durable', config: { kind: 'server', ack: 'durable' } as Target },
  { label: 'server ack=memory', config: { kind: 'server', ack: 'memory' } as Target },
];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable | memory (per row)' }, {
  ...load,
  request: 'POST /api/sessions, no body (default 60 s duration)',
});
process.stderr.write(`create: ${rows.length} rows × ${opts.trials} trials\n`);

const measure = (proc: Proc) => runLoad({ url: proc.url, requests: createRequests(null), ...load, targetCpuMs: proc.cpuMs });

const results = await runTrials(rows, opts.trials, async (row): Promise<LoadFigures> => {
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
publish({
  name: 'create',
  question: 'Session creations per second (POST /api/sessions) at 50 connections, vs the write-through design (same run).',
  header,
  tables: [
    {
      title: `POST /api/sessions, ${load.connections} connections, ${load.durationS} s per trial`,
      columns: ['target', 'creates/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'CPU % server', 'CPU % client', 'server CPU µs/create', '× write-through'],
      rows: rows.map((r) => {
        const s = sum.get(r.label)!;
        const us = byField(results.get(r.label)!.map((t) => ({ us: (t.serverCpuPct * 1e4) / t.rps }))).us;
        return [r.label, cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.non2xx), cell(s.errors), cell(s.serverCpuPct), cell(s.clientCpuPct), cell(us), ratioCell(ratio(s.rps, wt.rps))];
      }),
    },
  ],
  targets: [],
  notes: [
    'Each create generates a level (terrain answered to the client, written once to session_levels) and bumps the stats row.',
    'Client (autocannon, one thread) and server share the 2 cores; CPU % = CPU time during the window in % of one core.',
  ],
  raw: Object.fromEntries(results),
});
