/**
 * Question: what does a kill -9 under load lose, of our server (SQLite and PostgreSQL) and of
 * PostgreSQL itself? For ack=durable: acknowledged writes lost (must be 0). For ack=memory: the
 * loss window actually observed — the age, at kill time, of the oldest acknowledged write that is
 * missing after the restart — per VIBEFIXER_FLUSH_INTERVAL_MS (10, 100, 1000 ms). Baseline: the
 * configured interval (the README promises at most one interval plus one commit in memory mode).
 *
 * Rounds (lib/durability-rounds.ts), each on a fresh SQLite file or PostgreSQL database:
 *   kill -9 of our server   16 players writing (create, spawns, deposits), SIGKILL at a random
 *                           instant, a restart on the same store, every acknowledged write checked;
 *   kill -9 of PostgreSQL   ack=durable: the postmaster gets SIGKILL at a random instant, comes
 *                           back after 1–2 s while the players go on; every acknowledged write is
 *                           checked on the same server, then after a clean restart of it.
 * One PostgreSQL server for the whole run (lib/postgres.ts), destroyed at the end even on failure.
 */
import { cell, plain, ratioCell } from './lib/markdown.js';
import { collectHeader } from './lib/header.js';
import { parseOptions } from './lib/options.js';
import { startBenchPostgres } from './lib/postgres.js';
import { publish, type Table } from './lib/result.js';
import { SERVER_BASE_ENV } from './lib/server.js';
import { summarize } from './lib/stats.js';
import { PG_KILL, PLAYERS, postgresKillRound, type PostgresKillRound, serverKillRound, type ServerKillRound, type Storage } from './lib/durability-rounds.js';

const opts = parseOptions();
const rounds = opts.quick ? 2 : 5;
const intervals = [10, 100, 1000];
/** Margin for one commit and a late event loop on 2 shared cores, as in test/crash.memory. */
const COMMIT_MARGIN_MS = 250;
const MIN_LOAD_MS = opts.quick ? 500 : 1000;
const loadMs = (interval: number) => Math.max(MIN_LOAD_MS, 2 * interval) + Math.floor(Math.random() * 400);
/** The PostgreSQL kill: the server's default flush interval. */
const PG_KILL_INTERVAL = 100;

/** Quick mode (a smoke run, ~90 s) kills our server on PostgreSQL in durable mode at the default interval only. */
const intervalsOf: Record<Storage, number[]> = { sqlite: intervals, postgres: opts.quick ? [100] : intervals };
const acksOf: Record<Storage, Array<'durable' | 'memory'>> = { sqlite: ['durable', 'memory'], postgres: opts.quick ? ['durable'] : ['durable', 'memory'] };
const configs = (['sqlite', 'postgres'] as const).flatMap((storage) => acksOf[storage].flatMap((ack) => intervalsOf[storage].map((interval) => ({ storage, ack, interval }))));
const keyOf = (c: { storage: Storage; ack: string; interval: number }) => `${c.storage}/${c.ack}/${c.interval}`;
const header = collectHeader({ quick: opts.quick, trials: rounds }, {
  ...SERVER_BASE_ENV,
  VIBEFIXER_STORAGE: 'sqlite | postgres (per row)',
  VIBEFIXER_ACK: `durable | memory (per row${opts.quick ? '; PostgreSQL: durable' : ''})`,
  VIBEFIXER_FLUSH_INTERVAL_MS: `${intervals.join(' | ')} (PostgreSQL: ${intervalsOf.postgres.join(' | ')})`,
  VIBEFIXER_SQLITE_SYNCHRONOUS: 'NORMAL (default)',
}, {
  rounds,
  players: PLAYERS,
  load: `max(${MIN_LOAD_MS} ms, 2 × interval) + 0–400 ms, then SIGKILL`,
  writes: 'create (600 s), 4 spawns, 2 deposits per session',
  postgresKill: `ack=durable, FLUSH_INTERVAL_MS=${PG_KILL_INTERVAL}, VIBEFIXER_DURABLE_WAIT_MS=${PG_KILL.durableWaitMs}; SIGKILL of the postmaster after ${MIN_LOAD_MS}–${MIN_LOAD_MS + 400} ms of load, restarted ${PG_KILL.outageMs[0]}–${PG_KILL.outageMs[1]} ms later; load until the first acknowledged write after it is back (≤ ${PG_KILL.recoveryLimitMs / 1000} s) + ${PG_KILL.afterRecoveryMs} ms`,
});
process.stderr.write(`durability: ${configs.length} kill-our-server configs + kill-postgres, ${rounds} rounds each\n`);

