/**
 * Question: does GET /api/sessions/stats keep its rate as the number of active sessions grows
 * (0, 10k, 100k)? The original scanned every session per request (~136 req/s at 100k); here the
 * answer must not cost O(active sessions). Sessions are seeded into the database file with the
 * persistence worker's own handler, then the server reloads them at start-up.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { buildDatabase, type SeedInfo } from './lib/seed-db.js';
import { SERVER_BASE_ENV, tempDir, withServer } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';
import { requireWrk, runWrk, type WrkFigures } from './lib/wrk.js';

const opts = parseOptions();
const wrkVersion = requireWrk();
const load = { connections: 50, threads: 1, warmupS: 1, durationS: opts.quick ? 1 : 8 };
const sizes = [0, 10_000, 100_000];

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable' }, {
  client: `${wrkVersion}, ${load.threads} thread`,
  ...load,
  request: 'GET /api/sessions/stats',
  activeSessions: sizes.join(', '),
  seeding: 'database file built with workers/persist handle(): 0–20 artifacts per session',
});

// One seeded file per size for the whole run; each trial copies it into a fresh directory.
const seeds = tempDir('vibefixer-bench-seed-');
const seedInfo = new Map<number, SeedInfo>();
try {
  for (const n of sizes) {
    if (n === 0) continue;
    process.stderr.write(`stats: seeding ${n} sessions...\n`);
    seedInfo.set(n, await buildDatabase(join(seeds.dir, `seed-${n}.sqlite`), n, { withLevels: false }));
  }
  const rows = sizes.map((n) => ({ label: `${n.toLocaleString('en-US')} active sessions`, config: n }));
  process.stderr.write(`stats: ${rows.length} rows × ${opts.trials} trials\n`);
  const results = await runTrials(rows, opts.trials, async (row): Promise<WrkFigures & { reloaded: number }> => {
    const trial = tempDir();
    try {
      const dbPath = join(trial.dir, 'bench.sqlite');
      const seed = join(seeds.dir, `seed-${row.config}.sqlite`);
      if (existsSync(seed)) copyFileSync(seed, dbPath);
      return await withServer({ VIBEFIXER_DB_PATH: dbPath }, async (proc) => {
        const reloaded = Number((await proc.waitForLog((l) => l.event === 'reload_done')).sessions);
        const { sent: _sent, ...figures } = await runWrk({ url: proc.url, script: 'static', args: ['GET', '/api/sessions/stats', 'stats'], ...load, targetCpuMs: proc.cpuMs });
        return { ...figures, reloaded };
      });
    } finally {
      trial.cleanup();
    }
  });

  const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
  // Server CPU per answered request: what an O(active sessions) cost would show first.
  const usPerRequest = (label: string) => sum.get(label)!.serverUsPerReq;
  const zero = sum.get(rows[0].label)!;
  const largest = sum.get(rows[rows.length - 1].label)!;
  const largestRatio = ratio(largest.rps, zero.rps);
  publish({
    name: 'stats',
    question: 'GET /api/sessions/stats rate with 0, 10k and 100k active sessions (target: the same rate).',
    header,
    tables: [
      {
        title: `GET /api/sessions/stats, ${load.connections} connections, ${load.durationS} s per trial`,
        columns: ['active sessions', 'reloaded', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'non-2xx', 'errors', 'CPU % server', 'CPU % client (wrk)', 'server CPU µs/req', '× 0 sessions (req/s)', '× 0 sessions (µs/req)'],
        rows: rows.map((r) => {
          const s = sum.get(r.label)!;
          const us = usPerRequest(r.label);
          return [r.label, cell(s.reloaded), cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.non2xx), cell(s.errors), cell(s.serverCpuPct), cell(s.clientCpuPct), cell(us, 1), ratioCell(ratio(s.rps, zero.rps)), ratioCell(ratio(us, usPerRequest(rows[0].label)))];
        }),
      },
    ],
    targets: [
      // "The same rate" on a noisy shared machine: within 10 % of the empty server.
      { what: 'stats rate at 100k vs 0 active sessions', target: 'same rate (≥ 0.90×)', measured: ratioCell(largestRatio), met: largestRatio >= 0.9 },
    ],
    notes: [
      `Seed files: ${[...seedInfo.values()].map((s) => `${s.sessions.toLocaleString('en-US')} sessions = ${plain(s.bytes / 2 ** 20, 0)} MiB, built in ${plain(s.buildMs / 1000, 1)} s`).join('; ')}.`,
      'The original VibeFixer backend answered ~136 req/s here at 100k active sessions (DESIGN.md, measured facts).',
      `Client: wrk (${load.threads} thread, ${load.connections} connections), latency percentiles are wrk's own; its CPU column shows whether it saturated. "server CPU µs/req" (server CPU time, all threads, per completed request) is the sharper test of a per-request cost that grows with the number of sessions.`,
    ],
    raw: { results: Object.fromEntries(results), seeds: Object.fromEntries(seedInfo) },
  });
} finally {
  seeds.cleanup();
}
