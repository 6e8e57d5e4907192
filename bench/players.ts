/**
 * Question: how many players can play at once, at the real game's pace, with every answer within
 * 5 ms (p99) and none failing? Our server with ack=durable and ack=memory, compared in the same
 * run with the write-through baseline (the original design), and with the uWS hello-world, which
 * measures this client's own ceiling (nothing it answers costs anything).
 *
 * One player (lib/players-worker.ts): create, a spawn every ~2 s, each artifact grounded, carried
 * and deposited over its next ~1.5–6 s, end after 60 s, a high score, then a new player in the
 * slot. OPEN-LOOP: every request has an intended send time from that schedule and its latency is
 * measured from it. Each step (1k, 2k, 5k, ... players) runs on a fresh process; a target's
 * step-up stops at its first failing step (full mode then tries one step halfway back).
 * ack=durable also on PostgreSQL (VIBEFIXER_STORAGE=postgres: one PostgreSQL server for the run,
 * a fresh database per step, its CPU in its own columns; lib/postgres.ts).
 */
import { join } from 'node:path';
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { parseOptions } from './lib/options.js';
import { postgresEnv, startBenchPostgres } from './lib/postgres.js';
import { runPlayersStep, type StepFigures } from './lib/players-load.js';
import { publish, type Table } from './lib/result.js';
import { type Proc, SERVER_BASE_ENV, startBaseline, startServer, tempDir } from './lib/server.js';
import { byField, ratio, summarize } from './lib/stats.js';
import { runTrials } from './lib/trials.js';

const argv = process.argv.slice(2);
const opts = parseOptions(argv);
// A step-up is long (up to ~9 steps of ~25 s per target): 3 trials in full mode and 1 in quick
// mode (a smoke run), unless --trials says otherwise.
const trials = argv.some((a) => a.startsWith('--trials=')) ? opts.trials : opts.quick ? 1 : 3;
const P99_LIMIT_MS = 5;
const STEPS = opts.quick ? [500, 2000] : [1000, 2000, 5000, 10_000, 20_000, 40_000, 60_000, 80_000];
/** Wall-clock budget of one target's step-up in one trial (the current step always completes). */
const BUDGET_S = opts.quick ? 20 : 420;
const game = {
  gameMs: 60_000,
  spawnEveryMs: 2000,
  settleMs: opts.quick ? 1000 : 6000,
  measureMs: opts.quick ? 1500 : 12_000,
  graceMs: 3000,
  maxDepth: 1,
  threads: 2,
};
const connectionsFor = (players: number) => Math.min(1000, Math.max(32, Math.round(players / 20)));

type Target = { kind: 'hello' } | { kind: 'write-through' } | { kind: 'server'; ack: 'durable' | 'memory'; postgres?: true };
const rows = [
  { label: 'uWS hello-world (client ceiling)', config: { kind: 'hello' } as Target },
  { label: 'write-through (original design)', config: { kind: 'write-through' } as Target },
  { label: 'server ack=durable', config: { kind: 'server', ack: 'durable' } as Target },
  { label: 'server ack=memory', config: { kind: 'server', ack: 'memory' } as Target },
  { label: 'server ack=durable, postgres', config: { kind: 'server', ack: 'durable', postgres: true } as Target },
];
const onPostgres = (t: Target) => t.kind === 'server' && t.postgres === true;

const header = collectHeader({ quick: opts.quick, trials }, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable | memory (per row)', VIBEFIXER_STORAGE: 'sqlite | postgres (per row)' }, {
  steps: STEPS.join(', '),
  pass: `p99 ≤ ${P99_LIMIT_MS} ms (from the intended send time) and no error`,
  game: `create, spawn every ${game.spawnEveryMs / 1000} s, ground/carried/deposit per artifact over ~1.5–6 s, end at ${game.gameMs / 1000} s, high score`,
  settleS: game.settleMs / 1000,
  measureS: game.measureMs / 1000,
  graceS: game.graceMs / 1000,
  client: `${game.threads} threads, keep-alive connections = players/20 (32–1000), ≤ ${game.maxDepth} pipelined each`,
});

const postgres = await startBenchPostgres();
header.settings.postgres = postgres.description;