const postgres = await startBenchPostgres();
header.settings.postgres = postgres.description;

// Interleaved like the other benches: round 1 of every config, then round 2, ...
const results = new Map<string, ServerKillRound[]>(configs.map((c) => [keyOf(c), []]));
const pgKills: PostgresKillRound[] = [];
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
try {
  for (let r = 1; r <= rounds; r++) {
    for (const c of configs) {
      const started = Date.now();
      const res = await serverKillRound(c.storage, c.ack, c.interval, loadMs(c.interval), postgres);
      results.get(keyOf(c))!.push(res);
      process.stderr.write(`  round ${r}/${rounds} ${c.storage} ack=${c.ack} interval=${c.interval}: acked=${res.acked} lost=${res.lost} oldestLostMs=${res.oldestLostMs.toFixed(0)} aboveLastSeq=${res.ackedAboveLastSeq} unexpected=${res.unexpected} (${seconds(started)} s)\n`);
    }
    const started = Date.now();
    const k = await postgresKillRound(postgres, PG_KILL_INTERVAL, loadMs(0));
    pgKills.push(k);
    process.stderr.write(`  round ${r}/${rounds} kill -9 of PostgreSQL: acked=${k.acked} (after back ${k.ackedAfterBack}) lost=${k.lostRunning}/${k.lostAfterRestart} 503=${k.refused503} unknown=${k.unknown} down=${k.downMs.toFixed(0)} ms (restart ${k.restartMs.toFixed(0)} ms) recovery=${k.recoveryMs.toFixed(0)} ms degraded=${k.healthDegraded} unexpected=${k.unexpected} (${seconds(started)} s)\n`);
  }
} finally {
  await postgres.destroy();
}

const rowsOf = (list: ServerKillRound[]) => ({
  acked: summarize(list.map((x) => x.acked)),
  lost: list.reduce((s, x) => s + x.lost, 0),
  oldest: summarize(list.map((x) => x.oldestLostMs)),
  above: summarize(list.map((x) => x.ackedAboveLastSeq)),
  bad: list.reduce((s, x) => s + x.lostAtOrBelowLastSeq + x.unexpected, 0),
  kinds: list.reduce((s, x) => `${s}${s ? ' / ' : ''}${x.lostByKind.create}c ${x.lostByKind.spawn}s ${x.lostByKind.deposit}d`, ''),
});
const summaryOf = (c: (typeof configs)[number]) => rowsOf(results.get(keyOf(c))!);
const serverTable: Table = {
  title: `kill -9 of our server under load, ${rounds} rounds per row`,
  columns: ['row', 'FLUSH_INTERVAL_MS', 'acked writes/round', 'lost (all rounds)', 'lost per round (create/spawn/deposit)', 'oldest lost at kill, ms', 'oldest ÷ interval', 'acked above store last_seq', 'inconsistencies'],
  rows: configs.map((c) => {
    const s = summaryOf(c);
    return [`ack=${c.ack}, ${c.storage}`, String(c.interval), cell(s.acked), String(s.lost), s.kinds, s.lost === 0 ? '—' : cell(s.oldest), s.lost === 0 ? '—' : ratioCell(s.oldest.max / c.interval), cell(s.above), String(s.bad)];
  }),
};

const pgSum = (f: (k: PostgresKillRound) => number) => summarize(pgKills.map(f));
const pgLostRunning = pgKills.reduce((s, k) => s + k.lostRunning, 0);
const pgLostRestart = pgKills.reduce((s, k) => s + k.lostAfterRestart, 0);
const pgRecovered = pgKills.filter((k) => Number.isFinite(k.recoveryMs)).length;
const pgBad = pgKills.reduce((s, k) => s + k.unexpected + k.ackedAboveLastSeq, 0);
const pgTable: Table = {
  title: `kill -9 of PostgreSQL under load (ack=durable, postgres, FLUSH_INTERVAL_MS=${PG_KILL_INTERVAL}), ${rounds} rounds`,
  columns: ['row', 'acked writes/round', 'acked after PostgreSQL back', 'lost, same server (all rounds)', 'lost after clean restart (all rounds)', '503 answers/round', 'connections lost (unknown)/round', 'PostgreSQL down, ms', 'of which its restart, ms', 'recovery: back → first acked write, ms', 'back → /health ok, ms', '/health degraded (rounds)', 'inconsistencies'],
  rows: [[
    'ack=durable, postgres',
    cell(pgSum((k) => k.acked)),
    cell(pgSum((k) => k.ackedAfterBack)),
    String(pgLostRunning),
    String(pgLostRestart),
    cell(pgSum((k) => k.refused503)),
    cell(pgSum((k) => k.unknown)),
    cell(pgSum((k) => k.downMs)),
    cell(pgSum((k) => k.restartMs)),
    cell(pgSum((k) => k.recoveryMs)),
    cell(pgSum((k) => k.healthOkMs)),
    `${pgKills.filter((k) => k.healthDegraded).length}/${pgKills.length}`,
    String(pgBad),
  ]],
};

