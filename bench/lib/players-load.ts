/**
 * One step of the players bench: `players` simulated players (players-worker.ts) split over
 * client threads, against one running target. Starts the threads, waits until each has its
 * connections open and its players' first sessions created, starts the clock in all of them at
 * once, samples CPU (this client process, all its threads; the target, all its threads) around
 * the measured window, and merges the threads' histograms and counts.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LatencyHistogram } from './histogram.js';
import { KINDS, type PlayersWorkerData, type PlayersWorkerResult } from './players-types.js';

export interface StepOptions extends Omit<PlayersWorkerData, 'players' | 'connections' | 'index'> {
  players: number;
  threads: number;
  /** All threads together. */
  connections: number;
  targetCpuMs: () => number;
  /** Its database server's CPU time counter in ms (BenchPostgres.cpuMs), when it uses one. */
  dbCpuMs?: () => number;
}

export interface StepFigures {
  players: number;
  /** Answers per second to requests intended inside the window. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Non-2xx answers, failed connections and requests unanswered after the grace period. */
  errors: number;
  non2xx: number;
  /** p99 of how late the client's timer ran the requests (client-side lag only). */
  clientLagP99Ms: number;
  clientCpuPct: number;
  serverCpuPct: number;
  serverUsPerReq: number;
  /** The database server's CPU (PostgreSQL, all its processes): % of one core and µs per request; NaN without one. */
  dbCpuPct: number;
  dbUsPerReq: number;
  /** Time to open connections and create the first sessions (not measured). */
  joinS: number;
  firstError: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runPlayersStep(o: StepOptions): Promise<StepFigures> {
  const { threads, players, connections, targetCpuMs, dbCpuMs, ...rest } = o;
  const joinStarted = performance.now();
  const workers = Array.from({ length: threads }, (_, index) => {
    const share = Math.floor(players / threads) + (index < players % threads ? 1 : 0);
    const data: PlayersWorkerData = { ...rest, players: share, connections: Math.max(1, Math.round(connections / threads)), index };
    return new Worker(new URL('./players-worker.js', import.meta.url), { workerData: data });
  });
  const message = (w: Worker, kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if (m.kind === 'error') return reject(new Error(`players client: ${String(m.message)}`));
        if (m.kind === kind) {
          w.off('message', on);
          resolve(m);
        }
      };
      w.on('message', on);
      w.once('error', reject);
    });
  try {
    await Promise.all(workers.map((w) => message(w, 'ready')));
    const joinS = (performance.now() - joinStarted) / 1000;
    const results = workers.map((w) => message(w, 'result'));
    const startIn = 50;
    const t0Epoch = performance.timeOrigin + performance.now() + startIn;
    for (const w of workers) w.postMessage({ t0Epoch });
    await sleep(startIn + o.settleMs);
    const cpu0 = process.cpuUsage();
    const target0 = targetCpuMs();
    const db0 = dbCpuMs?.() ?? NaN;
    const w0 = performance.now();
    await sleep(o.measureMs);
    const windowMs = performance.now() - w0;
    const cpu = process.cpuUsage(cpu0);
    const targetMs = targetCpuMs() - target0;
    const dbMs = (dbCpuMs?.() ?? NaN) - db0;
    const all = (await Promise.all(results)).map((m) => m.result as PlayersWorkerResult);
    const hist = new LatencyHistogram();
    const lag = new LatencyHistogram();
    for (const r of all) {
      hist.add(r.histogram);
      lag.add(r.lagHistogram);
    }
    const answers = all.reduce((s, r) => s + KINDS.reduce((k, kind) => k + r.answered[kind], 0), 0);
    const non2xx = all.reduce((s, r) => s + r.non2xx, 0);
    const errors = non2xx + all.reduce((s, r) => s + r.socketErrors + r.unanswered, 0);
    const rps = answers / (o.measureMs / 1000);
    return {
      players,
      rps,
      p50Ms: hist.percentile(50),
      p99Ms: hist.percentile(99),
      p999Ms: hist.percentile(99.9),
      maxMs: hist.percentile(100),
      errors,
      non2xx,
      clientLagP99Ms: lag.percentile(99),
      clientCpuPct: (cpu.user + cpu.system) / 10 / windowMs,
      serverCpuPct: (targetMs / windowMs) * 100,
      serverUsPerReq: (targetMs * 1000) / (rps * (windowMs / 1000)),
      dbCpuPct: (dbMs / windowMs) * 100,
      dbUsPerReq: (dbMs * 1000) / (rps * (windowMs / 1000)),
      joinS,
      firstError: all.find((r) => r.firstNon2xx !== null)?.firstNon2xx ?? (errors > 0 ? `${errors - non2xx} socket errors or unanswered requests` : null),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