async function step(target: Target, players: number): Promise<StepFigures> {
  const tmp = tempDir();
  let proc: Proc | null = null;
  try {
    const db = { VIBEFIXER_DB_PATH: join(tmp.dir, 'bench.sqlite') };
    if (target.kind === 'hello') proc = await startBaseline('uws-hello');
    else if (target.kind === 'write-through') proc = await startBaseline('write-through', db);
    else if (target.postgres) proc = await startServer({ ...postgresEnv(await postgres.freshDatabase()), VIBEFIXER_ACK: target.ack });
    else proc = await startServer({ ...db, VIBEFIXER_ACK: target.ack });
    const dbCpu = onPostgres(target) ? { dbCpuMs: postgres.cpuMs } : {};
    return await runPlayersStep({ ...game, players, connections: connectionsFor(players), port: proc.port, placeholder: target.kind === 'hello', targetCpuMs: proc.cpuMs, ...dbCpu });
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}

const passes = (f: StepFigures) => f.p99Ms <= P99_LIMIT_MS && f.errors === 0;
/** The client's own timer ran late enough to matter: the step says as much about the client as the target. */
const CLIENT_LAG_LIMIT_MS = 2;
const clientLimited = (f: StepFigures) => f.clientLagP99Ms > CLIENT_LAG_LIMIT_MS;

interface StepUp {
  held: number;
  steps: StepFigures[];
}

async function stepUp(target: Target, label: string): Promise<StepUp> {
  const started = Date.now();
  const steps: StepFigures[] = [];
  let held = 0;
  let failed: number | null = null;
  for (const n of STEPS) {
    if ((Date.now() - started) / 1000 > BUDGET_S) break;
    const f = await step(target, n);
    steps.push(f);
    process.stderr.write(`    ${label} ${n} players: ${plain(f.rps)} req/s, p99 ${plain(f.p99Ms, 2)} ms, errors ${f.errors}, client lag p99 ${plain(f.clientLagP99Ms, 2)} ms, CPU server ${plain(f.serverCpuPct)} % client ${plain(f.clientCpuPct)} % ${passes(f) ? 'held' : `FAILED${f.firstError ? ` (${f.firstError})` : ''}`}${clientLimited(f) ? ' [client timer lag: client-limited]' : ''}\n`);
    if (!passes(f)) {
      failed = n;
      break;
    }
    held = n;
  }
  // One step halfway between the last held and the first failed count (full mode).
  const mid = failed === null ? 0 : Math.round((held + failed) / 2 / 500) * 500;
  if (!opts.quick && failed !== null && mid > held && mid < failed) {
    const f = await step(target, mid);
    steps.push(f);
    process.stderr.write(`    ${label} ${mid} players (halfway): p99 ${plain(f.p99Ms, 2)} ms, errors ${f.errors} ${passes(f) ? 'held' : 'FAILED'}\n`);
    if (passes(f)) held = mid;
  }
  return { held, steps };
}

process.stderr.write(`players: ${rows.length} targets × ${trials} trials, steps ${STEPS.join(', ')}\n`);
const results = await runTrials(rows, trials, (row) => stepUp(row.config, row.label)).finally(() => postgres.destroy());

const heldOf = (label: string) => summarize(results.get(label)!.map((t) => t.held));
/** The step each trial held (its largest passing step), summarized across trials. */
function atHeld(label: string) {
  const at = results.get(label)!.map((t) => t.steps.find((s) => s.players === t.held)).filter((s): s is StepFigures => s !== undefined);
  return byField(at.map(({ firstError: _e, ...f }) => f));
}
const wtHeld = heldOf(rows[1].label);
const durableHeld = heldOf(rows[2].label);
const hello = heldOf(rows[0].label);

const summary: Table = {
  title: `Most concurrent players held with p99 ≤ ${P99_LIMIT_MS} ms and no error`,
  columns: ['target', 'players held', 'req/s there', 'p99 ms there', 'server CPU µs/req there', 'postgres CPU µs/req there', 'CPU % server there', 'CPU % postgres there', 'CPU % client there', 'first failing step (median p99 ms, errors)', '× write-through'],
  rows: rows.map((r) => {
    const held = heldOf(r.label);
    const at = atHeld(r.label);
    const fails = results.get(r.label)!.map((t) => t.steps.find((s) => !passes(s))).filter((s): s is StepFigures => s !== undefined);
    const fail = fails.length === 0 ? 'none (reached the last step or the budget)' : `${fails.map((f) => f.players.toLocaleString('en-US')).join(' / ')} (${plain(summarize(fails.map((f) => f.p99Ms)).median, 2)} ms, ${summarize(fails.map((f) => f.errors)).median})`;
    const db = (v: string) => (onPostgres(r.config) ? v : '—');
    return [r.label, cell(held), cell(at.rps), cell(at.p99Ms, 2), cell(at.serverUsPerReq, 1), db(cell(at.dbUsPerReq, 1)), cell(at.serverCpuPct), db(cell(at.dbCpuPct)), cell(at.clientCpuPct), fail, ratioCell(ratio(held, wtHeld))];
  }),
};

const stepRows: string[][] = [];
for (const r of rows) {
  const counts = [...new Set(results.get(r.label)!.flatMap((t) => t.steps.map((s) => s.players)))].sort((a, b) => a - b);
  for (const n of counts) {
    const at = results.get(r.label)!.flatMap((t) => t.steps.filter((s) => s.players === n));
    const s = byField(at.map(({ firstError: _e, ...f }) => f));
    const db = (v: string) => (onPostgres(r.config) ? v : '—');
    stepRows.push([r.label, n.toLocaleString('en-US'), `${at.filter(passes).length}/${at.length}`, `${at.filter(clientLimited).length}/${at.length}`, cell(s.rps), cell(s.p50Ms, 2), cell(s.p99Ms, 2), cell(s.p999Ms, 2), cell(s.maxMs, 1), cell(s.errors), cell(s.clientLagP99Ms, 2), cell(s.serverCpuPct), db(cell(s.dbCpuPct)), cell(s.clientCpuPct), cell(s.serverUsPerReq, 1), db(cell(s.dbUsPerReq, 1)), cell(s.joinS, 1)]);
  }
}
const stepsTable: Table = {
  title: `Every step: ${game.measureMs / 1000} s measured after ${game.settleMs / 1000} s of play, fresh process per step`,
  columns: ['target', 'players', 'held (trials)', 'client-limited (trials)', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'client timer lag p99 ms', 'CPU % server', 'CPU % postgres', 'CPU % client', 'server CPU µs/req', 'postgres CPU µs/req', 'join s'],
  rows: stepRows,
};

const firstErrors = [...results].flatMap(([label, ts]) => ts.flatMap((t) => t.steps.filter((s) => s.firstError !== null).map((s) => `${label}, ${s.players} players: ${s.firstError}`)));
const durableRatio = ratio(durableHeld, wtHeld);
process.stderr.write(`players: client ceiling (uWS hello) ${plain(hello.median)} players\n`);
publish({
  name: 'players',
  question: 'Most concurrent players at the real game\'s pace with p99 ≤ 5 ms and no error (open loop), durable and memory, durable also on PostgreSQL, vs write-through and the client\'s own ceiling (same run).',
  header,
  tables: [summary, stepsTable],
  targets: [
    {
      id: 'players-durable',
      what: 'concurrent players, ack=durable, p99 ≤ 5 ms, no error (ratio to write-through)',
      target: '≥ 20,000',
      measured: `${plain(durableHeld.median)} (${ratioCell(durableRatio)} write-through; client ceiling ${plain(hello.median)})`,
      met: durableHeld.median >= 20_000,
    },
  ],
  notes: [
    `Each player sends ~${plain(1 / (game.spawnEveryMs / 1000) * 4 + 3 / (game.gameMs / 1000), 2)} requests/s: a spawn every ${game.spawnEveryMs / 1000} s (the brief's pace; CONTRACT §3.6 has one coder dropping every 6 s, a second joining after ~30 s), its three status changes, and create, end and high score once per ${game.gameMs / 1000} s game. The page-load reads (stats every 10 s, high scores every 15 s) are not played.`,
    'Open loop: a request\'s latency runs from its intended send time (its place in the schedule; for a status change, no earlier than the previous step\'s answer), so time spent waiting for a free connection or behind a slow answer counts. Requests intended in the window and unanswered after the grace period count as errors and as latency.',
    'The first sessions are created before the clock starts (not measured), each entering its game at a random point, so create, end and high-score traffic is steady from the start; the settle period lets the artifact life cycles reach steady state.',
    `"client timer lag" = how late the client's 1 ms timer ran a due request: part of every latency (up to ~1 ms by design). A step whose lag p99 exceeds ${CLIENT_LAG_LIMIT_MS} ms is "client-limited": its latency says as much about the client (or a busy machine) as about the target. The uWS hello-world row is this client's ceiling: a target cannot be shown to hold more players than that row.`,
    'Client: Node worker threads with a lean HTTP/1.1 client (lib/http-pool.ts: pre-formatted request strings, keep-alive connections shared by players, one request in flight per connection: uWS closes a connection that sends a request while its previous answer is still pending, as ack=durable answers are). node:http and undici were not used: see bench/README.md for how they compared. CPU % = CPU time in the window in % of one core (client: this whole process; server: all its threads).',
    `PostgreSQL row: ${postgres.description}; each step gets a new database (the previous one dropped, then a CHECKPOINT). "CPU % postgres" and "postgres CPU µs/req" = CPU time of the postmaster and all its children (/proc/<pid>/stat, plus children reaped in the window), which share the 2 cores; on SQLite the database work is inside the server's own CPU. fsync is on: an ack=durable answer waits for the WAL flush to disk.`,
    ...(firstErrors.length > 0 ? [`First error per failing step: ${firstErrors.slice(0, 8).join('; ')}.`] : []),
  ],
  raw: Object.fromEntries(results),
});
