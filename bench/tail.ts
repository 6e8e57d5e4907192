/**
 * Question: what holds the tail of durable answers under sustained load, and how much of it does
 * the WAL checkpoint explain? The http-mix in ack=durable with VIBEFIXER_CHECKPOINT_INTERVAL_MS
 * at 1000, 250, 100 (the default) and 0 (no checkpoint: the WAL grows without bound, the tail
 * without checkpoints). Baseline: the default, same run. Checkpoints run on their own thread and
 * connection beside the commits (workers/sqlite/checkpointer.ts); until then they ran on the one
 * persistence thread between commits, and every commit (and every durable answer) waited behind them.
 */
import { collectHeader } from './lib/header.js';
import { cell, ratioCell } from './lib/markdown.js';
import { type MixFigures, type MixSettings, mixOnServer } from './lib/mix-trial.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { SERVER_BASE_ENV } from './lib/server.js';
import { byField, ratio, type Summary } from './lib/stats.js';
import { runTrials } from './lib/trials.js';
import { requireWrk } from './lib/wrk.js';

const opts = parseOptions();
const wrkVersion = requireWrk();
const settings: MixSettings = { connections: 50, threads: 1, warmupS: opts.quick ? 0 : 1, durationS: opts.quick ? 2 : 8, pool: opts.quick ? 500 : 1000 };
const DEFAULT_INTERVAL = 100;
const intervals = [1000, 250, DEFAULT_INTERVAL, 0];
const label = (ms: number) => (ms === 0 ? 'no checkpoint timer (0)' : `checkpoint every ${ms} ms`);
const rows = intervals.map((ms) => ({ label: label(ms), config: ms }));

const header = collectHeader(opts, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable', VIBEFIXER_CHECKPOINT_INTERVAL_MS: intervals.join(' | ') }, {
  client: `${wrkVersion}, ${settings.threads} thread`,
  connections: settings.connections,
  warmupS: settings.warmupS,
  durationS: settings.durationS,
  sessions: settings.pool,
});
process.stderr.write(`tail: ${rows.length} rows × ${opts.trials} trials\n`);

const results = await runTrials(rows, opts.trials, (row): Promise<MixFigures> =>
  mixOnServer({ VIBEFIXER_ACK: 'durable', VIBEFIXER_CHECKPOINT_INTERVAL_MS: String(row.config) }, settings),
);
const sum = new Map([...results].map(([l, trials]) => [l, byField(trials.map((t) => ({ ...t }))) as Record<keyof MixFigures, Summary>]));
const base = sum.get(label(DEFAULT_INTERVAL))!;

publish({
  name: 'tail',
  question: 'How much of the durable http-mix tail is the WAL checkpoint? p99 against VIBEFIXER_CHECKPOINT_INTERVAL_MS (same run; × = vs the default 100 ms).',
  header,
  tables: [
    {
      title: `ack=durable http-mix at ${settings.connections} connections, ${settings.durationS} s per trial`,
      columns: ['checkpoint', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'non-2xx', 'errors', 'server CPU µs/req', '× req/s', '× p99'],
      rows: rows.map((r) => {
        const s = sum.get(r.label)!;
        return [r.label, cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.maxMs, 1), cell(s.non2xx), cell(s.errors), cell(s.serverUsPerReq, 1), ratioCell(ratio(s.rps, base.rps)), ratioCell(ratio(s.p99Ms, base.p99Ms))];
      }),
    },
  ],
  targets: [],
  notes: [
    'A PASSIVE checkpoint copies the WAL into the database and syncs it; it runs on the checkpointer thread with its own connection, beside the commits, so commits and held answers do not wait for it (they share the 2 cores and the disk with it). Past 32 MiB of WAL one RESTART checkpoint holds the commits briefly so the WAL starts again from its beginning. The interval is the shortest time between two checkpoints under load.',
    'Without a timer (0) the WAL is never reset: that row shows the tail of everything else (group commit, GC, the event loop) and is not a setting to run with.',
  ],
  raw: Object.fromEntries(results),
});
