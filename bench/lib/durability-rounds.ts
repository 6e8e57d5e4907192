/**
 * One round of the durability bench (bench/durability.ts), on a fresh store each time:
 *
 *   serverKillRound  16 players write, OUR server gets SIGKILL at a random instant, a new server
 *                    starts on the same SQLite file or PostgreSQL database, every acknowledged
 *                    write is checked.
 *   postgresKillRound 16 players write (ack=durable, PostgreSQL), the POSTMASTER gets SIGKILL at a
 *                    random instant and is restarted after a short outage while the players go on
 *                    (503s and all); once a write is acknowledged again the load stops, every
 *                    acknowledged write is checked on the same server (never restarted), then once
 *                    more after a clean restart of our server (what PostgreSQL really holds).
 *
 * Acknowledged = a 2xx answer (lib/ack-client.ts); a 503 is a refusal and a request whose
 * connection died is unknown: neither is counted, neither is checked.
 * Never: signal a process not started by this run (our server via lib/server.ts, the postmaster
 * via lib/postgres.ts, both by PID), or wait without a bound.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Ack, AckClient } from './ack-client.js';
import { type BenchPostgres, postgresEnv } from './postgres.js';
import { type Proc, startServer, tempDir } from './server.js';

export const PLAYERS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

export type Storage = 'sqlite' | 'postgres';

export interface ServerKillRound {
  acked: number;
  lost: number;
  lostByKind: Record<Ack['kind'], number>;
  /** Age at the kill of the oldest lost acknowledged write (ms); 0 when nothing was lost. */
  oldestLostMs: number;
  /** Acknowledged writes whose seq is above the restarted store's last_seq. */
  ackedAboveLastSeq: number;
  /** Lost writes whose seq the store says was committed: must be 0 (a committed write is never lost). */
  lostAtOrBelowLastSeq: number;
  unexpected: number;
  killedAfterMs: number;
}

const lastSeqOf = async (proc: Proc) => Number((await proc.waitForLog((l) => l.event === 'database_open')).lastSeq);

/** kill -9 of our server after `loadMs` of load; `pg` when `storage` is postgres (a fresh database). */
export async function serverKillRound(storage: Storage, ack: 'durable' | 'memory', interval: number, loadMs: number, pg: BenchPostgres): Promise<ServerKillRound> {
  const tmp = tempDir();
  const store = storage === 'postgres' ? postgresEnv(await pg.freshDatabase()) : { VIBEFIXER_DB_PATH: join(tmp.dir, 'bench.sqlite') };
  const env = { ...store, VIBEFIXER_ACK: ack, VIBEFIXER_FLUSH_INTERVAL_MS: String(interval) };
  let proc: Proc | null = null;
  try {
    proc = await startServer(env);
    const client = new AckClient(proc.url);
    const loading = client.load(PLAYERS, { maxMs: loadMs + 30_000 });
    await sleep(loadMs);
    const killAt = performance.now();
    await proc.kill9();
    client.stop();
    await loading;

    proc = await startServer(env);
    const lastSeq = await lastSeqOf(proc);
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
      unexpected: verdict.unexpected.length + client.otherAnswers.length,
      killedAfterMs: loadMs,
    };
  } finally {
    await proc?.stop();
    tmp.cleanup();
  }
}

/** Settings of the PostgreSQL-kill round (the header shows them). */
export const PG_KILL = {
  /** Short enough that writes waiting through the outage get their 503 (default 5000 would absorb it). */
  durableWaitMs: 1000,
  outageMs: [1000, 2000] as const,
  /** Bound on waiting for the first acknowledged write once PostgreSQL is back. */
  recoveryLimitMs: 20_000,
  /** Load kept on after that first write, so writes made after recovery are checked too. */
  afterRecoveryMs: 500,
  healthPollMs: 100,
};