const durableLost = (storage: Storage) => configs.filter((c) => c.storage === storage && c.ack === 'durable').reduce((sum, c) => sum + summaryOf(c).lost, 0);
const memoryTargets = configs.filter((c) => c.ack === 'memory').map((c) => {
  const s = summaryOf(c);
  const worst = s.lost === 0 ? 0 : s.oldest.max;
  return {
    what: `memory, ${c.storage}, interval ${c.interval} ms: oldest lost write (max over rounds)`,
    target: `≤ interval + one commit (${c.interval} + ${COMMIT_MARGIN_MS} ms margin)`,
    measured: s.lost === 0 ? 'nothing lost' : plain(worst, 0, ' ms'),
    met: worst <= c.interval + COMMIT_MARGIN_MS,
  };
});
const inconsistencies = configs.reduce((sum, c) => sum + summaryOf(c).bad, 0) + pgBad;
const sqliteLost = durableLost('sqlite');
const postgresLost = durableLost('postgres');

publish({
  name: 'durability',
  question: 'Acknowledged writes lost by kill -9 under load of our server (SQLite and PostgreSQL) and of PostgreSQL itself (durable: must be 0), and the loss window observed in memory mode, per flush interval.',
  header,
  tables: [serverTable, pgTable],
  targets: [
    { id: 'durability-kill-server-sqlite', what: 'kill -9 of our server on SQLite, ack=durable: acknowledged writes lost (all intervals, all rounds)', target: '0', measured: String(sqliteLost), met: sqliteLost === 0 },
    { id: 'durability-kill-server-postgres', what: 'kill -9 of our server on PostgreSQL, ack=durable: acknowledged writes lost (all intervals, all rounds)', target: '0', measured: String(postgresLost), met: postgresLost === 0 },
    { id: 'durability-kill-postgres', what: 'kill -9 of PostgreSQL, ack=durable: acknowledged writes lost (same server / after a clean restart, all rounds)', target: '0', measured: `${pgLostRunning} / ${pgLostRestart}`, met: pgLostRunning === 0 && pgLostRestart === 0 },
    { what: 'kill -9 of PostgreSQL: a write acknowledged again once it is back, without restarting our server', target: 'every round', measured: `${pgRecovered}/${pgKills.length} rounds (recovery ${cell(pgSum((k) => k.recoveryMs))} ms)`, met: pgRecovered === pgKills.length },
    ...memoryTargets,
    { what: 'lost writes the store had committed, acked writes above last_seq after the PostgreSQL kill, or unexpected answers', target: '0', measured: String(inconsistencies), met: inconsistencies === 0 },
  ],
  notes: [
    '"oldest lost at kill" = kill time − answer time of the oldest acknowledged write missing after the restart (client clock, both on this machine).',
    '"acked above store last_seq" = acknowledged writes whose X-Vibefixer-Seq is above the last seq the restarted server found committed: in durable mode it must be 0; in memory mode these are the writes exposed at the kill.',
    'With synchronous=NORMAL a commit survives a process crash; power loss is not tested here. PostgreSQL runs with fsync=on and synchronous_commit=on.',
    `kill -9 of PostgreSQL: only 2xx answers count as acknowledged. A 503 ("Change not saved in time", after VIBEFIXER_DURABLE_WAIT_MS=${PG_KILL.durableWaitMs}) is a refusal: the change stays queued and may be applied later, so it is neither counted nor checked; a request whose connection died is unknown. The players start a new session after any unacknowledged write and play on through the outage. "PostgreSQL down" runs from the SIGKILL of the postmaster to it accepting connections again: the outage, then its restart (which waits for the killed postmaster's orphaned backends to exit, then runs crash recovery); "recovery" from then to the first acknowledged answer (it includes the worker's retry backoff, VIBEFIXER_RETRY_MAX_BACKOFF_MS at its default).`,
    'Checking leaves every acknowledged write as it was (a deposited artifact is probed with status "deposited"), so the check after the clean restart sees the same writes again.',
  ],
  raw: { killServer: Object.fromEntries(results), killPostgres: pgKills },
});
