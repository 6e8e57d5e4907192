/**
 * Question: what does a kill -9 under load lose? For ack=durable: acknowledged writes lost (must
 * be 0). For ack=memory: the loss window actually observed — the age, at kill time, of the oldest
 * acknowledged write that is missing after the restart — per VIBEFIXER_FLUSH_INTERVAL_MS
 * (10, 100, 1000 ms). Baseline: the configured interval (the README promises at most one
 * interval plus one commit in memory mode).
 *
 * One round = a fresh directory and server, 16 players writing (create, spawns, deposits), a
 * SIGKILL at a random instant, a restart on the same file, every acknowledged write checked.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Ack, AckClient } from './lib/ack-client.js';
import { collectHeader } from './lib/header.js';
import { cell, plain, ratioCell } from './lib/markdown.js';
import { parseOptions } from './lib/options.js';
import { publish } from './lib/result.js';
import { type Proc, SERVER_BASE_ENV, startServer, tempDir } from './lib/server.js';
import { summarize } from './lib/stats.js';

const opts = parseOptions();
const rounds = opts.quick ? 2 : 5;
const PLAYERS = 16;
const intervals = [10, 100, 1000];
/** Margin for one commit and a late event loop on 2 shared cores, as in test/crash.memory. */
const COMMIT_MARGIN_MS = 250;
const loadMs = (interval: number) => Math.max(opts.quick ? 500 : 1000, 2 * interval) + Math.floor(Math.random() * 400);

interface Round {
  acked: number;
  lost: number;
  lostByKind: Record<Ack['kind'], number>;
  /** Age at the kill of the oldest lost acknowledged write (ms); 0 when nothing was lost. */
  oldestLostMs: number;
  /** Acknowledged writes whose seq is above the restarted file's last_seq. */
  ackedAboveLastSeq: number;
  /** Lost writes whose seq the file says was committed: must be 0 (a committed write is never lost). */
  lostAtOrBelowLastSeq: number;
  unexpected: number;
  killedAfterMs: number;
}