export interface PostgresKillRound {
  acked: number;
  ackedBeforeKill: number;
  /** Acknowledged with an answer after PostgreSQL was back. */
  ackedAfterBack: number;
  /** Acknowledged writes missing on the same, still running server. */
  lostRunning: number;
  /** Acknowledged writes missing after a clean restart of our server (read back from PostgreSQL). */
  lostAfterRestart: number;
  refused503: number;
  unknown: number;
  /** SIGKILL of the postmaster → PostgreSQL accepting connections again (outage + its crash recovery). */
  downMs: number;
  /** The part of downMs spent in PostgreSQL's restart (from the restart call to accepting connections). */
  restartMs: number;
  /** PostgreSQL back → first acknowledged write; NaN when none came within the bound. */
  recoveryMs: number;
  /** PostgreSQL back → first /health with storage ok; NaN when not seen. */
  healthOkMs: number;
  healthDegraded: boolean;
  ackedAboveLastSeq: number;
  unexpected: number;
  killedAfterMs: number;
}

/** Polls /health every PG_KILL.healthPollMs until stopped (bounded in count too): what `storage` said, when. */
function watchHealth(url: string, maxPolls: number) {
  const seen: Array<{ at: number; storage: string }> = [];
  let stopped = false;
  const done = (async () => {
    for (let i = 0; i < maxPolls && !stopped; i++) {
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as { storage?: string };
        seen.push({ at: performance.now(), storage: String(body.storage) });
      } catch {
        seen.push({ at: performance.now(), storage: 'no answer' });
      }
      await sleep(PG_KILL.healthPollMs);
    }
  })();
  return {
    seen,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** kill -9 of the postmaster after `loadMs` of load; the server (ack=durable) stays up through it. */
export async function postgresKillRound(pg: BenchPostgres, interval: number, loadMs: number): Promise<PostgresKillRound> {
  const env = { ...postgresEnv(await pg.freshDatabase()), VIBEFIXER_ACK: 'durable', VIBEFIXER_FLUSH_INTERVAL_MS: String(interval), VIBEFIXER_DURABLE_WAIT_MS: String(PG_KILL.durableWaitMs) };
  const outageMs = between(...PG_KILL.outageMs);
  const loadBoundMs = loadMs + outageMs + PG_KILL.recoveryLimitMs + 60_000; // PostgreSQL's restart has its own bound
  let proc: Proc | null = null;
  let pgDown = false;
  try {
    proc = await startServer(env);
    const client = new AckClient(proc.url);
    const loading = client.load(PLAYERS, { throughRefusals: true, maxMs: loadBoundMs });
    await sleep(loadMs);
    const health = watchHealth(proc.url, Math.ceil(loadBoundMs / PG_KILL.healthPollMs));
    const killAt = performance.now();
    pgDown = true;
    await pg.kill9();
    const ackedBeforeKill = client.acks.length;
    await sleep(outageMs);
    const restartAt = performance.now();
    await pg.restart();
    pgDown = false;
    const backAt = performance.now();
    const firstAfter = () => client.acks.find((a) => a.ackAt >= backAt);
    while (firstAfter() === undefined && performance.now() - backAt < PG_KILL.recoveryLimitMs) await sleep(10);
    const first = firstAfter();
    await sleep(PG_KILL.afterRecoveryMs);
    client.stop();
    await loading;
    await health.stop();

    const running = await client.verify(proc.url);
    await proc.stop();
    proc = await startServer(env);
    const lastSeq = await lastSeqOf(proc);
    const restarted = await client.verify(proc.url);
    const healthOk = health.seen.find((h) => h.at >= backAt && h.storage === 'ok');
    return {
      acked: client.acks.length,
      ackedBeforeKill,
      ackedAfterBack: client.acks.filter((a) => a.ackAt >= backAt).length,
      lostRunning: running.lost.length,
      lostAfterRestart: restarted.lost.length,
      refused503: client.refused503.length,
      unknown: client.unknown,
      downMs: backAt - killAt,
      restartMs: backAt - restartAt,
      recoveryMs: first === undefined ? NaN : first.ackAt - backAt,
      healthOkMs: healthOk === undefined ? NaN : healthOk.at - backAt,
      healthDegraded: health.seen.some((h) => h.at >= killAt && h.storage === 'degraded'),
      ackedAboveLastSeq: client.acks.filter((a) => a.seq !== null && a.seq > lastSeq).length,
      unexpected: running.unexpected.length + restarted.unexpected.length + client.otherAnswers.length,
      killedAfterMs: loadMs,
    };
  } finally {
    await proc?.stop();
    // A failure between the kill and the restart must not leave the run without its PostgreSQL.
    if (pgDown) await pg.restart().catch(() => undefined);
  }
}
