/**
 * Question: how long does the server take to be ready, and how much memory does it hold, with
 * 10k, 100k (and in full mode 1M) persisted active sessions? Baseline: the same start with an
 * empty database, in the same run. Ready = process spawn → its `listening` log line (Node boot,
 * open, reload, listen); the server's own `reload_done.durationMs` is reported beside it, and RSS
 * is read from /proc/<pid>/status right after `listening`.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { buildDatabase, type SeedInfo } from './lib/seed-db.js';
import { type Proc, SERVER_BASE_ENV, startServer, tempDir } from './lib/server.js';
import { byField, ratio } from './lib/stats.js';
import { runTrials } from './lib/trials.js';

const opts = parseOptions();
const sizes = opts.quick ? [0, 10_000, 100_000] : [0, 10_000, 100_000, 1_000_000];
// Level rows are never read at reload; full mode writes them anyway for a realistic file size.
const withLevels = !opts.quick;

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable' }, {
  activeSessions: sizes.join(', '),
  seeding: `workers/persist handle(), 0–20 artifacts per session${withLevels ? ', with level rows' : ', without level rows (quick)'}`,
  pageCache: 'warm (each trial copies the seed file just before starting)',
});

interface ReloadFigures {
  readyMs: number;
  reloadMs: number;
  startupMs: number;
  rssMiB: number;
  reloaded: number;
}

const seeds = tempDir('vibefixer-bench-seed-');
const seedInfo = new Map<number, SeedInfo>();
try {
  for (const n of sizes) {
    if (n === 0) continue;
    process.stderr.write(`reload: seeding ${n} sessions...\n`);
    seedInfo.set(n, await buildDatabase(join(seeds.dir, `seed-${n}.sqlite`), n, { withLevels }));
  }
  const rows = sizes.map((n) => ({ label: n === 0 ? 'empty database (baseline)' : `${n.toLocaleString('en-US')} sessions`, config: n }));
  process.stderr.write(`reload: ${rows.length} rows × ${opts.trials} trials\n`);
  const results = await runTrials(rows, opts.trials, async (row): Promise<ReloadFigures> => {
    const trial = tempDir();
    let proc: Proc | null = null;
    try {
      const dbPath = join(trial.dir, 'bench.sqlite');
      const seed = join(seeds.dir, `seed-${row.config}.sqlite`);
      if (existsSync(seed)) copyFileSync(seed, dbPath);
      proc = await startServer({ VIBEFIXER_DB_PATH: dbPath }, { timeoutMs: 300_000 });
      const rssMiB = proc.rssKiB() / 1024;
      const done = await proc.waitForLog((l) => l.event === 'reload_done');
      const listening = await proc.waitForLog((l) => l.event === 'listening');
      return {
        readyMs: proc.readyAt - proc.spawnedAt,
        reloadMs: Number(done.durationMs),
        startupMs: Number(listening.startupMs),
        rssMiB,
        reloaded: Number(done.sessions),
      };
    } finally {
      await proc?.stop(60_000);
      trial.cleanup();
    }
  });

  const sum = new Map([...results].map(([label, trials]) => [label, byField(trials.map((t) => ({ ...t })))]));
  const empty = sum.get(rows[0].label)!;
  const at100k = sum.get(rows.find((r) => r.config === 100_000)!.label)!;
  const row1M = rows.find((r) => r.config === 1_000_000);
  const at1M = row1M === undefined ? null : sum.get(row1M.label)!;
  publish({
    name: 'reload',
    question: 'Time to ready and RSS with 10k, 100k (full: 1M) persisted active sessions, vs an empty database (same run).',
    header,
    tables: [
      {
        title: 'start-up with N persisted active sessions',
        columns: ['database', 'reloaded', 'ready ms (spawn → listening)', 'reload_done ms', 'server startupMs', 'RSS MiB', 'ready × empty', 'RSS − empty MiB'],
        rows: rows.map((r) => {
          const s = sum.get(r.label)!;
          return [
            r.label,
            cell(s.reloaded),
            cell(s.readyMs),
            cell(s.reloadMs),
            cell(s.startupMs),
            cell(s.rssMiB, 0),
            ratioCell(ratio(s.readyMs, empty.readyMs)),
            plain(s.rssMiB.median - empty.rssMiB.median, 0),
          ];
        }),
      },
    ],
    targets: [
      { id: 'reload-100k-ready', what: 'ready (spawn → listening) with 100k active sessions', target: '≤ 1 s', measured: plain(at100k.readyMs.median, 0, ' ms'), met: at100k.readyMs.median <= 1000 },
      { id: 'reload-100k-rss', what: 'RSS with 100k active sessions', target: '≤ 250 MiB', measured: plain(at100k.rssMiB.median, 0, ' MiB'), met: at100k.rssMiB.median <= 250 },
      {
        id: 'reload-1m-ready',
        what: 'ready (spawn → listening) with 1M active sessions',
        target: '≤ 5 s',
        measured: at1M === null ? 'not run (quick mode)' : plain(at1M.readyMs.median, 0, ' ms'),
        met: at1M === null ? null : at1M.readyMs.median <= 5000,
      },
    ],
    notes: [
      `Seed files: ${[...seedInfo.values()].map((s) => `${s.sessions.toLocaleString('en-US')} sessions = ${plain(s.bytes / 2 ** 20, 0)} MiB, built in ${plain(s.buildMs / 1000, 1)} s`).join('; ')}.`,
      '"server startupMs" is the `listening` line\'s own figure (from the start of startServer, after Node boot and module loading).',
      'The original VibeFixer backend needed 5.5 s to start with 100k active sessions (DESIGN.md, measured facts).',
    ],
    raw: { results: Object.fromEntries(results), seeds: Object.fromEntries(seedInfo) },
  });
} finally {
  seeds.cleanup();
}
