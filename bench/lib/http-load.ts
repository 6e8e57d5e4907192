/**
 * HTTP load on 127.0.0.1 with autocannon (one client thread, keep-alive, pipelining 1), bounded
 * by time or by count. Every request goes through `setupRequest`, where it is timestamped; its
 * answer is timed and counted in `onResponse`, into our own histogram (autocannon's keeps whole
 * milliseconds). A run = a warm-up window (JIT, connection setup; discarded) then the measured one.
 */
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.js';

export type Ctx = Record<string, unknown>;
export type LoadRequest = autocannon.Request;

export interface LoadFigures {
  /** Answers per second over the measured window (any status). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  answers: number;
  non2xx: number;
  /** Connection errors and timeouts reported by autocannon. */
  errors: number;
  elapsedS: number;
  /** CPU used during the window, in % of one core: this load client, and the target process. */
  clientCpuPct: number;
  serverCpuPct: number;
}

class Recorder {
  hist = new LatencyHistogram();
  answers = 0;
  non2xx = 0;
  on = false;
}

const T0 = Symbol.for('bench.t0');
/** autocannon checks its stop flag once per sample: 100 ms keeps windows close to their length. */
const SAMPLE_MS = 100;

/** Wraps each request so it is timestamped when written and timed when answered. */
function instrument(requests: LoadRequest[], rec: Recorder): LoadRequest[] {
  return requests.map((r) => ({
    ...r,
    setupRequest(req, ctx) {
      const built = r.setupRequest ? r.setupRequest(req, ctx) : req;
      if (built) (ctx as Record<symbol, number>)[T0] = performance.now();
      return built;
    },
    onResponse(status, body, ctx, headers) {
      if (rec.on) {
        rec.answers++;
        if (status < 200 || status > 299) rec.non2xx++;
        const t0 = (ctx as Record<symbol, number>)[T0];
        if (t0 !== undefined) rec.hist.record(performance.now() - t0);
      }
      r.onResponse?.(status, body, ctx, headers);
    },
  }));
}

export interface LoadOptions {
  url: string;
  requests: LoadRequest[];
  connections: number;
  warmupS: number;
  durationS: number;
  /** The target's CPU time counter in ms (Proc.cpuMs), sampled around the measured window. */
  targetCpuMs?: () => number;
}

export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  if (o.warmupS > 0) {
    await autocannon({ url: o.url, connections: o.connections, duration: o.warmupS, sampleInt: SAMPLE_MS, requests: instrument(o.requests, new Recorder()) });
  }
  const rec = new Recorder();
  rec.on = true;
  const cpu0 = process.cpuUsage();
  const target0 = o.targetCpuMs?.() ?? NaN;
  const started = performance.now();
  const result = await autocannon({ url: o.url, connections: o.connections, duration: o.durationS, sampleInt: SAMPLE_MS, timeout: 10, requests: instrument(o.requests, rec) });
  rec.on = false;
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const targetMs = (o.targetCpuMs?.() ?? NaN) - target0;
  return {
    rps: rec.answers / elapsedS,
    p50Ms: rec.hist.percentile(50),
    p99Ms: rec.hist.percentile(99),
    answers: rec.answers,
    non2xx: rec.non2xx,
    errors: result.errors + result.timeouts,
    elapsedS,
    clientCpuPct: (cpu.user + cpu.system) / 10 / elapsedS / 1000,
    serverCpuPct: targetMs / 10 / elapsedS,
  };
}

/** Sends exactly `amount` requests (e.g. to pre-create sessions); returns the non-2xx count. */
export async function runAmount(url: string, requests: LoadRequest[], amount: number, connections: number): Promise<number> {
  let non2xx = 0;
  const counted = requests.map((r) => ({
    ...r,
    onResponse(status: number, body: string, ctx: Ctx, headers: Record<string, string>) {
      if (status < 200 || status > 299) non2xx++;
      r.onResponse?.(status, body, ctx, headers);
    },
  }));
  await autocannon({ url, connections: Math.min(connections, amount), amount, timeout: 30, requests: counted });
  return non2xx;
}
