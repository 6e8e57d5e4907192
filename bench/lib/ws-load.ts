/**
 * WebSocket load from several client threads (ws-load-worker.ts): starts them, waits until each
 * has its sockets open and its sessions created, starts them together, and merges their counts
 * and latency histograms. Bounded: every thread stops after warm-up + duration.
 */
import { Worker } from 'node:worker_threads';
import { LatencyHistogram } from './histogram.js';
import type { WsWorkerData, WsWorkerResult } from './ws-load-worker.js';

export interface WsLoadOptions extends Omit<WsWorkerData, 'pool'> {
  threads: number;
  /** Sessions in all, split across threads. */
  pool: number;
  /** The target's CPU time counter in ms (Proc.cpuMs), sampled around the measured window. */
  targetCpuMs?: () => number;
  /** Its database server's CPU time counter in ms (BenchPostgres.cpuMs), when it uses one. */
  dbCpuMs?: () => number;
}

export interface WsFigures {
  opsPerS: number;
  p50Ms: number;
  p99Ms: number;
  answers: number;
  errors: number;
  closes: number;
  artifactsPerSession: number;
  /** CPU used during the window, in % of one core: the client threads, and the target process. */
  clientCpuPct: number;
  serverCpuPct: number;
  /** Target CPU time (all threads, /proc/<pid>/stat) per answered op over the window, µs. */
  serverUsPerOp: number;
  /** The database server's CPU (PostgreSQL, all its processes): % of one core and µs per op; NaN without one. */
  dbCpuPct: number;
  dbUsPerOp: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runWsLoad(o: WsLoadOptions): Promise<WsFigures> {
  const { threads, targetCpuMs, dbCpuMs, ...rest } = o;
  const workers = Array.from({ length: threads }, () => {
    const data: WsWorkerData = { ...rest, pool: Math.ceil(o.pool / threads) };
    return new Worker(new URL('./ws-load-worker.js', import.meta.url), { workerData: data });
  });
  const message = (w: Worker, kind: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const on = (m: Record<string, unknown>) => {
        if (m.kind === 'error') return reject(new Error(`ws client: ${String(m.message)}`));
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
    const results = workers.map((w) => message(w, 'result'));
    for (const w of workers) w.postMessage('go');
    // CPU over the measured window (the threads measure from warm-up end to warm-up + duration).
    const sample = () => ({ client: process.cpuUsage(), target: targetCpuMs?.() ?? NaN, db: dbCpuMs?.() ?? NaN });
    await sleep(o.warmupMs);
    const before = sample();
    await sleep(o.durationMs);
    const after = sample();
    const windowMs = o.durationMs;
    const all = (await Promise.all(results)).map((m) => m.result as WsWorkerResult);
    const hist = new LatencyHistogram();
    for (const r of all) hist.add(r.histogram);
    const elapsedS = Math.max(...all.map((r) => r.elapsedMs)) / 1000;
    const answers = all.reduce((s, r) => s + r.answers, 0);
    const opsPerS = answers / elapsedS;
    return {
      opsPerS,
      p50Ms: hist.percentile(50),
      p99Ms: hist.percentile(99),
      answers,
      errors: all.reduce((s, r) => s + r.errors, 0),
      closes: all.reduce((s, r) => s + r.closeCodes.length, 0),
      artifactsPerSession: all.reduce((s, r) => s + r.spawns, 0) / all.reduce((s, r) => s + r.pool, 0),
      clientCpuPct: (after.client.user + after.client.system - before.client.user - before.client.system) / 10 / windowMs,
      serverCpuPct: ((after.target - before.target) / windowMs) * 100,
      // CPU sampled over the main thread's window, ops over the threads' (the same length, started together).
      serverUsPerOp: ((after.target - before.target) * 1000) / (opsPerS * (windowMs / 1000)),
      dbCpuPct: ((after.db - before.db) / windowMs) * 100,
      dbUsPerOp: ((after.db - before.db) * 1000) / (opsPerS * (windowMs / 1000)),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