async function round(ack: 'durable' | 'memory', interval: number): Promise<Round> {
  const tmp = tempDir();
  const env = { VIBEFIXER_DB_PATH: join(tmp.dir, 'bench.sqlite'), VIBEFIXER_ACK: ack, VIBEFIXER_FLUSH_INTERVAL_MS: String(interval) };
  let proc: Proc | null = null;
  try {
    proc = await startServer(env);
    const client = new AckClient(proc.url);
    const loading = client.load(PLAYERS);
    const killedAfterMs = loadMs(interval);
    await new Promise((r) => setTimeout(r, killedAfterMs));
    const killAt = performance.now();
    await proc.kill9();
    client.stop();
    await loading;

    proc = await startServer(env);
    const lastSeq = Number((await proc.waitForLog((l) => l.event === 'database_open')).lastSeq);
    const verdict = await client.verify(proc.url);
    const lostByKind = { create: 0, spawn: 0, deposit: 0 };
    for (const l of verdict.lost) lostByKind[l.kind]++;
    const oldest = verdict.lost.reduce((min, l) => Math.min(min, l.ackAt), Infinity);
    return {
      acked: client.acks.length,
      lost: verdict.lost.length,
      lostByKind,
      oldestLostMs: verdict.lost.length === 0 ? 0 : Math.max(0, killAt - oldest),
      ackedAboveLastSeq: client.acks.filter((a) => a.seq !== null && a.seq > lastSeq).length,
      lostAtOrBelowLastSeq: verdict.lost.filter((l) => l.seq !== null && l.seq <= lastSeq).length,
      unexpected: verdict.unexpected.length,
      killedAfterMs,
    };
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}

const configs = (['durable', 'memory'] as const).flatMap((ack) => intervals.map((interval) => ({ ack, interval })));
const header = collectHeader({ quick: opts.quick, trials: rounds }, { ...SERVER_BASE_ENV, VIBEFIXER_ACK: 'durable | memory', VIBEFIXER_FLUSH_INTERVAL_MS: intervals.join(' | '), VIBEFIXER_SQLITE_SYNCHRONOUS: 'NORMAL (default)' }, {
  rounds,
  players: PLAYERS,
  load: `max(${opts.quick ? 500 : 1000} ms, 2 × interval) + 0–400 ms, then SIGKILL`,
  writes: 'create (600 s), 4 spawns, 2 deposits per session',
});
process.stderr.write(`durability: ${configs.length} configs × ${rounds} rounds\n`);

// Interleaved like the other benches: round 1 of every config, then round 2, ...
const results = new Map<string, Round[]>(configs.map((c) => [`${c.ack}/${c.interval}`, []]));
for (let r = 1; r <= rounds; r++) {
  for (const c of configs) {
    const res = await round(c.ack, c.interval);
    results.get(`${c.ack}/${c.interval}`)!.push(res);
    process.stderr.write(`  round ${r}/${rounds} ack=${c.ack} interval=${c.interval}: acked=${res.acked} lost=${res.lost} oldestLostMs=${res.oldestLostMs.toFixed(0)} aboveLastSeq=${res.ackedAboveLastSeq} unexpected=${res.unexpected}\n`);
  }
}

const rowsOf = (list: Round[]) => ({
  acked: summarize(list.map((x) => x.acked)),
  lost: list.reduce((s, x) => s + x.lost, 0),
  maxLost: Math.max(...list.map((x) => x.lost)),
  oldest: summarize(list.map((x) => x.oldestLostMs)),
  above: summarize(list.map((x) => x.ackedAboveLastSeq)),
  bad: list.reduce((s, x) => s + x.lostAtOrBelowLastSeq + x.unexpected, 0),
  kinds: list.reduce((s, x) => `${s}${s ? ' / ' : ''}${x.lostByKind.create}c ${x.lostByKind.spawn}s ${x.lostByKind.deposit}d`, ''),
});
const table = {
  title: `kill -9 under load, ${rounds} rounds per row`,
  columns: ['ack', 'FLUSH_INTERVAL_MS', 'acked writes/round', 'lost (all rounds)', 'lost per round (create/spawn/deposit)', 'oldest lost at kill, ms', 'oldest ÷ interval', 'acked above file last_seq', 'inconsistencies'],
  rows: configs.map((c) => {
    const s = rowsOf(results.get(`${c.ack}/${c.interval}`)!);
    return [c.ack, String(c.interval), cell(s.acked), String(s.lost), s.kinds, s.lost === 0 ? '—' : cell(s.oldest), s.lost === 0 ? '—' : ratioCell(s.oldest.max / c.interval), cell(s.above), String(s.bad)];
  }),
};

const durableLost = configs.filter((c) => c.ack === 'durable').reduce((sum, c) => sum + rowsOf(results.get(`${c.ack}/${c.interval}`)!).lost, 0);
const memoryTargets = intervals.map((interval) => {
  const s = rowsOf(results.get(`memory/${interval}`)!);
  const worst = s.lost === 0 ? 0 : s.oldest.max;
  return {
    what: `memory, interval ${interval} ms: oldest lost write (max over rounds)`,
    target: `≤ interval + one commit (${interval} + ${COMMIT_MARGIN_MS} ms margin)`,
    measured: s.lost === 0 ? 'nothing lost' : plain(worst, 0, ' ms'),
    met: worst <= interval + COMMIT_MARGIN_MS,
  };
});
const inconsistencies = configs.reduce((sum, c) => sum + rowsOf(results.get(`${c.ack}/${c.interval}`)!).bad, 0);

publish({
  name: 'durability',
  question: 'Acknowledged writes lost by kill -9 under load (durable: must be 0) and the loss window observed in memory mode, per flush interval.',
  header,
  tables: [table],
  targets: [
    { what: 'durable: acknowledged writes lost (all intervals, all rounds)', target: '0', measured: String(durableLost), met: durableLost === 0 },
    ...memoryTargets,
    { what: 'lost writes the file had committed, or unexpected answers', target: '0', measured: String(inconsistencies), met: inconsistencies === 0 },
  ],
  notes: [
    '"oldest lost at kill" = kill time − answer time of the oldest acknowledged write missing after the restart (client clock, both on this machine).',
    '"acked above file last_seq" = acknowledged writes whose X-Vibefixer-Seq is above the last seq the restarted server found committed: in durable mode it must be 0; in memory mode these are the writes exposed at the kill.',
    'With synchronous=NORMAL a commit survives a process crash; power loss is not tested here.',
  ],
  raw: Object.fromEntries(results),
});
