/**
 * HTTP load with wrk (C, epoll; `apt-get install -y wrk`): on this 2-core machine it drives the uWS
 * hello-world at ~190k req/s with one thread, where autocannon saturated at ~30k, so a bench
 * measures the server rather than its client. A run = a warm-up invocation (discarded), then the
 * measured one. The Lua scripts in bench/lua/ (common.lua first, then the bench's own) count
 * non-2xx answers and print wrk's own latency percentiles and its CPU time as one JSON line.
 * The target's CPU (all threads, /proc/<pid>/stat) is read just before and after the measured
 * invocation and divided by the requests it completed; so is its database server's, when it has
 * one (PostgreSQL: lib/postgres.ts).
 * Never runs when wrk is missing: `requireWrk` says how to install it and exits non-zero.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './build.js';
import { tempDir } from './server.js';

export const WRK_INSTALL = 'apt-get update && apt-get install -y wrk';

/** Exits with status 3 and an install hint when wrk is not on PATH. */
export function requireWrk(): string {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) {
    process.stderr.write(`This bench drives HTTP load with wrk, which is not installed (${probe.error.message}).\nInstall it with:  ${WRK_INSTALL}\n(on other systems: your package manager's "wrk", or build it from https://github.com/wg/wrk)\n`);
    process.exit(3);
  }
  // "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer": keep the name and version.
  return (probe.stdout + probe.stderr).split('\n')[0].replace(/\s*Copyright.*$/, '').trim();
}

export interface WrkFigures {
  /** Completed requests per second over the measured invocation (any status). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  requests: number;
  /** Answers outside 200–299: failures of the bench, shown in the tables. */
  non2xx: number;
  /** Socket errors (connect, read, write) and timeouts reported by wrk. */
  errors: number;
  elapsedS: number;
  /** CPU during the measured invocation, in % of one core: wrk, and the target (all threads). */
  clientCpuPct: number;
  serverCpuPct: number;
  /** Target CPU time per completed request, µs. */
  serverUsPerReq: number;
  /** The database server's CPU (PostgreSQL, all its processes) in % of one core, and per request (µs); NaN without one. */
  dbCpuPct: number;
  dbUsPerReq: number;
}

interface WrkJson {
  requests: number;
  durationUs: number;
  answers: number;
  non2xx: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  cpuTicks: number;
  sent: Record<string, number>;
}

export interface WrkOptions {
  url: string;
  /** bench/lua/<script>.lua, run after common.lua. */
  script: 'mix' | 'static';
  /** Passed to the script's init(args). */
  args: string[];
  connections: number;
  threads: number;
  /** Whole seconds (wrk's -d takes no fractions). */
  warmupS: number;
  durationS: number;
  /** The target's CPU time counter in ms (Proc.cpuMs). */
  targetCpuMs: () => number;
  /** Its database server's CPU time counter in ms (BenchPostgres.cpuMs), when it uses one. */
  dbCpuMs?: () => number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICK_MS = 10;

function scriptFile(dir: string, script: string): string {
  const file = join(dir, `${script}.lua`);
  const lua = join(ROOT, 'bench', 'lua');
  writeFileSync(file, `${readFileSync(join(lua, 'common.lua'), 'utf8')}\n${readFileSync(join(lua, `${script}.lua`), 'utf8')}`);
  return file;
}

function invoke(file: string, o: WrkOptions, seconds: number): Promise<WrkJson> {
  const argv = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${seconds}s`, '--timeout', '10s', '-s', file, o.url, '--', ...o.args];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (code !== 0 || line === undefined) return reject(new Error(`wrk ${argv.join(' ')} exited ${code}: ${err.slice(-1000)} ${out.slice(-1000)}`));
      resolve(JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson);
    });
  });
}

/** Warm-up (discarded), then the measured invocation; `sent` = requests sent per kind. */
export async function runWrk(o: WrkOptions): Promise<WrkFigures & { sent: Record<string, number> }> {
  const tmp = tempDir('vibefixer-wrk-');
  try {
    const file = scriptFile(tmp.dir, o.script);
    if (o.warmupS > 0) await invoke(file, o, o.warmupS);
    const db0 = o.dbCpuMs?.() ?? NaN;
    const cpu0 = o.targetCpuMs();
    const w = await invoke(file, o, o.durationS);
    const serverMs = o.targetCpuMs() - cpu0;
    const dbMs = (o.dbCpuMs?.() ?? NaN) - db0;
    const elapsedS = w.durationUs / 1e6;
    return {
      rps: w.requests / elapsedS,
      p50Ms: w.p50Us / 1000,
      p99Ms: w.p99Us / 1000,
      p999Ms: w.p999Us / 1000,
      maxMs: w.maxUs / 1000,
      requests: w.requests,
      non2xx: w.non2xx,
      errors: w.connectErrors + w.readErrors + w.writeErrors + w.timeouts,
      elapsedS,
      // wrk's ticks cover its whole life (start, connect, run): within a few ms of the window.
      clientCpuPct: w.cpuTicks < 0 ? NaN : (w.cpuTicks * TICK_MS) / 10 / elapsedS,
      serverCpuPct: serverMs / 10 / elapsedS,
      serverUsPerReq: (serverMs * 1000) / w.requests,
      dbCpuPct: dbMs / 10 / elapsedS,
      dbUsPerReq: (dbMs * 1000) / w.requests,
      sent: w.sent,
    };
  } finally {
    tmp.cleanup();
  }
}
